package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

// Promises of store.Noise and store.BulkAlerts: suppressions and their
// audit, their hits counted once by Commit, classification and the rules'
// counts, and status changes of several alerts at once.

// within reports whether t lies in [from, to] (the store's own clock set
// it, between the two readings of the test's).
func within(t, from, to time.Time) bool { return !t.Before(from) && !t.After(to) }

func testSuppressions(t *testing.T, s store.Store) {
	db := as[store.Noise](t, s, "store.Noise")
	exp := T0.Add(48 * time.Hour)
	before := time.Now().Add(-time.Second)
	sp, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", Rule: "r1",
		Entity: &alert.Entity{Type: "account", Value: "svc"}, Reason: "backup job", Expires: &exp}, "key:k1")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	if sp.ID == "" || sp.Author != "key:k1" || !within(sp.Created, before, after) || !sp.Updated.Equal(sp.Created) {
		t.Fatalf("created %+v", sp)
	}
	if got, err := db.Suppression(ctx, "acme", sp.ID); err != nil || got.Entity == nil || got.Entity.Value != "svc" ||
		got.Expires == nil || !got.Expires.Equal(exp) || !got.Created.Equal(sp.Created) || got.Hits != 0 || got.LastHit != nil {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "10.0.0.0/8"}, "key:k1"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("without a reason: %v, want ErrInvalid", err)
	}
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "10.0.0.0/8", Reason: "x"}, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("without an actor: %v, want ErrInvalid", err)
	}
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", ID: sp.ID, CIDR: "10.0.0.0/8", Reason: "x"}, "key:k1"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("an id taken: %v, want ErrConflict", err)
	}
	// Another workspace sees none of it.
	if _, err := db.Suppression(ctx, "other", sp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace reads it: %v", err)
	}
	if err := db.DeleteSuppression(ctx, "other", sp.ID, "key:x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace deletes it: %v", err)
	}
	if _, err := db.UpdateSuppression(ctx, suppress.Suppression{Workspace: "other", ID: sp.ID, CIDR: "192.0.2.0/24", Reason: "x"}, "key:x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace updates it: %v", err)
	}
	if list, _ := db.Suppressions(ctx, "other"); len(list) != 0 {
		t.Errorf("other workspace lists %+v", list)
	}
	second, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "198.51.100.0/24", Reason: "pentest"}, "key:k1")
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := db.Suppressions(ctx, "acme"); len(list) != 2 || list[0].ID != sp.ID || list[1].ID != second.ID {
		t.Errorf("list (oldest first) = %+v", list)
	}

	time.Sleep(2 * time.Millisecond) // the update's time differs from the creation's
	up, err := db.UpdateSuppression(ctx, suppress.Suppression{Workspace: "acme", ID: sp.ID, CIDR: "192.0.2.0/24", Reason: "lab"}, "key:k2")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Suppression(ctx, "acme", sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rule != "" || got.Entity != nil || got.CIDR != "192.0.2.0/24" || got.Expires != nil || got.Author != "key:k1" ||
		!got.Updated.After(got.Created) || !got.Created.Equal(sp.Created) || up.Reason != "lab" || !up.Updated.Equal(got.Updated) {
		t.Fatalf("after update %+v (returned %+v)", got, up)
	}
	if err := db.DeleteSuppression(ctx, "acme", sp.ID, "key:k3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Suppression(ctx, "acme", sp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	audit, _, err := s.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range audit {
		if e.Target != sp.ID {
			continue
		}
		acts = append(acts, e.Actor+" "+e.Action)
		if e.Action == "suppression.create" && !strings.Contains(e.Detail, "reason: backup job") {
			t.Errorf("create detail %q", e.Detail)
		}
	}
	want := []string{"key:k3 suppression.delete", "key:k2 suppression.update", "key:k1 suppression.create"}
	if strings.Join(acts, "|") != strings.Join(want, "|") {
		t.Errorf("audit %v, want %v", acts, want)
	}
}

