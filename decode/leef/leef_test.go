package leef

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
	lines := readLines(t, filepath.Join("testdata", "own.log"))
	tests := []struct {
		time   string
		common map[string]string
		fields map[string]string
		absent []string
	}{
		{
			time: "2024-05-06T08:00:00.123Z",
			common: map[string]string{
				"source.ip": "198.51.100.7", "source.port": "40022", "destination.ip": "192.0.2.10", "destination.port": "22",
				"user.name": "alice", "network.transport": "tcp", "event.code": "4625", "message": "login failed: bad=password",
			},
			fields: map[string]string{"leefVersion": "1.0", "deviceVendor": "Vigil Test", "deviceProduct": "Gateway", "deviceVersion": "2.1", "eventId": "4625", "cat": "auth", "sev": "7"},
		},
		{
			// LEEF 2.0 with ^; devTimeFormat with a quoted 'T' and XXX.
			time: "2024-05-06T08:15:30.5Z",
			common: map[string]string{
				"host.name": "fw01", "source.ip": "203.0.113.5", "destination.ip": "10.0.0.1", "destination.port": "443", "event.action": "block",
			},
			fields: map[string]string{"policy": "a b c", "eventId": "DENY"},
		},
		{
			// Hex delimiter x09, IPv6, accountName, a zone "-0500".
			time:   "2024-05-06T14:30:00Z",
			common: map[string]string{"host.name": "relay", "source.ip": "2001:db8::5", "url.original": "https://example.org/x?y=1", "user.name": "bob", "event.outcome": "failure"},
		},
		{
			// CyberArk's shape: empty values, a key with a leading space, '='
			// inside a value; usrName beats duser; CEST is UTC+2.
			time:   "2024-05-06T06:00:00Z",
			common: map[string]string{"source.ip": "10.1.1.1", "user.name": "carol"},
			fields: map[string]string{"shost": "10.1.1.1", "ExtraDetails": "Command=ls -la;User=carol;", "Action": "Logon", "duser": "dave"},
			absent: []string{"OSUser", "dhost", " shost"},
		},
		{
			// ClearPass writes LEEF 1.0 with spaces for tabs.
			time:   "2024-05-06T11:00:02.009Z",
			common: map[string]string{"source.ip": "192.0.2.44"},
			fields: map[string]string{"description": "Retired a key for 10.20.30.40 Server.", "cat": "System Events", "level": "INFO", "messageId": "1-1"},
		},
		{
			// 0x7C: the pipe itself as delimiter.
			time:   "2024-05-06T07:59:59Z",
			common: map[string]string{"source.ip": "192.0.2.1", "source.port": "5353", "destination.port": "53", "network.transport": "udp"},
		},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d fixture lines, %d expectations", len(lines), len(tests))
	}
	for i, tt := range tests {
		ev, err := decodeLine(t, New(), lines[i])
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		want, _ := time.Parse(time.RFC3339Nano, tt.time)
		if !ev.Time.Equal(want) {
			t.Errorf("line %d: time %v, want %v", i+1, ev.Time, want)
		}
		for name, w := range tt.common {
			id, _ := event.CommonID(name)
			if got := ev.Common[id]; got != w {
				t.Errorf("line %d: %s = %q, want %q", i+1, name, got, w)
			}
		}
		for name, w := range tt.fields {
			if got, _ := ev.Get(name); got != w {
				t.Errorf("line %d: field %s = %q, want %q", i+1, name, got, w)
			}
		}
		for _, name := range tt.absent {
			if id, ok := ev.Fields.Dict().ID(name); ok && ev.Fields.Has(id) {
				t.Errorf("line %d: field %q present, want absent", i+1, name)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		rec, field, reason string
		offset             int
	}{
		{"", "", "no \"LEEF:\" marker", 0},
		{"CEF:0|a|b|c|d|e|f|", "", "no \"LEEF:\" marker", 0},
		{"LEEF:1.0|a|b|c", "deviceVersion", "five", 14},
		{"<13>May  6 08:00:00 h LEEF:x|a|b|c|d|", "leefVersion", "version", 27},
		{"LEEF:2.0|a|b|c|d|xZZ|src=1.2.3.4", "delimiter", "delimiter", 17},
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
	ev, err := decodeLine(t, d, "LEEF:1.0|v|p|1|1|devTime=May 06 2024 08:00:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 5, 6, 5, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

func TestSniff(t *testing.T) {
	for i, l := range readLines(t, filepath.Join("testdata", "own.log")) {
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

func benchRecords(t testing.TB) ([][]byte, int) {
	var recs [][]byte
	size := 0
	for _, l := range readLines(t, filepath.Join("testdata", "own.log")) {
		recs = append(recs, []byte(l))
		size += len(l)
	}
	return recs, size
}

func TestZeroAllocs(t *testing.T) {
	recs, _ := benchRecords(t)
	d := New()
	var ev event.Event
	ev.Fields.Bind(benchDict)
	for _, rec := range recs {
		if a := testing.AllocsPerRun(50, func() {
			ev.Reset()
			ev.Received = received
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.60q: %.1f allocs per record, want 0", rec, a)
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
	f.Add([]byte("LEEF:2.0|a|b|c|d|\\0|x=1"))
	f.Add([]byte("LEEF:9|||||devTimeFormat=''''yyyy'\tdevTime='2024"))
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
