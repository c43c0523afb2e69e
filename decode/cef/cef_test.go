package cef

import (
	"bufio"
	"errors"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

var received = time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s not available (%v)", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

func decodeLine(t testing.TB, d decode.Decoder, line string) (*event.Event, error) {
	var ev event.Event
	ev.Received = received
	ev.Fields.Bind(event.NewOpenDict())
	err := d.Decode([]byte(line), &ev)
	return &ev, err
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file   string
		line   int
		time   string
		common map[string]string
		fields map[string]string
		absent []string
	}{
		{
			file: "own.log", line: 0, time: "2024-05-06T08:00:00.123Z",
			common: map[string]string{
				"source.ip": "198.51.100.7", "source.port": "40022", "destination.ip": "192.0.2.10", "destination.port": "22",
				"user.name": "alice", "event.action": "denied", "event.outcome": "failure", "event.code": "100", "network.transport": "tcp",
			},
			fields: map[string]string{"deviceVendor": "Vigil Test", "deviceProduct": "Gateway", "name": "Login failed", "severity": "7", "cefVersion": "0", "duser": "root", "app": "SSH"},
		},
		{
			file: "own.log", line: 1, time: "2024-05-06T08:00:00Z",
			common: map[string]string{
				"host.name": "fw01", "event.code": `sig\7`, "message": "a=b c\\d line1\nline2\rend",
				"url.original": "https://example.org/a/b?q=1", "url.path": "/a/b", "http.request.method": "POST", "user_agent.original": "curl/8.5.0",
			},
			fields: map[string]string{
				"deviceProduct": "Fire|wall", "name": `Pipe | and back\slash`, "cs1": "Allow all", "Rule Name": "Allow all",
				"cn1": "42", "hits": "42", "shost": "laptop 7", "dhost": "db.internal",
			},
		},
		{
			// rt's CEST beats the header's stamp; src is IPv6; a dst that is
			// no address and a port out of range are fields only; filePath
			// beats fname; outcome=302 is no outcome.
			file: "own.log", line: 2, time: "2024-05-06T06:15:30.25Z",
			common: map[string]string{
				"host.name": "relay", "user.name": "bob@example.org", "source.ip": "2001:db8::1", "file.path": "/tmp/x.bin",
				"destination.ip": "", "destination.port": "", "event.outcome": "",
			},
			fields: map[string]string{"dst": "not-an-ip", "dpt": "99999", "outcome": "302", "cefVersion": "1"},
		},
		{
			file: "own.log", line: 3, time: "2024-05-06T09:00:00Z",
			common: map[string]string{"user.name": "carol", "user.domain": "CORP", "host.name": "dc01", "host.ip": "10.0.0.5"},
			fields: map[string]string{"severity": "Low", "label": "glued=text", "cs2Label": "orphan", "deviceDirection": "0"},
			absent: []string{"c6a1", "device_address", "orphan"},
		},
		{
			file: "sentinel_f5_asm.log", line: 0, time: "2012-09-19T13:53:33Z",
			common: map[string]string{
				"host.name": "bigip-4.pme-ds.f5.com", "host.ip": "172.16.73.34", "source.ip": "10.4.1.101", "source.port": "52975",
				"destination.ip": "10.4.1.200", "destination.port": "80", "event.action": "blocked", "event.code": "200021069",
				"http.request.method": "GET", "url.original": "/", "url.path": "/", "user.name": "N/A",
			},
			fields: map[string]string{
				"deviceVendor": "F5", "name": `Automated client access "wget"`, "policy_name": "topaz4-web4", "attack_type": "Non-browser Client",
				"full_request":      "GET /HTTP/1.0\r\nUser-Agent: Wget/1.12 (linux-gnu)\r\nAccept: */*\r\nHost: 10.4.1.200\r\nConnection: Keep-Alive\r\n\r\n",
				"policy_apply_date": "Sep 19 2012 13:49:25",
			},
		},
		{
			// "CEF: 0|" with a space, duser="-", and "msg=lang=en".
			file: "sentinel_barracuda_waf.log", line: 0, time: "2022-08-03T10:49:35.038Z",
			common: map[string]string{
				"source.ip": "101.173.234.143", "source.port": "48293", "destination.port": "9049", "destination.ip": "",
				"user.name": "", "event.outcome": "", "message": "lang=en", "url.original": "/pma/index.php", "host.name": "78d886bfdc-dswq7",
			},
			fields: map[string]string{"cat": "TR", "ProtocolVersion": "HTTP/1.1", "ServerTime(ms)": "0", "duser": `"-"`, "outcome": "302"},
		},
		{
			// Empty vendor and product; rt in RFC 3339 with an offset.
			file: "sentinel_fortiweb.log", line: 0, time: "2022-07-25T09:56:13Z",
			common: map[string]string{"source.ip": "49.206.123.11", "source.port": "36381", "destination.port": "443", "event.action": "Monitor", "host.name": "syslog.fortiweb-cloud.com"},
			fields: map[string]string{"severity": "Substantial", "appName": "My App 1", "owaspTop10": "A01:2021-Broken Access Control", "deviceEventClassId": "N/A"},
			absent: []string{"deviceVendor", "deviceProduct"},
		},
		{
			file: "sentinel_checkpoint.log", line: 0, time: "2023-09-11T10:33:05Z",
			common: map[string]string{"host.name": ""},
			fields: map[string]string{"Local Address": "170.10.20.250", "Rule Name": "NetBIOS/IP TCP 137-139", "remotePort": "138", "PolicyNameLabel": "Policy Name"},
		},
	}
	for _, tt := range tests {
		lines := readLines(t, filepath.Join("testdata", tt.file))
		ev, err := decodeLine(t, New(), lines[tt.line])
		if err != nil {
			t.Errorf("%s:%d: %v", tt.file, tt.line+1, err)
			continue
		}
		want, _ := time.Parse(time.RFC3339Nano, tt.time)
		if !ev.Time.Equal(want) {
			t.Errorf("%s:%d: time %v, want %v", tt.file, tt.line+1, ev.Time, want)
		}
		for name, w := range tt.common {
			id, ok := event.CommonID(name)
			if !ok {
				t.Fatalf("no common field %s", name)
			}
			if got := ev.Common[id]; got != w {
				t.Errorf("%s:%d: %s = %q, want %q", tt.file, tt.line+1, name, got, w)
			}
		}
		for name, w := range tt.fields {
			if got, _ := ev.Get(name); got != w {
				t.Errorf("%s:%d: field %s = %q, want %q", tt.file, tt.line+1, name, got, w)
			}
		}
		for _, name := range tt.absent {
			if id, ok := ev.Fields.Dict().ID(name); ok && ev.Fields.Has(id) {
				t.Errorf("%s:%d: field %s present, want absent", tt.file, tt.line+1, name)
			}
		}
	}
}

