package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// benchPaneStore holds n alerts of one workspace over a week, from 40
// countries and 200 networks, with five threat types.
func benchPaneStore(b testing.TB, n int) *DB {
	db, _ := openTest(b)
	mustWorkspace(b, db, "acme")
	techs := [][]string{{"T1110"}, {"T1003"}, {"T1190"}, {"T1078"}, {"T1059"}}
	const per = 1000
	for start := 0; start < n; start += per {
		bt := batch("acme", "src")
		for i := start; i < min(start+per, n); i++ {
			o := &alert.Origin{IP: fmt.Sprintf("198.18.%d.%d", i/250%250, i%250), Country: fmt.Sprintf("C%02d", i%40), ASN: uint32(64512 + i%200)}
			ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", i)}}
			bt.Signals = append(bt.Signals, alert.Signal{Type: "signature", Rule: alert.RuleRef{ID: "r", Title: "r"},
				Severity: alert.Severity(i % 5), Techniques: techs[i%len(techs)], Entities: ents,
				DedupKey: alert.DedupKey("acme", "r", ents),
				Evidence: alert.Evidence{Time: t0.Add(time.Duration(float64(i) / float64(n) * float64(7*24*time.Hour)))}, Origin: o})
		}
		commit(b, db, bt)
	}
	return db
}

// BenchmarkThreatPane answers the pane's three questions over a week of
// 100,000 alerts.
func BenchmarkThreatPane(b *testing.B) {
	db := benchPaneStore(b, 100_000)
	q := store.ThreatQuery{From: t0, To: t0.Add(7 * 24 * time.Hour), Bucket: time.Hour}
	b.Run("series", func(b *testing.B) {
		for b.Loop() {
			if s, err := db.ThreatSeries(ctx, "acme", q); err != nil || len(s) != 168 {
				b.Fatalf("%d buckets, %v", len(s), err)
			}
		}
	})
	b.Run("origins", func(b *testing.B) {
		for b.Loop() {
			if o, err := db.ThreatOrigins(ctx, "acme", q); err != nil || len(o) == 0 {
				b.Fatalf("%d origins, %v", len(o), err)
			}
		}
	})
}

// BenchmarkCommitIntent commits 100 signals from 10 addresses a Commit into
// a store that holds alerts of those addresses: the intent estimate's cost
// at commit.
func BenchmarkCommitIntent(b *testing.B) {
	db, _ := openTest(b)
	mustWorkspace(b, db, "acme")
	n := 0
	for b.Loop() {
		bt := batch("acme", "src")
		for i := range 100 {
			n++
			o := &alert.Origin{IP: fmt.Sprintf("198.18.0.%d", i%10), Country: "DE"}
			ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", n%500)}, {Type: alert.EntityAccount, Value: fmt.Sprintf("u%d", n%50)}}
			bt.Signals = append(bt.Signals, alert.Signal{Type: "signature", Rule: alert.RuleRef{ID: "r", Title: "Login Failed"},
				Severity: alert.Medium, Techniques: []string{"T1110"}, Entities: ents, DedupKey: alert.DedupKey("acme", "r", ents),
				Evidence: alert.Evidence{Time: t0.Add(time.Duration(n) * time.Second)}, Origin: o})
		}
		commit(b, db, bt)
	}
}
