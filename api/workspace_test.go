package api

import (
	"net/http"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// TestSetWorkspaceTier: an admin key changes its own workspace's tier with
// PATCH /api/v1/workspace; the change is audited (workspace.tier, old ->
// new, by the key), announced to TierChanged (the running detect stage),
// and touches no other workspace. Other scopes and unknown tiers are
// refused; setting the tier the workspace has audits nothing.
func TestSetWorkspaceTier(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	var changed []string
	f.api.tierChanged = func(ws string) { changed = append(changed, ws) }

	var ws struct {
		Workspace, Tier, Scope string
	}
	want(t, f.do(http.MethodPatch, "/api/v1/workspace", "b-admin", map[string]string{"tier": "standard"}), http.StatusOK, &ws)
	if ws.Workspace != "b" || ws.Tier != tenant.TierStandard || ws.Scope != tenant.ScopeAdmin {
		t.Errorf("PATCH answered %+v, want workspace b at tier standard", ws)
	}
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "b-read", nil), http.StatusOK, &ws)
	if ws.Tier != tenant.TierStandard {
		t.Errorf("after PATCH, GET says tier %s", ws.Tier)
	}
	if len(changed) != 1 || changed[0] != "b" {
		t.Errorf("TierChanged calls %v, want [b]", changed)
	}
	if a, _ := st.Workspace(t.Context(), "a"); a.Tier != tenant.TierStandard {
		t.Errorf("workspace a changed to %s", a.Tier)
	}

	var log struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "b-admin", nil), http.StatusOK, &log)
	var tiers []store.AuditEntry
	for _, e := range log.Entries {
		if e.Action == "workspace.tier" {
			tiers = append(tiers, e)
		}
	}
	if len(tiers) != 1 || tiers[0].Actor != "key:"+f.keyIDs["b-admin"] || tiers[0].Detail != "free -> standard" || tiers[0].Target != "workspace:b" {
		t.Errorf("workspace.tier audit entries %+v, want one: free -> standard by key:%s", tiers, f.keyIDs["b-admin"])
	}

	// The same tier again: answered, not audited, not announced.
	want(t, f.do(http.MethodPatch, "/api/v1/workspace", "b-admin", map[string]string{"tier": "standard"}), http.StatusOK, &ws)
	want(t, f.do(http.MethodGet, "/api/v1/audit", "b-admin", nil), http.StatusOK, &log)
	n := 0
	for _, e := range log.Entries {
		if e.Action == "workspace.tier" {
			n++
		}
	}
	if n != 1 || len(changed) != 1 {
		t.Errorf("setting the same tier: %d audit entries, %d announcements; want 1 and 1", n, len(changed))
	}

	wantProblem(t, f.do(http.MethodPatch, "/api/v1/workspace", "b-read", map[string]string{"tier": "free"}), http.StatusForbidden, "admin")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/workspace", "a-ingest", map[string]string{"tier": "free"}), http.StatusForbidden, "admin")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/workspace", "b-admin", map[string]string{"tier": "premium"}), http.StatusUnprocessableEntity, "body.tier", "free", "standard")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/workspace", "b-admin", map[string]string{}), http.StatusUnprocessableEntity, "tier")
	if b, _ := st.Workspace(t.Context(), "b"); b.Tier != tenant.TierStandard {
		t.Errorf("refused PATCHes left tier %s", b.Tier)
	}
}
