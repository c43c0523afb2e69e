package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// BenchmarkCommitAlertsParallel commits small batches (10 events, a new
// alert each) from several writers at once, each of its own source, so
// that only the alert stream's lock orders them: what that lock costs
// commits that change alerts.
func BenchmarkCommitAlertsParallel(b *testing.B) {
	db := openTest(b, Options{})
	ctx := context.Background()
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	var writer atomic.Int64
	b.SetParallelism(2) // 2 × GOMAXPROCS writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := writer.Add(1)
		src := fmt.Sprintf("s%d", w)
		for i := 0; pb.Next(); i++ {
			bt := storetest.Batch("acme", src)
			for j := range 10 {
				bt.Events = append(bt.Events, storetest.Event("acme", src, storetest.T0.Add(time.Duration(j)*time.Millisecond), "h", "u", "10.0.0.1"))
			}
			h := fmt.Sprintf("h%d-%d", w, i)
			bt.Signals = []alert.Signal{storetest.Signal("acme", "r1", alert.High, h, bt.Events[0])}
			if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	cs, err := db.AlertChanges(ctx, 0, 1000)
	if err != nil || b.N >= 1 && len(cs) == 0 {
		b.Fatalf("alert changes: %d, %v", len(cs), err)
	}
}
