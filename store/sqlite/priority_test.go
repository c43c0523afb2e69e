package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

func priorityColumn(t *testing.T, db *DB, id string) int {
	t.Helper()
	var p int
	if err := db.r.QueryRowContext(ctx, `SELECT priority FROM alerts WHERE id = ?`, id).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// The priority is worked out at commit, kept in its column and the reasons
// in the document, and worked out again when the alert grows.
func TestPriorityAtCommit(t *testing.T) {
	db, _ := openTest(t)
	s, _ := originSig("acme", "r", "rule r", alert.Medium, nil, t0, "web1", "bob", deOrigin)
	commitSignals(t, db, "acme", s)
	as := allAlerts(t, db, "acme", store.AlertQuery{})
	if len(as) != 1 {
		t.Fatalf("%d alerts", len(as))
	}
	a := as[0]
	if a.Priority != 30 || len(a.PriorityReasons) != 1 || a.PriorityReasons[0].Factor != alert.FactorSeverity {
		t.Errorf("first signal: priority %d reasons %+v, want 30 from severity alone", a.Priority, a.PriorityReasons)
	}
	if a.Compromised == nil || *a.Compromised != (alert.Entity{Type: alert.EntityHost, Value: "web1"}) {
		t.Errorf("compromised %+v, want host web1", a.Compromised)
	}
	// The alert grows: a high signal touching a critical asset.
	s2, _ := originSig("acme", "r", "rule r", alert.High, nil, t0.Add(time.Minute), "web1", "bob", deOrigin)
	s2.Assets = []alert.Asset{{Name: "web1", Type: "host", Criticality: "critical"}}
	commitSignals(t, db, "acme", s2)
	got, err := db.Alert(ctx, "acme", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 2 || got.Priority != 65 || priorityColumn(t, db, a.ID) != 65 {
		t.Errorf("grown alert: count %d priority %d (column %d), want 2 and 65 (high 45 + critical asset 20); reasons %+v",
			got.Count, got.Priority, priorityColumn(t, db, a.ID), got.PriorityReasons)
	}
	if n := len(got.PriorityReasons); n != 2 || got.PriorityReasons[1].Factor != alert.FactorAsset {
		t.Errorf("reasons %+v, want severity and asset criticality", got.PriorityReasons)
	}
}

// Sorted by priority, pages follow priority, then last seen, then id, with
// no alert lost or repeated across ties whatever the page size; a cursor
// of one order is refused by the other.
func TestAlertsByPriority(t *testing.T) {
	db, _ := openTest(t)
	manyAlerts(t, db, "acme", 40) // severity i%5: 8 alerts at each of 5 priorities
	// More ties: 6 alerts of the same priority and the same last seen.
	b := batch("acme", "s")
	e := ev("acme", "s", t0.Add(time.Hour), "tie", "u", "1.1.1.1")
	for i := range 6 {
		b.Signals = append(b.Signals, sig("acme", fmt.Sprintf("tie%d", i), alert.High, "tie", e))
	}
	commit(t, db, b)
	want := allAlerts(t, db, "acme", store.AlertQuery{Limit: 1000, Sort: store.AlertSortPriority})
	if len(want) != 46 {
		t.Fatalf("%d alerts, want 46", len(want))
	}
	for i := 1; i < len(want); i++ {
		p, c := want[i-1], want[i]
		if p.Priority < c.Priority || p.Priority == c.Priority && p.LastSeen.Before(c.LastSeen) ||
			p.Priority == c.Priority && p.LastSeen.Equal(c.LastSeen) && p.ID < c.ID {
			t.Fatalf("out of order at %d: %d %v %s then %d %v %s", i, p.Priority, p.LastSeen, p.ID, c.Priority, c.LastSeen, c.ID)
		}
	}
	if want[0].Severity != alert.Critical || want[len(want)-1].Severity != alert.Informational {
		t.Errorf("first %v, last %v: want critical first, informational last", want[0].Severity, want[len(want)-1].Severity)
	}
	for _, size := range []int{1, 3, 7} {
		got := allAlerts(t, db, "acme", store.AlertQuery{Limit: size, Sort: store.AlertSortPriority})
		if len(got) != len(want) {
			t.Fatalf("pages of %d: %d alerts, want %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("pages of %d: alert %d is %s, want %s", size, i, got[i].ID, want[i].ID)
			}
		}
	}
	// Filters apply in priority order too.
	high := alert.High
	got := allAlerts(t, db, "acme", store.AlertQuery{Limit: 2, Sort: store.AlertSortPriority, MinSeverity: &high})
	if len(got) != 8+8+6 {
		t.Errorf("high and above by priority: %d alerts, want 22", len(got))
	}

	_, byTime, err := db.Alerts(ctx, "acme", store.AlertQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, byPrio, err := db.Alerts(ctx, "acme", store.AlertQuery{Limit: 2, Sort: store.AlertSortPriority})
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]store.AlertQuery{
		"time cursor, priority order": {Cursor: byTime, Sort: store.AlertSortPriority},
		"priority cursor, time order": {Cursor: byPrio, Sort: store.AlertSortLastSeen},
		"unknown order":               {Sort: "severity"},
	} {
		if _, _, err := db.Alerts(ctx, "acme", q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// The total counts what the filters keep, not what a page holds, and only
// in the workspace asked.
func TestCountAlerts(t *testing.T) {
	db, _ := openTest(t)
	manyAlerts(t, db, "acme", 40)
	manyAlerts(t, db, "other", 13)
	high := alert.High
	for name, q := range map[string]store.AlertQuery{
		"all":         {},
		"high+":       {MinSeverity: &high},
		"rule":        {RuleID: "r1"},
		"entity":      {Entity: "h17"},
		"since/until": {Since: t0.Add(5 * time.Minute), Until: t0.Add(20 * time.Minute)},
		"page asked":  {Limit: 3, Sort: store.AlertSortPriority},
	} {
		for _, ws := range []string{"acme", "other"} {
			all := allAlerts(t, db, ws, store.AlertQuery{Status: q.Status, MinSeverity: q.MinSeverity, RuleID: q.RuleID,
				Entity: q.Entity, Since: q.Since, Until: q.Until, Limit: 1000})
			n, err := db.CountAlerts(ctx, ws, q)
			if err != nil || n != len(all) {
				t.Errorf("%s in %s: total %d, %v; want %d", name, ws, n, err, len(all))
			}
		}
	}
	if n, _ := db.CountAlerts(ctx, "acme", store.AlertQuery{}); n != 40 {
		t.Errorf("acme total %d, want 40", n)
	}
	if n, _ := db.CountAlerts(ctx, "nobody", store.AlertQuery{}); n != 0 {
		t.Errorf("empty workspace total %d, want 0", n)
	}
	bad := alert.Severity(9)
	if _, err := db.CountAlerts(ctx, "acme", store.AlertQuery{MinSeverity: &bad}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad severity: %v, want ErrInvalid", err)
	}
}

// A store from before migration 11 upgrades: the alerts stored so far get
// their priority, reasons and compromised entity from their documents.
func TestMigratePriority(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	raw, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`)
	before := 10 // every migration before priority's (11)
	for v := 1; v <= before; v++ {
		exec(migrations[v-1].sql)
		exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	put := func(id string, sev alert.Severity, d alertDoc) {
		doc, _ := json.Marshal(d)
		exec(`INSERT INTO alerts (id, workspace, dedup_key, status, severity, rule_id, first_seen, last_seen, count, created, updated, doc, evidence, evidence_n)
			VALUES (?, 'acme', ?, 'new', ?, ?, ?, ?, 3, 0, 0, ?, '[]', 0)`, id, "k"+id, int64(sev), d.Rule.ID, nanos(t0), nanos(t0), string(doc))
	}
	put("a1", alert.High, alertDoc{Rule: alert.RuleRef{ID: "r1", Outcome: "success"},
		Entities: []alert.Entity{{Type: alert.EntityIP, Value: "88.198.23.77"}, {Type: alert.EntityHost, Value: "h"}, {Type: alert.EntityAccount, Value: "bob"}},
		Origin:   deOrigin, Intent: &alert.Intent{Estimate: alert.IntentTargeted}})
	put("a2", alert.Low, alertDoc{Rule: alert.RuleRef{ID: "r2"}})
	raw.Close()

	db := openAt(t, path, Options{})
	a1, err := db.Alert(ctx, "acme", "a1")
	if err != nil {
		t.Fatal(err)
	}
	// high 45 + success 15 + targeted 10
	if a1.Priority != 70 || priorityColumn(t, db, "a1") != 70 || len(a1.PriorityReasons) != 3 {
		t.Errorf("a1 after upgrade: priority %d (column %d), reasons %+v; want 70", a1.Priority, priorityColumn(t, db, "a1"), a1.PriorityReasons)
	}
	if a1.Compromised == nil || *a1.Compromised != (alert.Entity{Type: alert.EntityAccount, Value: "bob"}) {
		t.Errorf("a1 compromised %+v, want account bob", a1.Compromised)
	}
	if p := priorityColumn(t, db, "a2"); p != 15 {
		t.Errorf("a2 priority %d, want 15", p)
	}
	got := allAlerts(t, db, "acme", store.AlertQuery{Sort: store.AlertSortPriority})
	if len(got) != 2 || got[0].ID != "a1" {
		t.Errorf("by priority after upgrade: %v", got)
	}
}
