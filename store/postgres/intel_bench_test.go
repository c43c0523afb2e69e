package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// BenchmarkRefreshFeed1M refreshes a feed of 1,000,000 indicators (it held
// as many before) while an event commit runs every 10 ms, and reports how
// long the refresh took and the longest a commit took meanwhile, as
// store/sqlite's benchmark of the name does.
//
//	go test ./store/postgres -run '^$' -bench RefreshFeed1M -benchtime 1x
func BenchmarkRefreshFeed1M(b *testing.B) {
	const n = 1_000_000
	gen := func(round int) []intel.Indicator {
		inds := make([]intel.Indicator, n)
		for i := range inds {
			if i%2 == 0 {
				inds[i] = intel.Indicator{Kind: intel.KindIP, Value: fmt.Sprintf("%d.%d.%d.%d", 1+i>>24, (i>>16)&255, (i>>8)&255, i&255), ThreatType: intel.ThreatC2, Confidence: 80 + round}
			} else {
				inds[i] = intel.Indicator{Kind: intel.KindDomain, Value: fmt.Sprintf("h%d.r%d.example", i, round), ThreatType: intel.ThreatPhishing, Confidence: 70}
			}
		}
		return inds
	}
	db := openTest(b, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	if err := db.PutFeed(ctx, store.Feed{Workspace: "acme", Name: "big", Format: "plain", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "big", gen(0), store.Fetch{Attempt: storetest.T0}); err != nil {
		b.Fatal(err)
	}
	next := gen(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stop, done := make(chan struct{}), make(chan struct{})
		var maxWait time.Duration
		commits := 0
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				start := time.Now()
				e := storetest.Event("acme", "src", time.Now(), "h", "u", "192.0.2.1")
				if _, err := db.Commit(ctx, []*store.Batch{storetest.Batch("acme", "src", e)}); err != nil {
					panic(err)
				}
				maxWait = max(maxWait, time.Since(start))
				commits++
			}
		}()
		start := time.Now()
		if err := db.ReplaceFeedIndicators(ctx, "acme", "big", next, store.Fetch{Attempt: storetest.T0}); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		close(stop)
		<-done
		b.ReportMetric(took.Seconds(), "refresh-s")
		b.ReportMetric(float64(maxWait.Milliseconds()), "max-commit-ms")
		b.ReportMetric(float64(commits), "commits")
	}
	b.StopTimer()
	if f, err := db.Feed(ctx, "acme", "big"); err != nil || f.Indicators != n {
		b.Fatalf("feed after the refresh: %d indicators, %v", f.Indicators, err)
	}
}