// TestSentinelSamples decodes every line of the MIT-licensed Sentinel
// samples in shared/data (a superset of testdata's copies).
func TestSentinelSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "cef_leef", "sentinel_raw_samples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) == 0 {
		t.Skipf("%s not available", dir)
	}
	d := New()
	n := 0
	for _, f := range files {
		for i, line := range readLines(t, f) {
			ev, err := decodeLine(t, d, line)
			if err != nil {
				t.Errorf("%s:%d: %v", filepath.Base(f), i+1, err)
				continue
			}
			n++
			if ev.Time.IsZero() || ev.Common[event.SourceIP] == "" && ev.Fields.Len() < 10 {
				t.Errorf("%s:%d: time %v, source.ip %q, %d fields", filepath.Base(f), i+1, ev.Time, ev.Common[event.SourceIP], ev.Fields.Len())
			}
		}
	}
	t.Logf("%d records decoded", n)
}

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{"", "", "no \"CEF:\" marker", 0},
		{"LEEF:1.0|a|b|c|d|src=1", "", "no \"CEF:\" marker", 0},
		{"CEF:x|a|b|c|d|e|f|", "cefVersion", "version", 4},
		{"<13>May  6 08:00:00 h CEF:|a", "cefVersion", "version", 26},
		{"CEF:0|a|b|c|d|e", "name", "seven", 15},
		{`CEF:0|a|b|c|d|e|f\|`, "severity", "seven", 19},
	} {
		_, err := decodeLine(t, New(), tt.rec)
		var de *decode.Error
		if !errors.As(err, &de) {
			t.Errorf("%q: err = %v, want *decode.Error", tt.rec, err)
			continue
		}
		if de.Offset != tt.offset || de.Field != tt.field || !strings.Contains(de.Reason, tt.reason) || de.Format != Format {
			t.Errorf("%q: got %v (offset %d field %q), want offset %d field %q reason ~%q", tt.rec, de, de.Offset, de.Field, tt.offset, tt.field, tt.reason)
		}
	}
}

