package cef

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

var received = time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)

func TestDecodeFixtures(t *testing.T) {
	tests := []dectest.Case{
		{
			File: "own.log", Time: "2024-05-06T08:00:00.123Z",
			Common: map[string]string{
				"source.ip": "198.51.100.7", "source.port": "40022", "destination.ip": "192.0.2.10", "destination.port": "22",
				"user.name": "alice", "event.action": "denied", "event.outcome": "failure", "event.code": "100", "network.transport": "tcp",
			},
			Field: map[string]string{"deviceVendor": "Vigil Test", "deviceProduct": "Gateway", "name": "Login failed", "severity": "7", "cefVersion": "0", "duser": "root", "app": "SSH"},
		},
		{
			File: "own.log", Line: 1, Time: "2024-05-06T08:00:00Z",
			Common: map[string]string{
				"host.name": "fw01", "event.code": `sig\7`, "message": "a=b c\\d line1\nline2\rend",
				"url.original": "https://example.org/a/b?q=1", "url.path": "/a/b", "http.request.method": "POST", "user_agent.original": "curl/8.5.0",
			},
			Field: map[string]string{
				"deviceProduct": "Fire|wall", "name": `Pipe | and back\slash`, "cs1": "Allow all", "Rule Name": "Allow all",
				"cn1": "42", "hits": "42", "shost": "laptop 7", "dhost": "db.internal",
			},
		},
		{
			// rt's CEST beats the header's stamp; src is IPv6; a dst that is
			// no address and a port out of range are fields only; filePath
			// beats fname; outcome=302 is no outcome.
			File: "own.log", Line: 2, Time: "2024-05-06T06:15:30.25Z",
			Common: map[string]string{
				"host.name": "relay", "user.name": "bob@example.org", "source.ip": "2001:db8::1", "file.path": "/tmp/x.bin",
				"destination.ip": "", "destination.port": "", "event.outcome": "",
			},
			Field: map[string]string{"dst": "not-an-ip", "dpt": "99999", "outcome": "302", "cefVersion": "1"},
		},
		{
			File: "own.log", Line: 3, Time: "2024-05-06T09:00:00Z",
			Common: map[string]string{"user.name": "carol", "user.domain": "CORP", "host.name": "dc01", "host.ip": "10.0.0.5"},
			Field:  map[string]string{"severity": "Low", "label": "glued=text", "cs2Label": "orphan", "deviceDirection": "0"},
			Absent: []string{"c6a1", "device_address", "orphan"},
		},
		{
			File: "sentinel_f5_asm.log", Time: "2012-09-19T13:53:33Z",
			Common: map[string]string{
				"host.name": "bigip-4.pme-ds.f5.com", "host.ip": "172.16.73.34", "source.ip": "10.4.1.101", "source.port": "52975",
				"destination.ip": "10.4.1.200", "destination.port": "80", "event.action": "blocked", "event.code": "200021069",
				"http.request.method": "GET", "url.original": "/", "url.path": "/", "user.name": "N/A",
			},
			Field: map[string]string{
				"deviceVendor": "F5", "name": `Automated client access "wget"`, "policy_name": "topaz4-web4", "attack_type": "Non-browser Client",
				"full_request":      "GET /HTTP/1.0\r\nUser-Agent: Wget/1.12 (linux-gnu)\r\nAccept: */*\r\nHost: 10.4.1.200\r\nConnection: Keep-Alive\r\n\r\n",
				"policy_apply_date": "Sep 19 2012 13:49:25",
			},
		},
		{
			// "CEF: 0|" with a space, duser="-", and "msg=lang=en".
			File: "sentinel_barracuda_waf.log", Time: "2022-08-03T10:49:35.038Z",
			Common: map[string]string{
				"source.ip": "101.173.234.143", "source.port": "48293", "destination.port": "9049", "destination.ip": "",
				"user.name": "", "event.outcome": "", "message": "lang=en", "url.original": "/pma/index.php", "host.name": "78d886bfdc-dswq7",
			},
			Field: map[string]string{"cat": "TR", "ProtocolVersion": "HTTP/1.1", "ServerTime(ms)": "0", "duser": `"-"`, "outcome": "302"},
		},
		{
			// Empty vendor and product; rt in RFC 3339 with an offset.
			File: "sentinel_fortiweb.log", Time: "2022-07-25T09:56:13Z",
			Common: map[string]string{"source.ip": "49.206.123.11", "source.port": "36381", "destination.port": "443", "event.action": "Monitor", "host.name": "syslog.fortiweb-cloud.com"},
			Field:  map[string]string{"severity": "Substantial", "appName": "My App 1", "owaspTop10": "A01:2021-Broken Access Control", "deviceEventClassId": "N/A"},
			Absent: []string{"deviceVendor", "deviceProduct"},
		},
		{
			File: "sentinel_checkpoint.log", Time: "2023-09-11T10:33:05Z",
			Common: map[string]string{"host.name": ""},
			Field:  map[string]string{"Local Address": "170.10.20.250", "Rule Name": "NetBIOS/IP TCP 137-139", "remotePort": "138", "PolicyNameLabel": "Policy Name"},
		},
	}
	dectest.CheckLines(t, New, received, event.Logsource{}, tests)
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
		for i, line := range dectest.Lines(t, f) {
			ev, err := dectest.DecodeLine(d, line, received)
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
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "no \"CEF:\" marker"},
		{Rec: "LEEF:1.0|a|b|c|d|src=1", Reason: "no \"CEF:\" marker"},
		{Rec: "CEF:x|a|b|c|d|e|f|", Field: "cefVersion", Reason: "version", Offset: 4},
		{Rec: "<13>May  6 08:00:00 h CEF:|a", Field: "cefVersion", Reason: "version", Offset: 26},
		{Rec: "CEF:0|a|b|c|d|e", Field: "name", Reason: "seven", Offset: 15},
		{Rec: `CEF:0|a|b|c|d|e|f\|`, Field: "severity", Reason: "seven", Offset: 19},
	})
}

func TestConfigureLocation(t *testing.T) {
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Location: time.FixedZone("UTC-5", -5*3600)}); err != nil {
		t.Fatal(err)
	}
	ev, err := dectest.DecodeLine(d, "CEF:0|v|p|1|1|n|1|rt=Sep 19 2012 13:53:33", received)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2012, 9, 19, 18, 53, 33, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestSniff(t *testing.T) {
	for _, f := range []string{"own.log", "sentinel_f5_asm.log", "sentinel_barracuda_waf.log", "sentinel_fortiweb.log", "sentinel_checkpoint.log"} {
		for i, l := range dectest.Lines(t, filepath.Join("testdata", f)) {
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

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocsAt(t, New(), benchDict, dectest.LineRecords(t, "*.log"), received)
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecodeAt(b, New(), benchDict, dectest.LineRecords(b, "*.log"), received)
}

func FuzzDecode(f *testing.F) {
	recs := dectest.LineRecords(f, "*.log")
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte(`CEF:0|\|\\|\\\|||||k=\`))
	f.Add([]byte("<1>Feb 29 00:00:00 h CEF:CEF:0|a|b|c|d|e|f|a= =b ==c\\=d rt=Feb 30 2024 00:00:00 XYZ cs1Label=cs1Label"))
	dectest.Fuzz(f, New(), nil, received, func(t *testing.T, ev *event.Event) {
		if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
