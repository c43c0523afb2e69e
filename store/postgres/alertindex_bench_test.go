package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// benchAlertIndex holds n alerts of one workspace over a week (as
// store/sqlite's benchPaneStore: 40 countries, 200 networks, five threat
// types), each evidenced by an SQL audit event of one of 20 servers and 50
// databases.
func benchAlertIndex(b *testing.B, n int) *DB {
	db := openTest(b, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	techs := [][]string{{"T1110"}, {"T1003"}, {"T1190"}, {"T1078"}, {"T1059"}}
	const per = 1000
	for start := 0; start < n; start += per {
		bt := storetest.Batch("acme", "audit")
		for i := start; i < min(start+per, n); i++ {
			at := storetest.T0.Add(time.Duration(float64(i) / float64(n) * float64(7*24*time.Hour)))
			e := storetest.Event("acme", "audit", at, fmt.Sprintf("sql%02d", i%20), "app", "")
			e.Logsource = event.Logsource{Product: "mssql", Category: "database"}
			e.Common[event.DBName] = fmt.Sprintf("db%02d", i%50)
			bt.Events = append(bt.Events, e)
			o := &alert.Origin{IP: fmt.Sprintf("198.18.%d.%d", i/250%250, i%250), Country: fmt.Sprintf("C%02d", i%40), ASN: uint32(64512 + i%200)}
			ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", i)}}
			bt.Signals = append(bt.Signals, alert.Signal{Type: "signature", Rule: alert.RuleRef{ID: "r", Title: fmt.Sprintf("rule %d", i%5)},
				Severity: alert.Severity(i % 5), Techniques: techs[i%len(techs)], Entities: ents,
				DedupKey: alert.DedupKey("acme", "r", ents),
				Evidence: alert.Evidence{EventID: e.ID.String(), Time: at}, Origin: o})
		}
		if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkAlertIndex answers the threat pane's questions over a week of
// 50,000 alerts from the day and hour counts and from every alert of the
// range (scan), and counts the databases view.
func BenchmarkAlertIndex(b *testing.B) {
	db := benchAlertIndex(b, 50_000)
	q := store.ThreatQuery{From: storetest.T0.Truncate(24 * time.Hour), Bucket: time.Hour}
	q.To = q.From.Add(8 * 24 * time.Hour)
	for _, scan := range []bool{false, true} {
		name := "counts"
		if scan {
			name = "scan"
		}
		b.Run("series/"+name, func(b *testing.B) {
			db.paneFromAlerts = scan
			defer func() { db.paneFromAlerts = false }()
			for b.Loop() {
				if s, err := db.ThreatSeries(ctx, "acme", q); err != nil || len(s) < 168 {
					b.Fatalf("%d buckets, %v", len(s), err)
				}
			}
		})
		b.Run("origins/"+name, func(b *testing.B) {
			db.paneFromAlerts = scan
			defer func() { db.paneFromAlerts = false }()
			for b.Loop() {
				if o, err := db.ThreatOrigins(ctx, "acme", q); err != nil || len(o) == 0 {
					b.Fatalf("%d origins, %v", len(o), err)
				}
			}
		})
	}
	b.Run("databases", func(b *testing.B) {
		for b.Loop() {
			if c, err := db.DatabaseCounts(ctx, "acme", store.AlertQuery{}); err != nil || len(c) == 0 {
				b.Fatalf("%d counts, %v", len(c), err)
			}
		}
	})
	b.Run("database-alerts", func(b *testing.B) {
		for b.Loop() {
			if as, _, err := db.DatabaseAlerts(ctx, "acme", "sql03", "db03", store.AlertQuery{Limit: 50}); err != nil || len(as) == 0 {
				b.Fatalf("%d alerts, %v", len(as), err)
			}
		}
	})
}
