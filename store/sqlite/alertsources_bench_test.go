package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// BenchmarkAlertFilters lists the first page of 50 alerts in priority
// order, and counts them, as the dashboard's queue does, over 100,000
// alerts of one workspace: unfiltered, and by each filter the queue added
// (a common value, and a rare one or none). The dashboard needs well
// under 200 ms for the page.
func BenchmarkAlertFilters(b *testing.B) {
	const n = 100_000
	db, _ := openTest(b)
	mustWorkspace(b, db, "acme")
	techs := [][]string{{"T1110"}, {"T1003"}, {"T1190"}, {"T1078"}, {"T1059"}}
	const per = 1000
	for start := 0; start < n; start += per {
		// One batch in a hundred comes from a rare source.
		src := []string{"fw", "auth"}[start/per%2]
		if start/per%100 == 7 {
			src = "rare"
		}
		bt := batch("acme", src)
		for i := start; i < min(start+per, n); i++ {
			o := &alert.Origin{IP: fmt.Sprintf("198.18.%d.%d", i/250%250, i%250), Country: fmt.Sprintf("C%02d", i%40), ASN: uint32(64512 + i%200)}
			ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", i)}}
			bt.Signals = append(bt.Signals, alert.Signal{Type: "signature", Rule: alert.RuleRef{ID: "r", Title: "r"},
				Severity: alert.Severity(i % 5), Techniques: techs[i%len(techs)], Entities: ents,
				DedupKey: alert.DedupKey("acme", "r", ents),
				Evidence: alert.Evidence{Time: t0.Add(time.Duration(i) * time.Second)}, Origin: o})
		}
		commit(b, db, bt)
	}
	for _, c := range []struct {
		name string
		q    store.AlertQuery
		want int
	}{
		{"none", store.AlertQuery{}, n},
		{"threat_type", store.AlertQuery{ThreatType: alert.ThreatBruteForce}, n / 5},
		{"threat_type_none", store.AlertQuery{ThreatType: alert.ThreatPhishing}, 0},
		{"country", store.AlertQuery{Country: "C07"}, n / 40},
		{"country_none", store.AlertQuery{Country: "ZZ"}, 0},
		{"source", store.AlertQuery{Source: "fw"}, n / 2},
		{"source_rare", store.AlertQuery{Source: "rare"}, per},
		{"source_country_severity", store.AlertQuery{Source: "auth", Country: "C07", MinSeverity: new(alert.High)}, -1},
	} {
		c.q.Sort, c.q.Limit = store.AlertSortPriority, 50
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := db.Alerts(ctx, "acme", c.q)
				if err != nil {
					b.Fatal(err)
				}
				total, err := db.CountAlerts(ctx, "acme", c.q)
				if err != nil {
					b.Fatal(err)
				}
				if c.want >= 0 && (total != c.want || len(page) != min(50, c.want)) {
					b.Fatalf("%d alerts, page of %d; want %d", total, len(page), c.want)
				}
			}
		})
	}
}
