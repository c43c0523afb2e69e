package leef

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
			File: "own.log",
			Time: "2024-05-06T08:00:00.123Z",
			Common: map[string]string{
				"source.ip": "198.51.100.7", "source.port": "40022", "destination.ip": "192.0.2.10", "destination.port": "22",
				"user.name": "alice", "network.transport": "tcp", "event.code": "4625", "message": "login failed: bad=password",
			},
			Field: map[string]string{"leefVersion": "1.0", "deviceVendor": "Vigil Test", "deviceProduct": "Gateway", "deviceVersion": "2.1", "eventId": "4625", "cat": "auth", "sev": "7"},
		},
		{
			// LEEF 2.0 with ^; devTimeFormat with a quoted 'T' and XXX.
			File: "own.log", Line: 1,
			Time: "2024-05-06T08:15:30.5Z",
			Common: map[string]string{
				"host.name": "fw01", "source.ip": "203.0.113.5", "destination.ip": "10.0.0.1", "destination.port": "443", "event.action": "block",
			},
			Field: map[string]string{"policy": "a b c", "eventId": "DENY"},
		},
		{
			// Hex delimiter x09, IPv6, accountName, a zone "-0500".
			File: "own.log", Line: 2,
			Time:   "2024-05-06T14:30:00Z",
			Common: map[string]string{"host.name": "relay", "source.ip": "2001:db8::5", "url.original": "https://example.org/x?y=1", "user.name": "bob", "event.outcome": "failure"},
		},
		{
			// CyberArk's shape: empty values, a key with a leading space, '='
			// inside a value; usrName beats duser; CEST is UTC+2.
			File: "own.log", Line: 3,
			Time:   "2024-05-06T06:00:00Z",
			Common: map[string]string{"source.ip": "10.1.1.1", "user.name": "carol"},
			Field:  map[string]string{"shost": "10.1.1.1", "ExtraDetails": "Command=ls -la;User=carol;", "Action": "Logon", "duser": "dave"},
			Absent: []string{"OSUser", "dhost", " shost"},
		},
		{
			// ClearPass writes LEEF 1.0 with spaces for tabs.
			File: "own.log", Line: 4,
			Time:   "2024-05-06T11:00:02.009Z",
			Common: map[string]string{"source.ip": "192.0.2.44"},
			Field:  map[string]string{"description": "Retired a key for 10.20.30.40 Server.", "cat": "System Events", "level": "INFO", "messageId": "1-1"},
		},
		{
			// 0x7C: the pipe itself as delimiter.
			File: "own.log", Line: 5,
			Time:   "2024-05-06T07:59:59Z",
			Common: map[string]string{"source.ip": "192.0.2.1", "source.port": "5353", "destination.port": "53", "network.transport": "udp"},
		},
	}
	if n := len(dectest.Lines(t, filepath.Join("testdata", "own.log"))); n != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", n, len(tests))
	}
	dectest.CheckLines(t, New, received, event.Logsource{}, tests)
}

func TestBadInput(t *testing.T) {
	dectest.CheckBad(t, Format, New, []dectest.Bad{
		{Rec: "", Reason: "no \"LEEF:\" marker"},
		{Rec: "CEF:0|a|b|c|d|e|f|", Reason: "no \"LEEF:\" marker"},
		{Rec: "LEEF:1.0|a|b|c", Field: "deviceVersion", Reason: "five", Offset: 14},
		{Rec: "<13>May  6 08:00:00 h LEEF:x|a|b|c|d|", Field: "leefVersion", Reason: "version", Offset: 27},
		{Rec: "LEEF:2.0|a|b|c|d|xZZ|src=1.2.3.4", Field: "delimiter", Reason: "delimiter", Offset: 17},
	})
}

func TestDelimiter(t *testing.T) {
	for in, want := range map[string]byte{"": '\t', "^": '^', "x09": '\t', "0x09": '\t', `\x09`: '\t', "X5e": '^', "0x7C": '|', `\t`: '\t'} {
		if got, ok := delimiter(in); !ok || got != want {
			t.Errorf("delimiter(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"xZZ", "0x", "x0", "x123", `\0`, "ab"} {
		if got, ok := delimiter(in); ok {
			t.Errorf("delimiter(%q) = %q, want failure", in, got)
		}
	}
}

func TestConfigureLocation(t *testing.T) {
	d := New()
	if err := d.(decode.Configurable).Configure(decode.Options{Location: time.FixedZone("UTC+3", 3*3600)}); err != nil {
		t.Fatal(err)
	}
	ev, err := dectest.DecodeLine(d, "LEEF:1.0|v|p|1|1|devTime=May 06 2024 08:00:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss", received)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 5, 6, 5, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestSniff(t *testing.T) {
	for i, l := range dectest.Lines(t, filepath.Join("testdata", "own.log")) {
		if s := Sniff([]byte(l)); s < 90 {
			t.Errorf("line %d: score %d", i+1, s)
		}
	}
	for _, l := range []string{"", "LEEF:", "LEEF:1.0|a|b", "CEF:0|a|b|c|d|e|f|", "a LEEF: note | x"} {
		if s := Sniff([]byte(l)); s != 0 {
			t.Errorf("%q: score %d, want 0", l, s)
		}
	}
}

var benchDict = event.NewDict("deviceProduct", "cat", "policy", "sev", "Action")

func TestZeroAllocs(t *testing.T) {
	dectest.ZeroAllocsAt(t, New(), benchDict, dectest.LineRecords(t, "own.log"), received)
}

func BenchmarkDecode(b *testing.B) {
	dectest.BenchDecodeAt(b, New(), benchDict, dectest.LineRecords(b, "own.log"), received)
}

func FuzzDecode(f *testing.F) {
	recs := dectest.LineRecords(f, "own.log")
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte("LEEF:2.0|a|b|c|d|\\0|x=1"))
	f.Add([]byte("LEEF:9|||||devTimeFormat=''''yyyy'\tdevTime='2024"))
	dectest.Fuzz(f, New(), nil, received, func(t *testing.T, ev *event.Event) {
		if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[*Decoder](t, Format) }
