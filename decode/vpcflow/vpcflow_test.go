package vpcflow

import (
	"bufio"
	"bytes"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// lines returns the records of a fixture: its lines, or the whole file for
// JSON.
func lines(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".json") {
		return [][]byte{b}
	}
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

type result struct {
	time   time.Time
	common map[string]string
	fields map[string]string
}

// expand runs records through one decoder, as a source's records are,
// and returns the events they give.
func expand(t testing.TB, d decode.Decoder, recs [][]byte) ([]result, error) {
	t.Helper()
	dict := event.NewOpenDict()
	var out []result
	for _, rec := range recs {
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.(decode.Expander).Expand(rec, &ev, func(e *event.Event) {
			r := result{time: e.Time, common: map[string]string{}, fields: map[string]string{}}
			if e.Logsource != (event.Logsource{Product: "aws", Service: "vpcflowlogs"}) {
				t.Errorf("logsource %+v", e.Logsource)
			}
			for i, v := range e.Common {
				if v != "" {
					r.common[event.CommonName(i)] = strings.Clone(v) // values last until the next record
				}
			}
			for _, id := range e.Fields.IDs() {
				v, _ := e.Fields.Get(id)
				r.fields[dict.Name(id)] = strings.Clone(v)
			}
			out = append(out, r)
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func TestFixtures(t *testing.T) {
	type want struct {
		time   string
		common map[string]string
		fields map[string]string
	}
	tests := []struct {
		file   string
		events []want
	}{
		{"default_accept.log", []want{{"2024-05-06T08:00:00Z",
			map[string]string{"source.ip": "172.31.16.139", "destination.ip": "172.31.16.21", "source.port": "20641", "destination.port": "22",
				"network.transport": "tcp", "event.action": "allow", "event.outcome": "success", "event.category": "network",
				"cloud.provider": "aws", "cloud.account.id": "123456789010"},
			map[string]string{"interface-id": "eni-1235b8ca123456789", "bytes": "4249", "packets": "20", "log-status": "OK", "action": "ACCEPT", "end": "1714982460"}}}},
		{"default_reject_ipv6.log", []want{
			{"2024-05-06T08:01:40Z", map[string]string{"source.ip": "198.51.100.77", "destination.port": "3389", "event.action": "deny", "event.outcome": "failure"}, nil},
			{"2024-05-06T08:03:20Z", map[string]string{"source.ip": "2001:db8::7", "destination.ip": "2001:db8::1", "network.transport": "ipv6-icmp", "source.port": "0"}, nil},
		}},
		{"default_nodata.log", []want{
			{"2024-05-06T08:05:00Z", map[string]string{"cloud.account.id": "123456789010", "event.category": ""}, map[string]string{"log-status": "NODATA", "srcaddr": ""}},
			{"2024-05-06T08:06:40Z", map[string]string{"source.ip": "", "event.action": ""}, map[string]string{"log-status": "SKIPDATA"}},
		}},
		{"custom_header.log", []want{
			{"2024-05-06T09:00:00Z", map[string]string{"source.ip": "10.0.1.5", "destination.ip": "203.0.113.40", "destination.port": "443", "cloud.region": "eu-west-1",
				"cloud.account.id": "111122223333", "event.action": "allow"},
				map[string]string{"flow-direction": "egress", "tcp-flags": "19", "traffic-path": "8", "vpc-id": "vpc-0a1b2c3d", "bytes": "5060", "packets": "12"}},
			{"2024-05-06T09:01:40Z", map[string]string{"source.ip": "192.0.2.99", "destination.port": "22", "event.action": "deny"},
				map[string]string{"flow-direction": "ingress", "instance-id": "", "traffic-path": ""}},
		}},
		{"panther_shape.json", []want{{"2024-05-06T12:00:00Z",
			map[string]string{"source.ip": "203.0.113.12", "destination.ip": "10.0.0.8", "destination.port": "22", "network.transport": "tcp",
				"event.action": "allow", "cloud.account.id": "123456789012", "cloud.region": "us-east-1"},
			map[string]string{"srcaddr": "203.0.113.12", "dstport": "22", "log-status": "OK", "subnet-id": "subnet-12345678", "flow-direction": "ingress", "p_log_type": "AWS.VPCFlow"}}}},
		{"ocsf_network_activity.json", []want{{"2024-05-06T10:06:40Z",
			map[string]string{"source.ip": "198.51.100.3", "destination.port": "3389", "network.transport": "tcp", "event.action": "deny", "cloud.account.id": "444455556666", "cloud.region": "us-west-2"},
			map[string]string{"src_endpoint.ip": "198.51.100.3", "disposition": "Blocked"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := expand(t, New(), lines(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.events) {
				t.Fatalf("%d events, want %d", len(got), len(tt.events))
			}
			for i, w := range tt.events {
				wt, _ := time.Parse(time.RFC3339, w.time)
				if !got[i].time.Equal(wt) {
					t.Errorf("event %d: time %v, want %v", i, got[i].time, wt)
				}
				for k, v := range w.common {
					if got[i].common[k] != v {
						t.Errorf("event %d: %s = %q, want %q", i, k, got[i].common[k], v)
					}
				}
				for k, v := range w.fields {
					if got[i].fields[k] != v {
						t.Errorf("event %d: field %s = %q, want %q", i, k, got[i].fields[k], v)
					}
				}
			}
		})
	}
}

func TestConfiguredFields(t *testing.T) {
	d := New()
	err := d.(decode.Configurable).Configure(decode.Options{Fields: []string{"${account-id} ${action} ${srcaddr}", "dstport", "log_status"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := expand(t, d, [][]byte{[]byte("111122223333 REJECT 192.0.2.1 23 OK")})
	if err != nil {
		t.Fatal(err)
	}
	if c := got[0].common; c["source.ip"] != "192.0.2.1" || c["destination.port"] != "23" || c["event.action"] != "deny" || got[0].fields["log-status"] != "OK" {
		t.Errorf("got %+v", got[0])
	}
	// A header line overrides the configured list for the lines after it.
	got, err = expand(t, d, [][]byte{[]byte("srcaddr dstaddr action"), []byte("192.0.2.2 10.0.0.1 ACCEPT")})
	if err != nil || len(got) != 1 || got[0].common["destination.ip"] != "10.0.0.1" {
		t.Errorf("after header: %+v, %v", got, err)
	}
	for _, bad := range []string{"src addr!", "${Version}"} {
		if err := New().(decode.Configurable).Configure(decode.Options{Fields: []string{bad}}); err == nil {
			t.Errorf("field %q accepted", bad)
		}
	}
}

func TestHeaderByDecode(t *testing.T) {
	var ev event.Event
	err := New().Decode([]byte("version srcaddr dstaddr"), &ev)
	var de *decode.Error
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "header line") {
		t.Errorf("Decode(header) = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	const ok = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1714982400 1714982460 ACCEPT OK"
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{"", "", "empty record", 0},
		{"   \r", "", "empty record", 0},
		{ok + " extra", "", "has 15 fields", len(ok) + 1},
		{"2 123456789010 eni-1 172.31.16.139", "", "has 4 fields", 34},
		{strings.Replace(ok, "172.31.16.21", "172.31.16.256", 1), "dstaddr", "bad value", strings.Index(ok, "172.31.16.21")},
		{strings.Replace(ok, "20641", "70000", 1), "srcport", "bad value", strings.Index(ok, "20641")},
		{strings.Replace(ok, " 6 ", " tcp ", 1), "protocol", "bad value", strings.Index(ok, " 6 ") + 1},
		{strings.Replace(ok, "ACCEPT", "MAYBE", 1), "action", "bad value", strings.Index(ok, "ACCEPT")},
		{strings.Replace(ok, " OK", " FINE", 1), "log-status", "bad value", strings.Index(ok, " OK") + 1},
		{strings.Replace(ok, "1714982400", "17149x2400", 1), "start", "bad value", strings.Index(ok, "1714982400")},
		{strings.Replace(ok, "1714982400", "42", 1), "start", "unreadable time", -1},
		{`{"srcaddr":`, "", "invalid JSON", 10},
		{`{"start":"soon"}`, "start", "unreadable time", -1},
	} {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		err := New().(decode.Expander).Expand([]byte(tt.rec), &ev, func(*event.Event) {})
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%q: err = %v", tt.rec, err)
			continue
		}
		if de.Field != tt.field || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%q: got %v (offset %d field %q)", tt.rec, de, de.Offset, de.Field)
		}
	}
}

// TestPanther decodes every flow record of Panther's rule tests: the
// AWS.VPCFlow ones (camelCase keys) and the OCSF Network Activity ones, and
// the flow record of the multi-source set. None is malformed; srcAddr
// "null" is a placeholder that must just not become source.ip.
func TestPanther(t *testing.T) {
	var recs [][]byte
	for _, rel := range []string{"network_flow/aws_vpc/panther_rule_tests.jsonl", "cloud/multi_source_standard/panther_rule_tests.jsonl"} {
		path := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, strings.Split(rel, "/")...)...)
		f, err := os.Open(path)
		if err != nil {
			t.Skipf("shared data not available (%v)", err)
		}
		sc := bufio.NewScanner(f)
		var p fastjson.Parser
		for sc.Scan() {
			v, err := p.ParseBytes(sc.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			lt := string(v.GetStringBytes("log_type"))
			if strings.HasPrefix(rel, "network_flow") || lt == "AWS.VPCFlow" {
				recs = append(recs, v.Get("event").MarshalTo(nil))
			}
		}
		f.Close()
	}
	if len(recs) != 21 {
		t.Errorf("%d records, want 20 + 1", len(recs))
	}
	var p fastjson.Parser
	for i, rec := range recs {
		got, err := expand(t, New(), [][]byte{rec})
		if err != nil || len(got) != 1 {
			t.Errorf("record %d: %v", i+1, err)
			continue
		}
		v, _ := p.ParseBytes(rec)
		src := string(v.GetStringBytes("srcAddr"))
		if src == "" {
			src = string(v.GetStringBytes("src_endpoint", "ip"))
		}
		if src == "null" {
			src = ""
		}
		if got[0].common["source.ip"] != src {
			t.Errorf("record %d: source.ip %q, want %q", i+1, got[0].common["source.ip"], src)
		}
		port := v.Get("dstPort")
		if port == nil {
			port = v.Get("dst_endpoint", "port")
		}
		if port != nil && got[0].common["destination.port"] != port.String() {
			t.Errorf("record %d: destination.port %q, want %s", i+1, got[0].common["destination.port"], port)
		}
		if st := v.GetStringBytes("status"); st != nil && got[0].fields["log-status"] != string(st) {
			t.Errorf("record %d: log-status %q, want %q", i+1, got[0].fields["log-status"], st)
		}
		if f, _ := decode.Sniff(rec); f != Format {
			t.Errorf("record %d: sniffed as %q", i+1, f)
		}
	}
}

func TestSniff(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, file := range files {
		for _, rec := range lines(t, filepath.Base(file)) {
			if f, score := decode.Sniff(rec); f != Format {
				t.Errorf("%s: %.40q sniffed as %q (%d)", file, rec, f, score)
			}
		}
	}
	for _, rec := range []string{"Mar  3 22:14:05 host sshd[1]: x", `{"eventName":"x"}`, "2 a b c"} {
		if s := Sniff([]byte(rec)); s != 0 {
			t.Errorf("%q: score %d", rec, s)
		}
	}
}

var benchDict = event.NewDict("action", "dstport", "bytes", "interface-id", "log-status")

func allRecords(t testing.TB) [][]byte {
	var recs [][]byte
	for _, f := range []string{"default_accept.log", "default_reject_ipv6.log", "default_nodata.log", "panther_shape.json"} {
		recs = append(recs, lines(t, f)...)
	}
	return recs
}

func TestZeroAllocs(t *testing.T) {
	recs := append(allRecords(t), lines(t, "custom_header.log")[1:]...)
	recs = append(recs, lines(t, "ocsf_network_activity.json")...)
	for _, rec := range recs {
		d := New()
		if rec[0] != '{' && rec[0] == '5' { // the custom-format lines
			d.(decode.Configurable).Configure(decode.Options{Fields: strings.Fields(string(lines(t, "custom_header.log")[0]))})
		}
		var ev event.Event
		ev.Fields.Bind(benchDict)
		emit := func(*event.Event) {}
		if a := testing.AllocsPerRun(100, func() {
			ev.Reset()
			if err := d.(decode.Expander).Expand(rec, &ev, emit); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.40q: %.1f allocs per record, want 0", rec, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	recs := allRecords(b)
	d := New().(decode.Expander)
	var ev event.Event
	ev.Fields.Bind(benchDict)
	emit := func(*event.Event) {}
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := dectest.CPUTime()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := d.Expand(recs[i%len(recs)], &ev, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := dectest.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, file := range files {
		for _, rec := range lines(f, filepath.Base(file)) {
			f.Add(rec)
		}
	}
	f.Add([]byte("version ${srcaddr} account_id"))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		Sniff(rec)
		var ev event.Event
		ev.Fields.Bind(dict)
		err := d.(decode.Expander).Expand(rec, &ev, func(e *event.Event) {
			if e.Common[event.CloudProvider] != "aws" {
				t.Fatalf("common %+v", e.Common)
			}
		})
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset > len(rec) {
				t.Fatalf("offset %d beyond %d bytes", de.Offset, len(rec))
			}
		}
	})
}

func TestRegistered(t *testing.T) {
	d, err := decode.New(Format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(decode.Expander); !ok {
		t.Errorf("decode.New(%q) gave a %T, not an Expander", Format, d)
	}
}

// TestAllFieldsOfVersion decodes headerless lines that carry every field
// of their version in AWS's order (Sekoia's "custom" sample is version 5,
// 29 fields), then a default line again from the same decoder; a line of
// another length stays refused.
func TestAllFieldsOfVersion(t *testing.T) {
	const v5 = "5 424805057484 eni-1235b8ca123456789 52.95.128.179 10.0.0.71 46945 53 17 1 73 1658131186 1658131216 ACCEPT OK vpc-abcdefab012345678 subnet-aaaaaaaa012345678 - 0 IPv4 52.95.128.179 10.0.0.71 eu-west-1 euw1-az3 - - - - egress 8"
	const v2 = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1714982400 1714982460 REJECT OK"
	d := New()
	got, err := expand(t, d, [][]byte{[]byte(v5), []byte(v2)})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	if c, f := got[0].common, got[0].fields; c["source.ip"] != "52.95.128.179" || c["destination.port"] != "53" || c["network.transport"] != "udp" ||
		c["cloud.region"] != "eu-west-1" || f["flow-direction"] != "egress" || f["traffic-path"] != "8" || f["vpc-id"] != "vpc-abcdefab012345678" {
		t.Errorf("v5 line: %+v", got[0])
	}
	if c := got[1].common; c["event.action"] != "deny" || c["destination.port"] != "22" {
		t.Errorf("default line after v5: %+v", got[1])
	}
	// 29 fields that claim version 3 (21 fields) are not guessed.
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := New().Decode([]byte("3"+v5[1:]), &ev); err == nil || !strings.Contains(err.Error(), "has 29 fields") {
		t.Errorf("version 3 with 29 fields: %v", err)
	}
	// A configured list is not second-guessed.
	c := New()
	if err := c.(decode.Configurable).Configure(decode.Options{Fields: DefaultFields}); err != nil {
		t.Fatal(err)
	}
	if err := c.Decode([]byte(v5), &ev); err == nil {
		t.Error("configured default list took a 29-field line")
	}
}
