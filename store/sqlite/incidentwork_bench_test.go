package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// BenchmarkChangeIncident measures one responder change (a comment and a
// tag: load, apply, write the incident with its entities, two timeline
// entries, a stream entry and two audit lines, commit) on an incident of
// 50 alerts.
func BenchmarkChangeIncident(b *testing.B) {
	db, _ := openTest(b)
	mustWorkspace(b, db, "acme")
	bt := batch("acme", "s")
	for i := range 50 {
		e := ev("acme", "s", t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("h%d", i), "u", "203.0.113.7")
		bt.Events = append(bt.Events, e)
		bt.Signals = append(bt.Signals, sig("acme", fmt.Sprintf("r%d", i%7), alert.Medium, fmt.Sprintf("h%d", i), e))
	}
	commit(b, db, bt)
	as, _, err := db.Alerts(ctx, "acme", store.AlertQuery{Limit: 100})
	if err != nil || len(as) != 50 {
		b.Fatalf("%d alerts: %v", len(as), err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	inc, err := db.CreateIncident(ctx, "acme", "bench", ids, "cli")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		ch := incident.Change{Comment: "note", AddTags: []string{fmt.Sprintf("t%d", i%40)}, RemoveTags: []string{fmt.Sprintf("t%d", (i+20)%40)}}
		if _, err := db.ChangeIncident(ctx, "acme", inc.ID, ch, "cli"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}
