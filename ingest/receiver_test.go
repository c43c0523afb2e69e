package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
)

// recPub records batches; the first failFirst publishes fail with ErrFull.
type recPub struct {
	mu        sync.Mutex
	ids       []event.ID
	sizes     []int
	data      []string
	failFirst int
	cap       int
}

func (p *recPub) Publish(_ context.Context, b *bus.Batch) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, b.ID)
	if p.failFirst > 0 {
		p.failFirst--
		return fmt.Errorf("test: %w", bus.ErrFull)
	}
	p.sizes = append(p.sizes, len(b.Records))
	for _, r := range b.Records {
		p.data = append(p.data, string(r.Data))
	}
	return nil
}

func (p *recPub) MaxBatchBytes() int { return p.cap }

func newTestBatcher(t *testing.T, p *recPub, cfg BatcherConfig) *Batcher {
	t.Helper()
	cfg.Target, cfg.Publisher = Target{Workspace: "acme", Source: "s", Format: "syslog"}, p
	b, err := NewBatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBatcherFlushByCountAndBytes(t *testing.T) {
	ctx := context.Background()
	p := &recPub{}
	b := newTestBatcher(t, p, BatcherConfig{MaxRecords: 3, FlushInterval: time.Hour})
	for i := range 7 {
		if err := b.Add(ctx, []byte(fmt.Sprint("r", i)), i+1); err != nil {
			t.Fatal(err)
		}
	}
	b.Flush(ctx)
	if fmt.Sprint(p.sizes) != "[3 3 1]" {
		t.Errorf("batch sizes %v, want [3 3 1]", p.sizes)
	}

	// The publisher's cap lowers the byte budget: 2 records of 50 bytes
	// plus overhead fit in 200, a third does not.
	p2 := &recPub{cap: 2*(50+bus.RecordOverhead) + 10}
	b2 := newTestBatcher(t, p2, BatcherConfig{FlushInterval: time.Hour, MaxRecordBytes: 60})
	rec := make([]byte, 50)
	for i := range rec {
		rec[i] = 'x'
	}
	for range 5 {
		b2.Add(ctx, rec, 0)
	}
	b2.Flush(ctx)
	if fmt.Sprint(p2.sizes) != "[2 2 1]" {
		t.Errorf("batch sizes %v, want [2 2 1]", p2.sizes)
	}
}

func TestBatcherInterval(t *testing.T) {
	p := &recPub{}
	b := newTestBatcher(t, p, BatcherConfig{FlushInterval: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	b.Add(ctx, []byte("one"), 0)
	time.Sleep(150 * time.Millisecond)
	p.mu.Lock()
	n := len(p.data)
	p.mu.Unlock()
	if n != 1 {
		t.Errorf("after the interval %d records published, want 1", n)
	}
	b.Add(ctx, []byte("two"), 0)
	cancel() // Run's final flush stores "two"
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.data) != "[one two]" {
		t.Errorf("published %v", p.data)
	}
}

func TestBatcherRetriesSameID(t *testing.T) {
	p := &recPub{failFirst: 2}
	b := newTestBatcher(t, p, BatcherConfig{FlushInterval: time.Hour})
	b.Add(context.Background(), []byte("x"), 0)
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(p.ids) != 3 || p.ids[0] != p.ids[1] || p.ids[1] != p.ids[2] || len(p.data) != 1 {
		t.Errorf("attempts %v, stored %v: want three attempts with one batch id, stored once", p.ids, p.data)
	}
	if got := b.m.Value("retries"); got != 2 {
		t.Errorf("retries = %v, want 2", got)
	}
}

func TestBatcherRejects(t *testing.T) {
	p := &recPub{}
	b := newTestBatcher(t, p, BatcherConfig{FlushInterval: time.Hour, MaxRecordBytes: 10})
	ctx := context.Background()
	var re *RecordError
	if err := b.Add(ctx, []byte("01234567890"), 1); !errors.As(err, &re) || re.Reason != ReasonTooLong {
		t.Errorf("too long: %v", err)
	}
	if err := b.Add(ctx, []byte("ok\xff"), 2); !errors.As(err, &re) || re.Reason != ReasonInvalidUTF8 || re.Detail != "invalid UTF-8 at byte 2" {
		t.Errorf("invalid UTF-8: %v", err)
	}
	b.Add(ctx, []byte("good"), 3)
	b.Flush(ctx)
	if fmt.Sprint(p.data) != "[good]" || b.m.Value("rejected:line_too_long") != 1 || b.m.Value("rejected:invalid_utf8") != 1 {
		t.Errorf("stored %v; rejects %v/%v", p.data, b.m.Value("rejected:line_too_long"), b.m.Value("rejected:invalid_utf8"))
	}
}
