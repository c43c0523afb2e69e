package decode_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/all"
	"github.com/vigil-sec/vigil/event"
)

// sharedData is the shared folder of public sample data (licences in its
// READMEs; most of it may only be read from tests, never copied).
var sharedData = filepath.Join("..", "..", "shared", "data")

// coverage maps every record-shaped sample file to the format that
// decodes it. panther marks Panther's rule-test files, whose records are
// the `event` objects of their lines (a source sends the event, not the
// test around it); their log_type chooses the format where format is "".
var coverage = []struct {
	glob, format string
	panther      bool
}{
	{"ssh_auth/loghub_openssh/OpenSSH_2k.log", "sshd", false},
	{"ssh_auth/cowrie_honeypot/cowrie.json.*.gz", "cowrie", false},
	{"web/scanner_access_logs/*.log.gz", "accesslog", false},
	{"web/aws_waf/panther_rule_tests.jsonl", "awswaf", true},
	{"cloud/aws_cloudtrail/panther_rule_tests.jsonl", "cloudtrail", true},
	{"cloud/azure_activity/panther_rule_tests.jsonl", "azureactivity", true},
	{"cloud/azure_signin/panther_rule_tests.jsonl", "signin", true},
	{"cloud/multi_source_standard/panther_rule_tests.jsonl", "", true},
	{"cloud/aws_s3_access_otrf_honeybucket/*.csv.gz", "s3access", false},
	{"network_flow/azure_nsg/*.json", "nsgflow", false},
	{"network_flow/aws_vpc/panther_rule_tests.jsonl", "vpcflow", true},
	{"cef_leef/sentinel_raw_samples/*.txt", "cef", false},
	{"events/windows-mordor.jsonl.gz", "windows", false},
	// Log Analytics exports of the Log4Shell scenario: the Windows tables
	// (SecurityEvent, WindowsEvent) are Windows events; the Syslog rows
	// (auditd via AUOMS, Sysmon for Linux) are Syslog table rows, their
	// messages decoded by their program's decoder; VMConnection rows are
	// the VMConnection table's (vmconnection); the pcaps are no records.
	{"scenarios/otrf_log4shell/securityauditing_*.json", "windows", false},
	{"scenarios/otrf_log4shell/sysmon_*.json.gz", "windows", false},
	{"scenarios/otrf_log4shell/syslog_*.json", "azuresyslog", false},
	{"scenarios/otrf_log4shell/vminsights_vmconnection_*.json", "vmconnection", false},
}

// pantherFormats maps Panther's log types to vigil's formats.
var pantherFormats = map[string]string{
	"AWS.CloudTrail": "cloudtrail", "AWS.VPCFlow": "vpcflow", "OCSF.NetworkActivity": "vpcflow",
	"AWS.WAFWebACL": "awswaf", "Azure.MonitorActivity": "azureactivity", "Azure.Audit": "signin",
}

// malformed lists the records that are truly malformed, by file and line,
// with the reason; they must be rejected, and nothing else may be.
var malformed = map[string]string{
	// Two of Panther's CloudTrail tests write a placeholder for the
	// time: a CloudTrail record always has one, and an unreadable one is
	// refused rather than replaced by the receive time.
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:235": `eventTime "redacted"`,
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:328": `eventTime "..."`,
	// Others are cut down to the keys their rule reads: they lack keys
	// every CloudTrail record has (docs/formats.md, Required keys).
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:65":       "no eventTime",
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:241":      "no eventTime, eventSource",
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:242":      "no eventTime, eventSource",
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl:327":      "no eventTime",
	"cloud/multi_source_standard/panther_rule_tests.jsonl:5": "Panther's p_ keys only: no eventTime, eventName, eventSource",
	"cloud/multi_source_standard/panther_rule_tests.jsonl:7": "eventType alone: no eventTime, eventName, eventSource",
	// A flow record cut down to Panther's p_ keys: no address, no status.
	"cloud/multi_source_standard/panther_rule_tests.jsonl:6": "no srcaddr, dstaddr or log-status",
}

// minEvents are lower bounds of the events the files must give, so that a
// framing fault (one record for a whole file) cannot pass unnoticed:
// the counts the folders' READMEs give.
var minEvents = map[string]int{
	"ssh_auth/loghub_openssh/OpenSSH_2k.log": 2000, "events/windows-mordor.jsonl.gz": 116445,
	"cloud/aws_s3_access_otrf_honeybucket/AWS_S3_HoneyBucketLogs.csv.gz": 301,
	"cloud/aws_cloudtrail/panther_rule_tests.jsonl":                      322, "network_flow/azure_nsg/nsg_flowlog_v1_msdocs.json": 9,
}

type coverageRow struct {
	file, format              string
	records, events, rejected int
	sniffed                   int // records decode.Sniff gives the mapped format
}

