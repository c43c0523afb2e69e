package sqlite

import (
	"errors"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// A rule turned off is listed for its workspace only, with who turned it
// off and when; turned on again, it is gone; repeats change nothing.
func TestDisabledRules(t *testing.T) {
	db, _ := openTest(t)
	for _, ws := range []string{"w1", "w2"} {
		if _, err := db.CreateWorkspace(ctx, ws, tenant.TierFree); err != nil {
			t.Fatal(err)
		}
	}
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", false, "user:alice"); err != nil || !changed {
		t.Fatalf("turn off: %t, %v", changed, err)
	}
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", false, "user:bob"); err != nil || changed {
		t.Fatalf("turn off again: %t, %v (want no change)", changed, err)
	}
	got, err := db.DisabledRules(ctx, "w1")
	if err != nil || len(got) != 1 || got[0].Rule != "r1" || got[0].Actor != "user:alice" || !got[0].Since.Equal(t0) {
		t.Fatalf("w1 disabled %+v, %v", got, err)
	}
	if got, err := db.DisabledRules(ctx, "w2"); err != nil || len(got) != 0 {
		t.Fatalf("w2 sees %+v, %v", got, err)
	}
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", true, "user:alice"); err != nil || !changed {
		t.Fatalf("turn on: %t, %v", changed, err)
	}
	if got, _ := db.DisabledRules(ctx, "w1"); len(got) != 0 {
		t.Fatalf("after turning on: %+v", got)
	}
	if _, err := db.SetRuleEnabled(ctx, "nope", "r1", false, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown workspace: %v, want ErrNotFound", err)
	}
	if _, err := db.SetRuleEnabled(ctx, "w1", "", false, "x"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no rule id: %v, want ErrInvalid", err)
	}
}
