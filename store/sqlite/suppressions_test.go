package sqlite

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

func TestSuppressionsLifecycle(t *testing.T) {
	db, clock := openTest(t)
	exp := t0.Add(48 * time.Hour)
	s, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", Rule: "r1",
		Entity: &alert.Entity{Type: "account", Value: "svc"}, Reason: "backup job", Expires: &exp}, "key:k1")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || s.Author != "key:k1" || !s.Created.Equal(t0) {
		t.Fatalf("created %+v", s)
	}
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "10.0.0.0/8"}, "key:k1"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("without a reason: %v, want ErrInvalid", err)
	}
	// Another workspace sees none of it.
	if _, err := db.Suppression(ctx, "other", s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace reads it: %v", err)
	}
	if err := db.DeleteSuppression(ctx, "other", s.ID, "key:x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other workspace deletes it: %v", err)
	}
	if list, _ := db.Suppressions(ctx, "other"); len(list) != 0 {
		t.Errorf("other workspace lists %+v", list)
	}

	clock.set(t0.Add(time.Hour))
	up, err := db.UpdateSuppression(ctx, suppress.Suppression{Workspace: "acme", ID: s.ID, CIDR: "192.0.2.0/24", Reason: "lab"}, "key:k2")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Suppression(ctx, "acme", s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rule != "" || got.Entity != nil || got.CIDR != "192.0.2.0/24" || got.Expires != nil || got.Author != "key:k1" ||
		!got.Updated.Equal(t0.Add(time.Hour)) || !got.Created.Equal(t0) || up.Reason != "lab" {
		t.Fatalf("after update %+v", got)
	}
	if err := db.DeleteSuppression(ctx, "acme", s.ID, "key:k3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Suppression(ctx, "acme", s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	audit, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range audit {
		acts = append(acts, e.Actor+" "+e.Action+" "+e.Target)
		if e.Target == s.ID && e.Action == "suppression.create" && !strings.Contains(e.Detail, "reason: backup job") {
			t.Errorf("create detail %q", e.Detail)
		}
	}
	want := []string{"key:k3 suppression.delete " + s.ID, "key:k2 suppression.update " + s.ID, "key:k1 suppression.create " + s.ID}
	if strings.Join(acts, "|") != strings.Join(want, "|") {
		t.Errorf("audit %v, want %v", acts, want)
	}
}

// TestSuppressedHitsCountOnce: a batch's suppressed signals add to the
// suppression's hits and the rule's count when it is committed, not when
// it is delivered again.
func TestSuppressedHitsCountOnce(t *testing.T) {
	db, clock := openTest(t)
	s, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", CIDR: "10.0.0.0/8", Reason: "scanner"}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	e := ev("acme", "s", t0, "h1", "u", "10.1.1.1")
	b := batch("acme", "s", e)
	b.Signals = []alert.Signal{sig("acme", "r-alerting", alert.High, "h1", e)}
	b.Suppressed = []suppress.Hit{{Suppression: s.ID, Rule: "r-scan", Count: 3, Last: t0}, {Suppression: s.ID, Rule: "r-alerting", Count: 2, Last: t0}}
	clock.set(t0.Add(time.Minute))
	if n := commit(t, db, b); n != 1 {
		t.Fatalf("committed %d", n)
	}
	if n := commit(t, db, b); n != 0 { // redelivered
		t.Fatalf("replay committed %d", n)
	}
	got, _ := db.Suppression(ctx, "acme", s.ID)
	if got.Hits != 5 || got.LastHit == nil || !got.LastHit.Equal(t0.Add(time.Minute)) {
		t.Fatalf("hits %d, last %v; want 5 at commit time", got.Hits, got.LastHit)
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
}

func TestFalsePositiveCounts(t *testing.T) {
	db, _ := openTest(t)
	manyAlerts(t, db, "acme", 9) // rules r0, r1, r2: three alerts each
	all := allAlerts(t, db, "acme", store.AlertQuery{Limit: 100})
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
	got, _ := db.Alert(ctx, "acme", r0[0].ID)
	if got.Reason != alert.ReasonFalsePositive || got.Status != alert.StatusDismissed {
		t.Fatalf("read back %s %s", got.Status, got.Reason)
	}
	stats, err := db.RuleStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
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
	if _, err := db.SetAlertStatus(ctx, "acme", r0[0].ID, alert.StatusActive, "key:k"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Alert(ctx, "acme", r0[0].ID); got.Reason != "" {
		t.Errorf("reopened alert keeps reason %q", got.Reason)
	}
	stats, _ = db.RuleStats(ctx, "acme")
	for _, r := range stats {
		if r.Rule == "r0" && r.FalsePositives != 0 {
			t.Errorf("after reopening: %+v", r)
		}
	}
	audit, _, _ := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 10})
	found := false
	for _, e := range audit {
		found = found || e.Target == r0[0].ID && e.Detail == "new -> dismissed (false_positive)"
	}
	if !found {
		t.Errorf("no audit entry for the false-positive dismissal: %+v", audit)
	}
}
