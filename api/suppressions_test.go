package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

type suppressionList struct {
	Suppressions []suppress.Suppression `json:"suppressions"`
}

// testSuppressionRoutes walks a suppression's life through the API:
// scopes, the mandatory reason, audit entries, the stage told of each
// change.
func testSuppressionRoutes(t *testing.T, st store.Store) {
	var changed []string
	f := newFixtureWith(t, st, func(c *Config) { c.SuppressionsChanged = func(ws string) { changed = append(changed, ws) } })
	body := map[string]any{"rule": "rule-1", "entity": map[string]string{"type": "account", "value": "a-user1"},
		"reason": "service account", "expires": "2099-01-01T00:00:00Z"}

	want(t, f.do(http.MethodPost, "/api/v1/suppressions", "a-read", body), http.StatusForbidden, nil)
	noReason := map[string]any{"cidr": "10.0.0.0/8"}
	want(t, f.do(http.MethodPost, "/api/v1/suppressions", "a-admin", noReason), http.StatusUnprocessableEntity, nil)
	for _, bad := range []map[string]any{
		{"cidr": "10.0.0.0/8", "reason": ""},
		{"reason": "matches nothing"},
		{"field": "no.such", "value": "x", "reason": "r"},
		{"cidr": "10.0.0.0/33", "reason": "r"},
		{"cidr": "10.0.0.0/8", "reason": "r", "expires": "2001-01-01T00:00:00Z"},
	} {
		if w := f.do(http.MethodPost, "/api/v1/suppressions", "a-admin", bad); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("POST %v: %d, want 422; %s", bad, w.Code, w.Body)
		}
	}
	if len(changed) != 0 {
		t.Fatalf("refused requests told the stage: %v", changed)
	}

	var created suppress.Suppression
	want(t, f.do(http.MethodPost, "/api/v1/suppressions", "a-admin", body), http.StatusCreated, &created)
	if created.ID == "" || created.Reason != "service account" || created.Author != "key:"+f.keyIDs["a-admin"] ||
		created.Entity == nil || created.Entity.Value != "a-user1" || created.Expires == nil || created.Workspace != "a" {
		t.Fatalf("created %+v", created)
	}
	var got suppress.Suppression
	want(t, f.do(http.MethodGet, "/api/v1/suppressions/"+created.ID, "a-read", nil), http.StatusOK, &got)
	if got.ID != created.ID || got.Hits != 0 {
		t.Errorf("get %+v", got)
	}
	var list suppressionList
	want(t, f.do(http.MethodGet, "/api/v1/suppressions", "a-read", nil), http.StatusOK, &list)
	if len(list.Suppressions) != 1 {
		t.Errorf("list %+v", list)
	}
	want(t, f.do(http.MethodGet, "/api/v1/suppressions", "b-read", nil), http.StatusOK, &list)
	if len(list.Suppressions) != 0 {
		t.Errorf("b lists a's suppression: %+v", list)
	}

	upd := map[string]any{"cidr": "192.0.2.0/24", "reason": "lab network"}
	want(t, f.do(http.MethodPut, "/api/v1/suppressions/"+created.ID, "a-read", upd), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPut, "/api/v1/suppressions/"+created.ID, "b-admin", upd), http.StatusNotFound, nil)
	got = suppress.Suppression{} // fields absent from the answer must read as absent
	want(t, f.do(http.MethodPut, "/api/v1/suppressions/"+created.ID, "a-admin", upd), http.StatusOK, &got)
	if got.CIDR != "192.0.2.0/24" || got.Entity != nil || got.Expires != nil || got.Author != created.Author {
		t.Errorf("updated %+v", got)
	}
	want(t, f.do(http.MethodDelete, "/api/v1/suppressions/"+created.ID, "b-admin", nil), http.StatusNotFound, nil)
	want(t, f.do(http.MethodDelete, "/api/v1/suppressions/"+created.ID, "a-admin", nil), http.StatusNoContent, nil)
	want(t, f.do(http.MethodGet, "/api/v1/suppressions/"+created.ID, "a-read", nil), http.StatusNotFound, nil)
	if strings.Join(changed, ",") != "a,a,a" {
		t.Errorf("stage told of %v, want a's three changes", changed)
	}

	var audit struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, &audit)
	var acts []string
	for _, e := range audit.Entries {
		if strings.HasPrefix(e.Action, "suppression.") {
			acts = append(acts, e.Action+" "+e.Actor)
			if e.Target != created.ID {
				t.Errorf("audit entry %+v targets another id", e)
			}
		}
	}
	k := "key:" + f.keyIDs["a-admin"]
	if strings.Join(acts, "|") != "suppression.delete "+k+"|suppression.update "+k+"|suppression.create "+k {
		t.Errorf("audit %v", acts)
	}
}

func TestSuppressionRoutes(t *testing.T)       { testSuppressionRoutes(t, newFakeStore()) }
func TestSuppressionRoutesSQLite(t *testing.T) { testSuppressionRoutes(t, openSQLite(t)) }

// testFalsePositiveStats: a dismissal as false positive counts against the
// rule in /api/v1/rules/stats; a status body without reason still works.
func testFalsePositiveStats(t *testing.T, st store.Store) {
	f := newFixture(t, st)
	ids := f.seeds["a"].alertIDs
	var al struct {
		Status, Reason string
		Rule           struct{ ID string }
	}
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+ids[0], "a-admin", map[string]string{"status": "dismissed", "reason": "false_positive"}), http.StatusOK, &al)
	if al.Status != "dismissed" || al.Reason != "false_positive" {
		t.Fatalf("patched %+v", al)
	}
	fpRule := al.Rule.ID
	al.Reason = ""
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+ids[1], "a-admin", map[string]string{"status": "resolved"}), http.StatusOK, &al)
	if al.Reason != "" {
		t.Errorf("resolved without reason has %q", al.Reason)
	}
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+ids[2], "a-admin", map[string]string{"status": "active", "reason": "false_positive"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+ids[2], "a-admin", map[string]string{"status": "dismissed", "reason": "because"}), http.StatusUnprocessableEntity, nil)

	var stats struct {
		Rules []store.RuleStats `json:"rules"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/rules/stats", "a-read", nil), http.StatusOK, &stats)
	if len(stats.Rules) != 3 {
		t.Fatalf("stats of %d rules, want 3: %+v", len(stats.Rules), stats.Rules)
	}
	for _, r := range stats.Rules {
		fp := int64(0)
		if r.Rule == fpRule {
			fp = 1
		}
		if r.FalsePositives != fp || r.Alerts != 1 {
			t.Errorf("rule %s: %+v, want %d false positives of 1 alert", r.Rule, r, fp)
		}
	}
	want(t, f.do(http.MethodGet, "/api/v1/rules/stats", "b-read", nil), http.StatusOK, &stats)
	for _, r := range stats.Rules {
		if r.FalsePositives != 0 || r.Dismissed != 0 {
			t.Errorf("b's stats show a's dismissal: %+v", r)
		}
	}
}

func TestFalsePositiveStats(t *testing.T)       { testFalsePositiveStats(t, newFakeStore()) }
func TestFalsePositiveStatsSQLite(t *testing.T) { testFalsePositiveStats(t, openSQLite(t)) }
