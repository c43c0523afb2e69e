package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// BenchmarkDecisionStream is a bouncer's poll with 10,000 decisions in
// force and 10 made since its previous poll.
func BenchmarkDecisionStream(b *testing.B) {
	db, _ := openTest(b)
	now := t0
	mk := func(i int) {
		v := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if _, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: "ip", Value: v, Reason: "bench",
			CreatedBy: "cli", Created: now, Expires: now.Add(24 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10000 {
		mk(i)
	}
	if _, err := db.DecisionStream(ctx, "acme", "fw", true, now); err != nil {
		b.Fatal(err)
	}
	n := 10000
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for range 10 {
			mk(n)
			n++
		}
		b.StartTimer()
		d, err := db.DecisionStream(ctx, "acme", "fw", false, now)
		if err != nil || len(d.New) != 10 {
			b.Fatalf("%d new, %v", len(d.New), err)
		}
	}
}
