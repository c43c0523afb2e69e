//go:build unix

package postgres

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// cpuTime is this process's user+system CPU time. The server's CPU is
// another process's: cpu-ns/event is vigil's side of a commit only.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCommit commits one bus batch of 1000 real Windows events a
// Commit, with a signal on 1% of them, as the detect stage does (the same
// load as store/sqlite's BenchmarkCommit).
func BenchmarkCommit(b *testing.B) {
	const perBatch = 1000
	evs, ok := storetest.WindowsEvents(b, filepath.Join("..", "..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz"),
		20*perBatch, storetest.T0)
	if !ok || len(evs) < 20*perBatch {
		b.Skip("the Windows corpus (../shared/data/events/windows-mordor.jsonl.gz) is absent")
	}
	var rawBytes int
	for _, e := range evs {
		rawBytes += len(e.Raw)
	}
	db := openTest(b, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	var batches []*store.Batch
	for i := 0; i < len(evs); i += perBatch {
		part := evs[i : i+perBatch]
		bt := &store.Batch{Workspace: "acme", Source: "windows", Format: "windows", Received: storetest.T0, Events: part}
		for j := 0; j < len(part); j += 100 {
			bt.Signals = append(bt.Signals, storetest.Signal("acme", fmt.Sprintf("rule-%d", j%7), alert.High, part[j].Common[event.HostName], part[j]))
		}
		batches = append(batches, bt)
	}
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		bt := batches[i%len(batches)]
		bt.ID = event.NewID() // a new bus batch each time, not a replay
		for j := range bt.Events {
			bt.Events[j].ID = event.NewID() // and new events: their ids are unique in a workspace
		}
		if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*perBatch), "cpu-ns/event")
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*perBatch)/sec, "events/s")
	b.ReportMetric(float64(b.N)*float64(rawBytes)/float64(len(batches))/sec/1e6, "MB/s")
	// stored: the blocks' bytes, as store/sqlite's benchmark counts them;
	// disk: the three tables' partitions with their indexes and TOAST.
	var stored, disk int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(length(data)), 0) FROM event_blocks`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = ANY(ARRAY['event_blocks'::regclass, 'event_ids'::regclass, 'event_entities'::regclass])`).Scan(&disk); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(stored)/float64(b.N*perBatch), "stored-B/event")
	b.ReportMetric(float64(disk)/float64(b.N*perBatch), "disk-B/event")
}