// testSuppressedHits: a batch's suppressed signals add to the
// suppression's hits and the rule's count when it is committed, not when
// it is delivered again, and in its own workspace only.
func testSuppressedHits(t *testing.T, s store.Store) {
	db := as[store.Noise](t, s, "store.Noise")
	mustWorkspace(t, s, "acme", "other")
	sp, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "10.0.0.0/8", Reason: "scanner"}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "other", ID: sp.ID, CIDR: "10.0.0.0/8", Reason: "scanner"}, "cli")
	if err != nil {
		t.Fatalf("the same id in another workspace: %v", err)
	}
	e := Event("acme", "s", T0, "h1", "u", "10.1.1.1")
	b := Batch("acme", "s", e)
	b.Signals = []alert.Signal{Signal("acme", "r-alerting", alert.High, "h1", e)}
	b.Suppressed = []suppress.Hit{{Suppression: sp.ID, Rule: "r-scan", Count: 3, Last: T0}, {Suppression: sp.ID, Rule: "r-alerting", Count: 2, Last: T0}}
	before := time.Now().Add(-time.Second)
	if n := commit(t, s, b); n != 1 {
		t.Fatalf("committed %d", n)
	}
	after := time.Now().Add(time.Second)
	if n := commit(t, s, b); n != 0 { // redelivered
		t.Fatalf("replay committed %d", n)
	}
	got, _ := db.Suppression(ctx, "acme", sp.ID)
	if got.Hits != 5 || got.LastHit == nil || !within(*got.LastHit, before, after) {
		t.Fatalf("hits %d, last %v; want 5 at commit time", got.Hits, got.LastHit)
	}
	if got, _ := db.Suppression(ctx, "other", theirs.ID); got.Hits != 0 {
		t.Errorf("the other workspace's suppression of the same id counts %d hits", got.Hits)
	}
	stats, err := db.RuleStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]store.RuleStats{}
	for _, r := range stats {
		by[r.Rule] = r
	}
	if by["r-scan"].Suppressed != 3 || by["r-scan"].Alerts != 0 || by["r-alerting"].Suppressed != 2 || by["r-alerting"].Alerts != 1 {
		t.Fatalf("stats %+v", stats)
	}
	if stats[0].Rule != "r-alerting" {
		t.Errorf("rules with alerts come first: %+v", stats)
	}
	if stats, _ := db.RuleStats(ctx, "other"); len(stats) != 0 {
		t.Errorf("other's rule stats: %+v", stats)
	}
}

// manyAlerts commits n alerts of rules r0, r1 and r2 in turn.
func manyAlerts(t *testing.T, s store.Store, ws string, n int) {
	t.Helper()
	b := Batch(ws, "s")
	for i := range n {
		e := Event(ws, "s", T0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("h%d", i), "u", "1.1.1.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, Signal(ws, fmt.Sprintf("r%d", i%3), alert.Severity(i%5), fmt.Sprintf("h%d", i), e))
	}
	commit(t, s, b)
}

func testFalsePositives(t *testing.T, s store.Store) {
	db := as[store.Noise](t, s, "store.Noise")
	mustWorkspace(t, s, "acme")
	manyAlerts(t, s, "acme", 9) // rules r0, r1, r2: three alerts each
	all := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100})
	var r0 []alert.Alert
	for _, a := range all {
		if a.Rule.ID == "r0" {
			r0 = append(r0, a)
		}
	}
	if len(r0) != 3 {
		t.Fatalf("%d alerts of r0", len(r0))
	}
	a, err := db.ClassifyAlert(ctx, "acme", r0[0].ID, alert.StatusDismissed, alert.ReasonFalsePositive, "key:k")
	if err != nil || a.Reason != alert.ReasonFalsePositive {
		t.Fatalf("classify: %+v, %v", a, err)
	}
	if _, err := db.ClassifyAlert(ctx, "acme", r0[1].ID, alert.StatusDismissed, alert.ReasonBenignPositive, "key:k"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClassifyAlert(ctx, "acme", r0[2].ID, alert.StatusResolved, alert.ReasonTruePositive, "key:k"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClassifyAlert(ctx, "acme", r0[2].ID, alert.StatusActive, alert.ReasonFalsePositive, "key:k"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("reason with an open status: %v, want ErrInvalid", err)
	}
	if _, err := db.ClassifyAlert(ctx, "other", r0[1].ID, alert.StatusResolved, alert.ReasonTruePositive, "key:k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("classify from another workspace: %v, want ErrNotFound", err)
	}
	got, _ := s.Alert(ctx, "acme", r0[0].ID)
	if got.Reason != alert.ReasonFalsePositive || got.Status != alert.StatusDismissed {
		t.Fatalf("read back %s %s", got.Status, got.Reason)
	}
	stats, err := db.RuleStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 3 {
		t.Errorf("stats of %d rules, want 3: %+v", len(stats), stats)
	}
	for _, r := range stats {
		switch r.Rule {
		case "r0":
			if r.Alerts != 3 || r.Dismissed != 2 || r.FalsePositives != 1 || r.Open != 0 || r.Title != "rule r0" ||
				r.FalsePositiveRate < 0.33 || r.FalsePositiveRate > 0.34 {
				t.Errorf("r0: %+v", r)
			}
		default:
			if r.Alerts != 3 || r.Dismissed != 0 || r.FalsePositives != 0 || r.Open != 3 {
				t.Errorf("%s: %+v", r.Rule, r)
			}
		}
	}
	// Reopened, the reason goes: it no longer counts.
	if _, err := s.SetAlertStatus(ctx, "acme", r0[0].ID, alert.StatusActive, "key:k"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Alert(ctx, "acme", r0[0].ID); got.Reason != "" {
		t.Errorf("reopened alert keeps reason %q", got.Reason)
	}
	stats, _ = db.RuleStats(ctx, "acme")
	for _, r := range stats {
		if r.Rule == "r0" && r.FalsePositives != 0 {
			t.Errorf("after reopening: %+v", r)
		}
	}
	audit, _, _ := s.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10})
	found := false
	for _, e := range audit {
		found = found || e.Target == r0[0].ID && e.Detail == "new -> dismissed (false_positive)"
	}
	if !found {
		t.Errorf("no audit entry for the false-positive dismissal: %+v", audit)
	}
}

