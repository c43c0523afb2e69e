package text

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

func TestDecodeFixtures(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{
		"kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 DST=192.0.2.10 PROTO=TCP DPT=22",
		"  leading spaces are kept\tand tabs too  ",
		"ünïcödé and invalid bytes are passed through",
		"a windows line ending",
	}
	sc := bufio.NewScanner(f)
	sc.Split(scanRawLines)
	i := 0
	for ; sc.Scan(); i++ {
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		if err := New().Decode(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("more lines than expected")
		}
		if got := ev.Common[event.Message]; got != want[i] {
			t.Errorf("line %d: message = %q, want %q", i+1, got, want[i])
		}
		if !ev.Time.IsZero() || !ev.Logsource.IsZero() || ev.Fields.Len() != 0 {
			t.Errorf("line %d: time %v, logsource %+v, %d fields: want none", i+1, ev.Time, ev.Logsource, ev.Fields.Len())
		}
	}
	if i != len(want) {
		t.Errorf("decoded %d lines, want %d", i, len(want))
	}
}

// scanRawLines splits after \n but keeps a \r, as ingest's framing does.
func scanRawLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func TestEdges(t *testing.T) {
	for rec, want := range map[string]string{"": "", "\r": "", "\r\n": "", "x\r\r": "x\r", "only\n": "only", "a\rb": "a\rb"} {
		var ev event.Event
		if err := New().Decode([]byte(rec), &ev); err != nil {
			t.Fatal(err)
		}
		if got := ev.Common[event.Message]; got != want {
			t.Errorf("Decode(%q) message = %q, want %q", rec, got, want)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	rec := []byte("Mar 14 09:00:00 host app: something happened\r")
	var ev event.Event
	d := New()
	if a := testing.AllocsPerRun(100, func() { _ = d.Decode(rec, &ev) }); a != 0 {
		t.Errorf("%.1f allocs per line, want 0", a)
	}
}

func BenchmarkDecode(b *testing.B) {
	rec := []byte("Mar 14 09:00:00 host app[123]: connection from 203.0.113.7 refused\r")
	d := New()
	var ev event.Event
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		_ = d.Decode(rec, &ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("plain line"))
	f.Add([]byte("\r\n"))
	f.Add([]byte{0xff, 0xfe, '\r'})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var ev event.Event
		if err := New().Decode(rec, &ev); err != nil {
			t.Fatal(err)
		}
		msg := ev.Common[event.Message]
		if len(msg) > len(rec) || !bytes.HasPrefix(rec, []byte(msg)) {
			t.Fatalf("message %q is not a prefix of %q", msg, rec)
		}
	})
}

func TestRegistered(t *testing.T) { dectest.Registered[Decoder](t, Format) }
