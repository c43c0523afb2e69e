package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// frames runs a framer over data and returns the messages and rejections.
func frames(data []byte, max int) (msgs []string, rejects int) {
	f := newFramer(bytes.NewReader(data), max)
	for i := 0; i < len(data)+2; i++ {
		m, err := f.next()
		var fe *frameError
		switch {
		case err == nil:
			msgs = append(msgs, string(m))
		case errors.As(err, &fe):
			rejects++
		case errors.Is(err, io.EOF):
			return msgs, rejects
		}
	}
	panic("framer did not reach the end of its input")
}

func TestFramerMixed(t *testing.T) {
	in := "5 <13>a\n\n<13>b\r\n11 <13>c\nd e f<13>g"
	msgs, rejects := frames([]byte(in), 100)
	want := []string{"<13>a", "<13>b", "<13>c\nd e f", "<13>g"}
	if fmt.Sprint(msgs) != fmt.Sprint(want) || rejects != 0 {
		t.Errorf("got %q (%d rejected), want %q", msgs, rejects, want)
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte("5 <13>a\n<13>b\n"))
	f.Add([]byte("99999999999 x\n-3 y\n0 z\n500 <13>lie\nok\n"))
	f.Add([]byte("12"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 64
		msgs, _ := frames(data, max)
		total := 0
		for _, m := range msgs {
			if len(m) > max {
				t.Fatalf("message of %d bytes over the limit %d", len(m), max)
			}
			total += len(m)
		}
		if total > len(data) {
			t.Fatalf("messages hold %d bytes, input %d", total, len(data))
		}
		// Octet-counted frames of any content come back exactly.
		var enc bytes.Buffer
		if len(data) > 0 && len(data) <= max && data[len(data)-1] != '\n' && data[len(data)-1] != '\r' {
			fmt.Fprintf(&enc, "%d %s%d %s", len(data), data, len(data), data)
			got, rejects := frames(enc.Bytes(), max)
			if rejects != 0 || len(got) != 2 || got[0] != string(data) || got[1] != string(data) {
				t.Fatalf("octet-counted %q came back as %q (%d rejected)", data, got, rejects)
			}
		}
	})
}

func BenchmarkFramerOctetCounted(b *testing.B) {
	m := "<13>1 2026-11-27T10:00:00Z host app 1 - - a message of about one hundred bytes, as firewalls send them...."
	var buf bytes.Buffer
	for range 1000 {
		fmt.Fprintf(&buf, "%d %s", len(m), m)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f := newFramer(bytes.NewReader(data), 64<<10)
		for {
			if _, err := f.next(); err != nil {
				break
			}
		}
	}
}
