package analysis

import (
	"context"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// TestStageSuppressionsWithStore runs the stage's processing and
// correlation steps against a real store (the suite's: SQLite, or
// PostgreSQL with VIGIL_TEST_STORE=postgres): a suppression of a
// correlation keeps its alert out while the base rule's matches still
// count; a suppression of the base rule for one account keeps that
// account's matches from the correlator; the store counts the hits.
func TestStageSuppressionsWithStore(t *testing.T) {
	ctx := context.Background()
	db := teststore.Open[interface {
		store.Store
		store.Noise
	}](t)
	corr, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "w", Rule: "11111111-0000-4000-8000-000000000002",
		Entity: &alert.Entity{Type: alert.EntityAccount, Value: "bob"}, Reason: "bob's password manager retries"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	base, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "w", Rule: "11111111-0000-4000-8000-000000000001",
		Field: "user.name", Value: "carol", Reason: "test account"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	s := NewStage(StageConfig{Store: db, Suppressions: db, Rules: func() *Rules { return rs }})
	p := NewProcessor(rs)
	p.Suppressions = s.suppressions
	lines := append(append(failures("bob", 3), failures("carol", 3)...), failures("dave", 3)...)
	res := p.Process(batchOf("windows", lines...), tenant.Source{})
	if len(res.Matches) != 6 { // bob's and dave's; carol's suppressed
		t.Fatalf("%d matches reach the correlator, want 6 (carol's suppressed)", len(res.Matches))
	}
	if _, err := db.Commit(ctx, []*store.Batch{res.Batch}); err != nil {
		t.Fatal(err)
	}
	out := s.correlateCommitted([]processed{{res: res, rules: rs}}, []bool{true})
	if _, err := db.Commit(ctx, out); err != nil {
		t.Fatal(err)
	}
	als, _, err := db.Alerts(ctx, "w", store.AlertQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(als) != 1 || als[0].Entities[0].Value != "dave" {
		t.Fatalf("alerts %+v, want dave's brute force only", als)
	}
	for _, c := range []struct {
		id   string
		hits int64
	}{{corr.ID, 3}, {base.ID, 3}} { // a correlation signal a evidence event
		got, err := db.Suppression(ctx, "w", c.id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Hits != c.hits || got.LastHit == nil {
			t.Errorf("suppression %s (%s): %d hits, want %d", c.id, got.Reason, got.Hits, c.hits)
		}
	}
	stats, err := db.RuleStats(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.RuleStats{}
	for _, r := range stats {
		got[r.Rule] = r
	}
	if r := got["11111111-0000-4000-8000-000000000002"]; r.Alerts != 1 || r.Suppressed != 3 {
		t.Errorf("correlation stats %+v", r)
	}
	if r := got["11111111-0000-4000-8000-000000000001"]; r.Suppressed != 3 {
		t.Errorf("base rule stats %+v", r)
	}
}
