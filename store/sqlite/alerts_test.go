package sqlite

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// manyAlerts commits n alerts: rule r<i%3>, severity i%5, host h<i>,
// last seen t0+i minutes.
func manyAlerts(t *testing.T, db *DB, ws string, n int) {
	t.Helper()
	b := batch(ws, "s")
	for i := range n {
		e := ev(ws, "s", t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("h%d", i), "u", "1.1.1.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, sig(ws, fmt.Sprintf("r%d", i%3), alert.Severity(i%5), fmt.Sprintf("h%d", i), e))
	}
	commit(t, db, b)
}

func allAlerts(t *testing.T, db *DB, ws string, q store.AlertQuery) []alert.Alert {
	t.Helper()
	var out []alert.Alert
	for {
		as, next, err := db.Alerts(ctx, ws, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, as...)
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}

func TestAlertsQuery(t *testing.T) {
	db, _ := openTest(t)
	manyAlerts(t, db, "acme", 40)
	all := allAlerts(t, db, "acme", store.AlertQuery{Limit: 1000})
	if len(all) != 40 {
		t.Fatalf("%d alerts, want 40", len(all))
	}
	// resolve h0..h9
	for _, a := range all {
		var i int
		fmt.Sscanf(a.Entities[0].Value, "h%d", &i)
		if i < 10 {
			if _, err := db.SetAlertStatus(ctx, "acme", a.ID, alert.StatusResolved, "cli"); err != nil {
				t.Fatal(err)
			}
		}
	}
	high := alert.High
	cases := []struct {
		name string
		q    store.AlertQuery
		keep func(i int) bool // i is the alert's host number
	}{
		{"all", store.AlertQuery{}, func(int) bool { return true }},
		{"open", store.AlertQuery{Status: []alert.Status{alert.StatusNew, alert.StatusActive}}, func(i int) bool { return i >= 10 }},
		{"resolved", store.AlertQuery{Status: []alert.Status{alert.StatusResolved}}, func(i int) bool { return i < 10 }},
		{"high+", store.AlertQuery{MinSeverity: &high}, func(i int) bool { return i%5 >= 3 }},
		{"rule", store.AlertQuery{RuleID: "r1"}, func(i int) bool { return i%3 == 1 }},
		{"entity", store.AlertQuery{Entity: "h17"}, func(i int) bool { return i == 17 }},
		{"since/until", store.AlertQuery{Since: t0.Add(5 * time.Minute), Until: t0.Add(20 * time.Minute)},
			func(i int) bool { return i >= 5 && i < 20 }},
		{"combined", store.AlertQuery{RuleID: "r0", MinSeverity: &high, Status: []alert.Status{alert.StatusNew}},
			func(i int) bool { return i%3 == 0 && i%5 >= 3 && i >= 10 }},
	}
	for _, c := range cases {
		var want []string
		for i := 39; i >= 0; i-- { // last seen descending
			if c.keep(i) {
				want = append(want, fmt.Sprintf("h%d", i))
			}
		}
		for _, size := range []int{0, 3} {
			q := c.q
			q.Limit = size
			got := allAlerts(t, db, "acme", q)
			var hosts []string
			for _, a := range got {
				hosts = append(hosts, a.Entities[0].Value)
			}
			if fmt.Sprint(hosts) != fmt.Sprint(want) {
				t.Errorf("%s, pages of %d:\n got %v\nwant %v", c.name, size, hosts, want)
			}
		}
	}

	bad := alert.Severity(7)
	for name, q := range map[string]store.AlertQuery{
		"status":       {Status: []alert.Status{"open"}},
		"severity":     {MinSeverity: &bad},
		"cursor":       {Cursor: "nope"},
		"event cursor": {Cursor: encodeCursor("event", cursor{n: 1, s: event.NewID().String()})},
	} {
		if _, _, err := db.Alerts(ctx, "acme", q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// Alerts last seen at the same instant page by id without loss or repeat.
func TestAlertsPagingTies(t *testing.T) {
	db, _ := openTest(t)
	b := batch("acme", "s")
	e := ev("acme", "s", t0, "h", "u", "1.1.1.1")
	for i := range 25 {
		b.Signals = append(b.Signals, sig("acme", fmt.Sprintf("r%d", i), alert.Low, "h", e))
	}
	commit(t, db, b)
	got := allAlerts(t, db, "acme", store.AlertQuery{Limit: 4})
	seen := map[string]bool{}
	for _, a := range got {
		seen[a.ID] = true
	}
	if len(got) != 25 || len(seen) != 25 {
		t.Errorf("paged %d alerts (%d distinct), want 25", len(got), len(seen))
	}
}

func TestSetAlertStatus(t *testing.T) {
	db, clock := openTest(t)
	manyAlerts(t, db, "acme", 1)
	as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	id := as[0].ID

	clock.set(t0.Add(time.Hour))
	a, err := db.SetAlertStatus(ctx, "acme", id, alert.StatusDismissed, "key:k1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != alert.StatusDismissed || !a.Updated.Equal(t0.Add(time.Hour)) || a.Count != 1 {
		t.Errorf("returned alert = %+v", a)
	}
	if stored, _ := db.Alert(ctx, "acme", id); stored.Status != alert.StatusDismissed {
		t.Errorf("stored status = %s", stored.Status)
	}
	log, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{})
	if err != nil || len(log) != 1 {
		t.Fatalf("audit log = %+v, %v", log, err)
	}
	if e := log[0]; e.Action != "alert.status" || e.Actor != "key:k1" || e.Target != id || e.Detail != "new -> dismissed" || !e.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("audit entry = %+v", e)
	}

	if _, err := db.SetAlertStatus(ctx, "acme", id, "closed", "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("invalid status: err = %v", err)
	}
	if _, err := db.SetAlertStatus(ctx, "acme", id, alert.StatusNew, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no actor: err = %v", err)
	}
	if _, err := db.SetAlertStatus(ctx, "acme", "nope", alert.StatusNew, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown alert: err = %v", err)
	}
	if _, err := db.Alert(ctx, "acme", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert(unknown): err = %v", err)
	}
	// Refused changes leave no audit entry.
	if log, _, _ := db.AuditLog(ctx, "acme", store.AuditQuery{}); len(log) != 1 {
		t.Errorf("%d audit entries after refused changes, want 1", len(log))
	}
}

// Evidence stops at alert.MaxEvidence while the count goes on, across
// commits, and the kept evidence is the first events', intact.
func TestAlertEvidenceCap(t *testing.T) {
	db, _ := openTest(t)
	var first []string
	for c := range 5 {
		b := batch("acme", "s")
		for i := range 30 {
			e := ev("acme", "s", t0.Add(time.Duration(c*30+i)*time.Second), "h", "u", "1.1.1.1")
			b.Events = append(b.Events, e)
			b.Signals = append(b.Signals, sig("acme", "r", alert.Low, "h", e))
			if len(first) < alert.MaxEvidence {
				first = append(first, e.ID.String())
			}
		}
		commit(t, db, b)
	}
	as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(as) != 1 || as[0].Count != 150 || len(as[0].Evidence) != alert.MaxEvidence {
		t.Fatalf("alerts = %d; count %d, evidence %d; want 1, 150, %d", len(as), as[0].Count, len(as[0].Evidence), alert.MaxEvidence)
	}
	for i, e := range as[0].Evidence {
		if e.EventID != first[i] || e.Time.IsZero() {
			t.Fatalf("evidence %d = %+v, want event %s", i, e, first[i])
		}
	}
	if !as[0].LastSeen.Equal(t0.Add(149 * time.Second)) {
		t.Errorf("last seen = %v", as[0].LastSeen)
	}
}

// TestSetAlertStatusWorkflow walks every ordered pair of statuses through
// the store: a legal move is stored and audited, an illegal one is refused
// as a conflict naming the reason, and changes nothing.
func TestSetAlertStatusWorkflow(t *testing.T) {
	db, _ := openTest(t)
	manyAlerts(t, db, "acme", 1)
	as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	id := as[0].ID
	// Bring the alert to from, through legal moves only (the stored
	// alert starts new; new is never reached again, so from = new is
	// tested on a fresh alert of its own).
	reach := func(id string, from alert.Status) {
		t.Helper()
		cur, _ := db.Alert(ctx, "acme", id)
		if cur.Status == from {
			return
		}
		if from != alert.StatusActive && cur.Status != alert.StatusActive {
			if _, err := db.SetAlertStatus(ctx, "acme", id, alert.StatusActive, "cli"); err != nil {
				t.Fatalf("to active: %v", err)
			}
		}
		if _, err := db.SetAlertStatus(ctx, "acme", id, from, "cli"); err != nil {
			t.Fatalf("to %s: %v", from, err)
		}
	}
	fresh := 0
	for _, from := range alert.Statuses {
		for _, to := range alert.Statuses {
			target := id
			if from == alert.StatusNew {
				fresh++
				manyAlertsRule(t, db, "acme", fmt.Sprintf("fresh-%d", fresh))
				got, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{RuleID: fmt.Sprintf("fresh-%d", fresh)})
				target = got[0].ID
			} else {
				reach(target, from)
			}
			before, _, _ := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 1000})
			a, err := db.SetAlertStatus(ctx, "acme", target, to, "cli")
			after, _, _ := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 1000})
			stored, _ := db.Alert(ctx, "acme", target)
			if alert.CheckTransition(from, to) == nil {
				if err != nil || a.Status != to || stored.Status != to || len(after) != len(before)+1 {
					t.Errorf("%s -> %s: err %v, status %s/%s, audit %d -> %d", from, to, err, a.Status, stored.Status, len(before), len(after))
				}
				continue
			}
			var te *alert.TransitionError
			if !errors.Is(err, store.ErrConflict) || !errors.As(err, &te) || te.From != from || te.To != to {
				t.Errorf("%s -> %s: err = %v, want a conflict with the reason", from, to, err)
			}
			if stored.Status != from || len(after) != len(before) {
				t.Errorf("%s -> %s refused but status %s, audit %d -> %d", from, to, stored.Status, len(before), len(after))
			}
		}
	}
}

// manyAlertsRule commits one alert of rule in ws.
func manyAlertsRule(t *testing.T, db *DB, ws, rule string) {
	t.Helper()
	b := batch(ws, "s")
	e := ev(ws, "s", t0, "h-"+rule, "u", "1.1.1.1")
	b.Events = append(b.Events, e)
	b.Signals = append(b.Signals, sig(ws, rule, alert.High, "h-"+rule, e))
	commit(t, db, b)
}
