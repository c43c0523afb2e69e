package syslog

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/ingest"
)

// fakePub keeps copies of what was published; block, when set, holds every
// publish until it is closed.
type fakePub struct {
	mu      sync.Mutex
	batches []bus.Batch
	recs    []string
	block   chan struct{}
}

func (p *fakePub) Publish(ctx context.Context, b *bus.Batch) error {
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := *b
	c.Records = nil
	p.batches = append(p.batches, c)
	for _, r := range b.Records {
		p.recs = append(p.recs, string(r.Data))
	}
	return nil
}

func (p *fakePub) records() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.recs...)
}

// waitFor polls until n records were published or the deadline passes.
func (p *fakePub) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := p.records(); len(r) >= n {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := p.records()
	t.Fatalf("published %d records, want %d: %q", len(r), n, r)
	return nil
}

var target = ingest.Target{Workspace: "acme", Source: "fw01", Format: "syslog"}

// start runs a receiver on a loopback port chosen by the kernel.
func start(t *testing.T, cfg Config, pub *fakePub) *Receiver {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	r, err := New(cfg, ingest.BatcherConfig{Target: target, Publisher: pub, FlushInterval: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

func port(r *Receiver) string {
	_, p, _ := net.SplitHostPort(r.Addr().String())
	return p
}