// testBulkStatus: several alerts change at once, all or none; each named
// once, in the order given, each change audited.
func testBulkStatus(t *testing.T, s store.Store) {
	db := as[store.BulkAlerts](t, s, "store.BulkAlerts")
	mustWorkspace(t, s, "acme", "other")
	manyAlerts(t, s, "acme", 4)
	manyAlerts(t, s, "other", 1)
	all := allAlerts(t, s, "acme", store.AlertQuery{})
	theirs := allAlerts(t, s, "other", store.AlertQuery{})[0]
	if len(all) != 4 {
		t.Fatalf("%d alerts", len(all))
	}
	// One of another workspace: nothing changes, and the error names it.
	_, err := db.SetAlertsStatus(ctx, "acme", []string{all[0].ID, theirs.ID}, alert.StatusResolved, alert.ReasonTruePositive, "key:k")
	var ae *store.AlertError
	if !errors.Is(err, store.ErrNotFound) || !errors.As(err, &ae) || ae.ID != theirs.ID {
		t.Fatalf("with another workspace's alert: %v, want ErrNotFound naming %s", err, theirs.ID)
	}
	if a, _ := s.Alert(ctx, "acme", all[0].ID); a.Status != alert.StatusNew {
		t.Fatalf("a refused bulk change moved %s to %s", a.ID, a.Status)
	}
	if _, err := db.SetAlertsStatus(ctx, "acme", []string{all[0].ID}, alert.StatusActive, alert.ReasonFalsePositive, "key:k"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a reason with an open status: %v, want ErrInvalid", err)
	}
	if _, err := db.SetAlertsStatus(ctx, "acme", []string{all[0].ID}, alert.StatusResolved, "", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no actor: %v, want ErrInvalid", err)
	}
	ids := []string{all[2].ID, all[0].ID, all[2].ID, all[1].ID}
	out, err := db.SetAlertsStatus(ctx, "acme", ids, alert.StatusDismissed, alert.ReasonFalsePositive, "key:k")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].ID != all[2].ID || out[1].ID != all[0].ID || out[2].ID != all[1].ID {
		t.Fatalf("returned %d alerts, want 3 in the order given, each once", len(out))
	}
	for _, a := range out {
		if a.Status != alert.StatusDismissed || a.Reason != alert.ReasonFalsePositive {
			t.Errorf("returned %s %s %s", a.ID, a.Status, a.Reason)
		}
		if got, _ := s.Alert(ctx, "acme", a.ID); got.Status != alert.StatusDismissed || got.Reason != alert.ReasonFalsePositive {
			t.Errorf("stored %s %s %s", got.ID, got.Status, got.Reason)
		}
	}
	if got, _ := s.Alert(ctx, "acme", all[3].ID); got.Status != alert.StatusNew {
		t.Errorf("an alert not named changed: %s", got.Status)
	}
	// A change one of them may not make refuses all (resolved alerts
	// reopen, dismissed ones too; the same status is no move).
	if _, err := db.SetAlertsStatus(ctx, "acme", []string{all[3].ID, all[0].ID}, alert.Status("closed"), "", "key:k"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown status: %v, want ErrInvalid", err)
	}
	audit, _, _ := s.AuditLog(ctx, "acme", store.AuditQuery{Limit: 100})
	n := 0
	for _, e := range audit {
		if e.Action == "alert.status" && e.Detail == "new -> dismissed (false_positive)" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d audit lines of the bulk change, want 3", n)
	}
}
