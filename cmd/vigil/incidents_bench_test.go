package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// BenchmarkIncidentConsumer measures serve's correlation consumer as a
// whole — reading the alert stream, loading each alert, correlating, and
// writing the incidents with the cursor — over batches of 500 new alerts
// committed by the store (hosts, public addresses and accounts drawn from
// pools, so that most alerts join an incident). The commits are not timed.
func BenchmarkIncidentConsumer(b *testing.B) {
	const perBatch = 500
	ctx := context.Background()
	// The suite's store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres).
	db := teststore.Open[interface {
		store.Store
		incidentStore
	}](b)
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	co := &correlation{store: db, log: slog.New(slog.DiscardHandler), now: time.Now}
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Now().Add(-time.Hour).UTC()
	n := 0
	commitBatch := func() {
		bt := &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json", Received: base}
		for range perBatch {
			n++
			at := base.Add(time.Duration(n) * time.Millisecond)
			e := store.StoredEvent{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json", Time: at, Received: at, Raw: []byte(`{}`)}
			bt.Events = append(bt.Events, e)
			ents := []alert.Entity{
				{Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", r.IntN(2000))},
				{Type: alert.EntityIP, Value: fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(200), r.IntN(250), r.IntN(250), 1+r.IntN(250))},
				{Type: alert.EntityAccount, Value: fmt.Sprintf("user%d", r.IntN(5000))},
			}
			rid := fmt.Sprintf("rule-%d", r.IntN(50))
			bt.Signals = append(bt.Signals, alert.Signal{Workspace: "acme", Type: "signature", Severity: alert.Medium,
				Rule: alert.RuleRef{ID: rid, Title: "Rule " + rid}, Tactics: []string{"credential-access"}, Entities: ents,
				DedupKey: alert.DedupKey("acme", rid, ents), Evidence: alert.Evidence{EventID: e.ID.String(), Time: at}})
		}
		if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	var cpu time.Duration
	alerts := 0
	for b.Loop() {
		b.StopTimer()
		commitBatch()
		cur, _ := db.ConsumerCursor(ctx, incidentsConsumer)
		changes, err := db.AlertChanges(ctx, cur, perBatch)
		if err != nil || len(changes) == 0 {
			b.Fatalf("changes: %d, %v", len(changes), err)
		}
		b.StartTimer()
		c0 := processCPU()
		if err := co.handle(ctx, changes); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
		alerts += len(changes)
	}
	if cpu > 0 {
		b.ReportMetric(float64(alerts)/cpu.Seconds(), "alerts/cpu-s")
	}
	b.ReportMetric(float64(alerts)/b.Elapsed().Seconds(), "alerts/s")
}
