package syslog

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/ingest"
)

// Through the real embedded bus: what the listener accepts is stored as
// batches of the source, with ids, and fetched back intact.
func TestIntoEmbeddedBus(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := New(Config{Protocol: TCP, Listen: "127.0.0.1:0"},
		ingest.BatcherConfig{Target: target, Publisher: b, MaxRecords: 100, FlushInterval: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()

	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	for i := range n {
		m := fmt.Sprintf("<13>Nov 27 10:00:00 h app: message %d", i)
		fmt.Fprintf(c, "%d %s", len(m), m)
	}
	c.Close()
	// Stopping flushes what is pending before Run returns.
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var got []string
	for len(got) < n {
		ds, err := b.Fetch(ctx, 10, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			if d.Batch.Workspace != "acme" || d.Batch.Source != "fw01" || d.Batch.Format != "syslog" || len(d.Batch.Records) > 100 {
				t.Fatalf("batch %s/%s/%s with %d records", d.Batch.Workspace, d.Batch.Source, d.Batch.Format, len(d.Batch.Records))
			}
			for _, rec := range d.Batch.Records {
				if rec.ID.Time() == 0 {
					t.Fatalf("record without an id")
				}
				got = append(got, string(rec.Data))
			}
			if err := d.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != n {
		t.Fatalf("fetched %d records, want %d", len(got), n)
	}
	for i, g := range got {
		if want := fmt.Sprintf("<13>Nov 27 10:00:00 h app: message %d", i); g != want {
			t.Fatalf("record %d = %q, want %q", i, g, want)
		}
	}
}
