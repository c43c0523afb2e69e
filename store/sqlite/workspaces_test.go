package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// TestSetWorkspaceTier: a tier change returns the workspace as it was and
// writes its audit entry (old -> new) in the same transaction; setting the
// tier a workspace has changes and audits nothing; a bad tier, a missing
// actor and an unknown workspace are refused.
func TestSetWorkspaceTier(t *testing.T) {
	db, clock := openTest(t)
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierFree); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Hour))
	old, err := db.SetWorkspaceTier(ctx, "acme", tenant.TierStandard, "cli")
	if err != nil || old.Name != "acme" || old.Tier != tenant.TierFree || !old.Created.Equal(t0) {
		t.Fatalf("SetWorkspaceTier = %+v, %v; want the workspace as it was (free)", old, err)
	}
	if w, err := db.Workspace(ctx, "acme"); err != nil || w.Tier != tenant.TierStandard || !w.Created.Equal(t0) {
		t.Fatalf("after the change: %+v, %v", w, err)
	}
	entries, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit log %+v, %v; want one entry", entries, err)
	}
	e := entries[0]
	if e.Action != "workspace.tier" || e.Actor != "cli" || e.Target != "workspace:acme" || e.Detail != "free -> standard" || !e.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("audit entry %+v", e)
	}

	old, err = db.SetWorkspaceTier(ctx, "acme", tenant.TierStandard, "cli")
	if err != nil || old.Tier != tenant.TierStandard {
		t.Errorf("same tier again: %+v, %v", old, err)
	}
	if entries, _, _ := db.AuditLog(ctx, "acme", store.AuditQuery{}); len(entries) != 1 {
		t.Errorf("setting the tier the workspace has wrote %d audit entries, want none", len(entries)-1)
	}

	if _, err := db.SetWorkspaceTier(ctx, "acme", "premium", "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad tier: err = %v, want ErrInvalid", err)
	}
	if _, err := db.SetWorkspaceTier(ctx, "acme", tenant.TierFree, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no actor: err = %v, want ErrInvalid", err)
	}
	if _, err := db.SetWorkspaceTier(ctx, "nope", tenant.TierFree, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown workspace: err = %v, want ErrNotFound", err)
	}
	if w, _ := db.Workspace(ctx, "acme"); w.Tier != tenant.TierStandard {
		t.Errorf("refused changes left tier %s", w.Tier)
	}
}
