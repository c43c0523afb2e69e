package bus

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// captured keeps every record logged through it, at every level.
type captured struct {
	mu    *sync.Mutex
	recs  *[]slog.Record
	attrs []slog.Attr
}

func newCaptured() captured { return captured{mu: new(sync.Mutex), recs: new([]slog.Record)} }

func (c captured) Enabled(context.Context, slog.Level) bool { return true }

func (c captured) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	c.mu.Lock()
	*c.recs = append(*c.recs, r)
	c.mu.Unlock()
	return nil
}

func (c captured) WithAttrs(as []slog.Attr) slog.Handler {
	c.attrs = append(slices.Clip(c.attrs), as...)
	return c
}

func (c captured) WithGroup(string) slog.Handler { return c }

func (c captured) records() []slog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(*c.recs)
}

func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// TestCleanStopQuiet: opening and closing the bus logs no warning (no
// "bus disconnected err=<nil>"), and the embedded NATS server's banner is
// said at DEBUG, not INFO.
func TestCleanStopQuiet(t *testing.T) {
	c := newCaptured()
	ctx := ctxT(t)
	b, err := Open(ctx, Config{Dir: t.TempDir(), Logger: slog.New(c)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, testBatch(t, 2, 10)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var banner bool
	for _, r := range c.records() {
		if r.Level >= slog.LevelWarn {
			t.Errorf("clean open and close logged %v %q %s", r.Level, r.Message, attrsOf(r))
		}
		if attr(r, "subsystem") == "nats-server" {
			if r.Level >= slog.LevelInfo {
				t.Errorf("NATS server said %q at %v, want DEBUG", r.Message, r.Level)
			}
			banner = true
		}
	}
	if !banner {
		t.Error("no NATS server line at all: its logs are lost, not lowered")
	}
}

func attrsOf(r slog.Record) []slog.Attr {
	var as []slog.Attr
	r.Attrs(func(a slog.Attr) bool { as = append(as, a); return true })
	return as
}

// TestServerLogLevels: the NATS server's notices are DEBUG, its warnings
// and errors keep their level.
func TestServerLogLevels(t *testing.T) {
	c := newCaptured()
	l := serverLogger{slog.New(c)}
	l.Noticef("Starting nats-server %s", "v2")
	l.Warnf("disk %s", "slow")
	l.Errorf("store %s", "broken")
	l.Debugf("detail")
	want := []slog.Level{slog.LevelDebug, slog.LevelWarn, slog.LevelError, slog.LevelDebug}
	got := c.records()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Level != want[i] {
			t.Errorf("%q at %v, want %v", r.Message, r.Level, want[i])
		}
	}
}

// TestDisconnectLevel: a disconnect the bus did not ask for is a warning,
// with its error when there is one; one during Close is DEBUG.
func TestDisconnectLevel(t *testing.T) {
	for _, c := range []struct {
		name    string
		closing bool
		err     error
		level   slog.Level
		hasErr  bool
	}{
		{"lost, with error", false, io.EOF, slog.LevelWarn, true},
		{"lost, no error", false, nil, slog.LevelWarn, false},
		{"closing", true, nil, slog.LevelDebug, false},
		{"closing, with error", true, errors.New("drain"), slog.LevelDebug, true},
	} {
		cap := newCaptured()
		b := &Bus{log: slog.New(cap)}
		b.closing.Store(c.closing)
		b.disconnected(c.err)
		rs := cap.records()
		if len(rs) != 1 || rs[0].Level != c.level || rs[0].Message != "bus disconnected" {
			t.Errorf("%s: %v", c.name, rs)
			continue
		}
		if e := attr(rs[0], "err"); (e != "") != c.hasErr || e == "<nil>" {
			t.Errorf("%s: err attribute %q", c.name, e)
		}
	}
}
