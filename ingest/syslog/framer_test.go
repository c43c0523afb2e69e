package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
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
		// On an octet-counting connection (its first frame says so),
		// counted frames of any content come back exactly.
		var enc bytes.Buffer
		if len(data) > 0 && len(data) <= max && data[len(data)-1] != '\n' && data[len(data)-1] != '\r' {
			fmt.Fprintf(&enc, "5 <13>x%d %s%d %s", len(data), data, len(data), data)
			got, rejects := frames(enc.Bytes(), max)
			if rejects != 0 || len(got) != 3 || got[1] != string(data) || got[2] != string(data) {
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

// TestFramerPerConnection: framing is chosen from a connection's first
// frame (RFC 6587): octet counting only when it is "DIGITS SP <"; else
// every frame runs to a newline, so a message that starts with a number
// is not taken for a count.
func TestFramerPerConnection(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"newline, digits first", "300 servers restarted by ops\n<13>next\n", []string{"300 servers restarted by ops", "<13>next"}},
		{"newline, digits later", "<13>first\n12 monkeys\n7 <13>not a count either\n", []string{"<13>first", "12 monkeys", "7 <13>not a count either"}},
		{"octet-counted", "5 <13>a11 300 servers\n", []string{"<13>a", "300 servers"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msgs, rejects := frames([]byte(c.in), 100)
			if fmt.Sprint(msgs) != fmt.Sprint(c.want) || rejects != 0 {
				t.Errorf("got %q (%d rejected), want %q", msgs, rejects, c.want)
			}
		})
	}
}

// TestFramerShortFirstMessage: a first message shorter than an octet
// count's look-ahead is delivered without waiting for more bytes.
func TestFramerShortFirstMessage(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	f := newFramer(pr, 100)
	go pw.Write([]byte("<1>a\n"))
	got := make(chan string, 1)
	go func() {
		m, _ := f.next()
		got <- string(m)
	}()
	select {
	case m := <-got:
		if m != "<1>a" {
			t.Errorf("message %q", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the framer waits for more bytes after a complete short message")
	}
}