func TestCoverage(t *testing.T) {
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("%s not available: sample coverage not measured", sharedData)
	}
	if testing.Short() {
		t.Skip("short: the coverage run reads 150 MB of samples")
	}
	received := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []coverageRow
	refused := map[string]bool{} // records rejected, by file:line
	for _, c := range coverage {
		files, _ := filepath.Glob(filepath.Join(sharedData, c.glob))
		if len(files) == 0 {
			t.Errorf("%s: no file", c.glob)
		}
		for _, file := range files {
			rel, _ := filepath.Rel(sharedData, file)
			rel = filepath.ToSlash(rel)
			recs, err := frame(file, c.format, c.panther)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			decs := map[string]decode.Decoder{} // one decoder a format and file, as a source has
			dict := event.NewDict("EventID")    // few fields, as a compiled rule set asks
			byFormat := map[string]*coverageRow{}
			for _, r := range recs {
				row := byFormat[r.format]
				if row == nil {
					row = &coverageRow{file: rel, format: r.format}
					byFormat[r.format] = row
				}
				row.records++
				if f, _ := decode.Sniff(r.data); f == r.format {
					row.sniffed++
				}
				d := decs[r.format]
				if d == nil {
					if d, err = decode.New(r.format); err != nil {
						t.Fatal(err)
					}
					decs[r.format] = d
				}
				var ev event.Event
				ev.Fields.Bind(dict)
				ev.ID, ev.Format, ev.Received = event.NewID(), r.format, received
				n := 0
				if x, ok := d.(decode.Expander); ok {
					err = x.Expand(r.data, &ev, func(*event.Event) { n++ })
				} else if err = d.Decode(r.data, &ev); err == nil {
					n = 1
				}
				row.events += n
				key := fmt.Sprintf("%s:%d", rel, r.line)
				if err != nil {
					row.rejected++
					refused[key] = true
					if why, ok := malformed[key]; ok {
						t.Logf("rejected as expected: %s (%s): %v", key, why, err)
					} else {
						t.Errorf("%s (%s): %v", key, r.format, err)
					}
					continue
				}
				if why, ok := malformed[key]; ok {
					t.Errorf("%s decoded, but is listed as malformed (%s)", key, why)
				}
			}
			for _, row := range byFormat {
				rows = append(rows, *row)
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].file != rows[j].file {
			return rows[i].file < rows[j].file
		}
		return rows[i].format < rows[j].format
	})
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-72s %-13s %7s %7s %8s %7s\n", "file", "format", "records", "events", "rejected", "sniffed")
	events := map[string]int{}
	for _, r := range rows {
		fmt.Fprintf(&b, "%-58s %-13s %7d %7d %8d %7d\n", r.file, r.format, r.records, r.events, r.rejected, r.sniffed)
		events[r.file] += r.events
		// No event at all means a framing fault, unless every record is
		// one of the malformed ones (checked above).
		if r.records == 0 || r.events == 0 && r.rejected < r.records {
			t.Errorf("%s: %d records, %d events", r.file, r.records, r.events)
		}
	}
	t.Log(b.String())
	for key, why := range malformed {
		if !refused[key] {
			t.Errorf("%s (%s) is listed as malformed but no such record was rejected", key, why)
		}
	}
	for f, n := range minEvents {
		if events[f] < n {
			t.Errorf("%s: %d events, want at least %d", f, events[f], n)
		}
	}
}

type framed struct {
	data   []byte
	line   int
	format string
}

// frame splits a file into records the way `vigil scan` does: through
// gzip when it starts with gzip's magic; a JSON array or a
// {"records"|"Records": […]} envelope one record an element; anything else
// one record a line, lines the format's decoder continues (decode.Joiner)
// joined to their record. Panther rule-test lines give their event.
func frame(file, format string, panther bool) ([]framed, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<20)
	var in io.Reader = br
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		in = zr
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	if recs, ok := splitDocument(data, format); ok {
		return recs, nil
	}
	var out []framed
	join := decode.JoinerFor(format)
	for i, l := range bytes.Split(data, []byte{'\n'}) {
		l = bytes.TrimRight(l, "\r")
		if n := len(out); n > 0 && join != nil && len(l) > 0 && join.Continues(out[n-1].data, l) {
			out[n-1].data = append(append(out[n-1].data, '\n'), l...)
			continue
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		r := framed{data: l, line: i + 1, format: format}
		if panther {
			var p struct {
				LogType string          `json:"log_type"`
				Event   json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal(l, &p); err != nil {
				return nil, fmt.Errorf("line %d: %v", i+1, err)
			}
			r.data = p.Event
			if r.format == "" {
				if r.format = pantherFormats[p.LogType]; r.format == "" {
					return nil, fmt.Errorf("line %d: no format for Panther log type %q", i+1, p.LogType)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// splitDocument splits a whole-file JSON array or records envelope by
// element, as cmd/vigil's readRecords does; false for anything else.
func splitDocument(data []byte, format string) ([]framed, bool) {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) == 0 || (t[0] != '[' && !bytes.HasPrefix(bytes.TrimLeft(t[1:], " \t\r\n"), []byte(`"records"`)) && !bytes.HasPrefix(bytes.TrimLeft(t[1:], " \t\r\n"), []byte(`"Records"`))) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, false
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		if _, err := dec.Token(); err != nil { // the records key
			return nil, false
		}
		if tok, err = dec.Token(); err != nil {
			return nil, false
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, false
	}
	var out []framed
	for dec.More() {
		off := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, false
		}
		out = append(out, framed{data: buf.Bytes(), line: 1 + bytes.Count(data[:off], []byte{'\n'}), format: format})
	}
	return out, true
}
