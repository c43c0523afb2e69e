package main

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/internal/teststore"
)

// TestBaselineStoreMergesWorkers: serve's hand-over between the baselines
// and the store carries what the merge needs — deltas added, a volume
// model's largest kept (Max), the revision a worker reads after.
func TestBaselineStoreMergesWorkers(t *testing.T) {
	ctx := context.Background()
	s := baselineStore{teststore.Open[baselineDB](t)}
	at := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	for _, save := range [][]baseline.Entry{
		{{Entity: "db1", Value: "webapp", Count: 2, First: at, Last: at}, {Entity: "db1/webapp", Value: "peak", Count: 900, Max: true, First: at, Last: at}},
		{{Entity: "db1", Value: "webapp", Count: 3, First: at, Last: at.Add(time.Hour)}, {Entity: "db1/webapp", Value: "peak", Count: 500, Max: true, First: at, Last: at.Add(time.Hour)}},
	} {
		if _, err := s.SaveBaseline(ctx, "w", "m", at, save, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.LoadBaseline(ctx, "w", "m", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Rev != 2 || !snap.Started.Equal(at) || len(snap.Entries) != 2 {
		t.Fatalf("load after revision 1 = %+v, want revision 2 with both values", snap)
	}
	for _, e := range snap.Entries {
		if want := map[string]int64{"webapp": 5, "peak": 900}[e.Value]; e.Count != want {
			t.Errorf("%s/%s: %d, want %d", e.Entity, e.Value, e.Count, want)
		}
	}
}