func TestConfigureLocation(t *testing.T) {
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Location: time.FixedZone("UTC-5", -5*3600)}); err != nil {
		t.Fatal(err)
	}
	ev, err := decodeLine(t, d, "CEF:0|v|p|1|1|n|1|rt=Sep 19 2012 13:53:33")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2012, 9, 19, 18, 53, 33, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestSniff(t *testing.T) {
	for _, f := range []string{"own.log", "sentinel_f5_asm.log", "sentinel_barracuda_waf.log", "sentinel_fortiweb.log", "sentinel_checkpoint.log"} {
		for i, l := range readLines(t, filepath.Join("testdata", f)) {
			if s := Sniff([]byte(l)); s < 90 {
				t.Errorf("%s:%d: score %d", f, i+1, s)
			}
		}
	}
	for _, l := range []string{"", "CEF:", "CEF:0|a|b", "LEEF:1.0|a|b|c|d|", "a CEF: line of prose | with | pipes"} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: score %d, want 0", l, s)
		}
	}
}

var benchDict = event.NewDict("deviceProduct", "act", "request", "policy_name", "cs1", "msg")

func benchRecords(t testing.TB) ([][]byte, int) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	var recs [][]byte
	size := 0
	for _, f := range files {
		for _, l := range readLines(t, f) {
			recs = append(recs, []byte(l))
			size += len(l)
		}
	}
	return recs, size
}

func TestZeroAllocs(t *testing.T) {
	recs, _ := benchRecords(t)
	d := New()
	var ev event.Event
	ev.Received = received
	ev.Fields.Bind(benchDict)
	for _, rec := range recs {
		if a := testing.AllocsPerRun(50, func() {
			ev.Reset()
			ev.Received = received
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.60s: %.1f allocs per record, want 0", rec, a)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	recs, size := benchRecords(b)
	d := New()
	var ev event.Event
	ev.Fields.Bind(benchDict)
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := dectest.CPUTime()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		ev.Received = received
		if err := d.Decode(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := dectest.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

func FuzzDecode(f *testing.F) {
	recs, _ := benchRecords(f)
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte(`CEF:0|\|\\|\\\|||||k=\`))
	f.Add([]byte("<1>Feb 29 00:00:00 h CEF:CEF:0|a|b|c|d|e|f|a= =b ==c\\=d rt=Feb 30 2024 00:00:00 XYZ cs1Label=cs1Label"))
	d := New()
	dict := event.NewOpenDict()
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		ev.Received = received
		ev.Fields.Bind(dict)
		if err := d.Decode(rec, &ev); err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *decode.Error", err)
			}
			if de.Offset < 0 || de.Offset > len(rec) {
				t.Fatalf("offset %d outside the record of %d bytes", de.Offset, len(rec))
			}
			return
		}
		if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) {
	d, err := decode.New(Format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(*Decoder); !ok {
		t.Errorf("decode.New(%q) gave a %T", Format, d)
	}
}
