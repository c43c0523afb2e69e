package ingest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

// The real bus is what ingest is written against.
var (
	_ Publisher   = (*bus.Bus)(nil)
	_ batchCapper = (*bus.Bus)(nil)
)

// TestWithEmbeddedBus posts through the handler into an embedded NATS
// JetStream and reads the batches back: every accepted record arrives once,
// with its line, and a retried request with the same Idempotency-Key adds
// nothing.
func TestWithEmbeddedBus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded NATS server")
	}
	ctx := t.Context()
	b, err := bus.Open(ctx, bus.Config{Dir: t.TempDir(), MaxMsgSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e := newEnv(t, func(c *Config) { c.Publisher = b; c.Registerer = nil })
	if e.h.cfg.MaxBatchBytes >= 256<<10 {
		t.Fatalf("the bus's cap (%d) was not applied: %d", b.MaxBatchBytes(), e.h.cfg.MaxBatchBytes)
	}

	var body bytes.Buffer
	for i := range 2500 {
		fmt.Fprintf(&body, `{"EventID":4688,"n":%d,"CommandLine":"%s"}`+"\n", i, strings.Repeat("x", 200))
	}
	body.WriteString("{broken\n")
	send := func() Reply {
		w := e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(body.Bytes()),
			headers: map[string]string{"Idempotency-Key": "integration-1"}})
		return decodeReply(t, w)
	}
	r := send()
	if r.Accepted != 2500 || r.RejectedCount != 1 || r.Batches < 3 {
		t.Fatalf("reply %+v: want 2500 accepted in several batches (256 KiB messages), 1 rejected", r)
	}
	if r2 := send(); r2.Accepted != 2500 || r2.Batches != r.Batches {
		t.Fatalf("retry reply %+v", r2)
	}

	var lines []int
	deadline := time.Now().Add(10 * time.Second)
	for len(lines) < 2500 && time.Now().Before(deadline) {
		ds, err := b.Fetch(ctx, 100, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Batch.Workspace != "ws1" || d.Batch.Source != "win" || d.Batch.Format != fmtJSON {
				t.Errorf("batch header %+v", d.Batch)
			}
			for _, rec := range d.Batch.Records {
				lines = append(lines, rec.Line)
			}
			if err := d.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Anything more would be the retry's duplicates.
	if ds, err := b.Fetch(ctx, 100, 200*time.Millisecond); err != nil || len(ds) != 0 {
		t.Errorf("after all records: %d more batches (%v)", len(ds), err)
	}
	slices.Sort(lines)
	for i, l := range lines {
		if l != i+1 {
			t.Fatalf("got %d records from the bus, want lines 1..2500 once each (line %d at %d)", len(lines), l, i)
		}
	}
	if len(lines) != 2500 {
		t.Errorf("got %d records from the bus, want 2500", len(lines))
	}
	if st := b.Stats(); st.Duplicates != uint64(r.Batches) || st.Published != uint64(r.Batches) {
		t.Errorf("bus stats %+v: want %d published and %d duplicates", st, r.Batches, r.Batches)
	}
}
