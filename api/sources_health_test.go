package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/tenant"
)

// TestSourcesCarryHealth: the sources routes show the health monitor's
// rate and silence for sources it knows, and nothing for the others.
func TestSourcesCarryHealth(t *testing.T) {
	st := newFakeStore()
	st.workspaces["h"] = tenant.Workspace{Name: "h", Tier: tenant.TierFree}
	ctx := context.Background()
	for _, n := range []string{"busy", "new"} {
		if err := st.PutSource(ctx, tenant.Source{Workspace: "h", Name: n, Format: testFormat, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	secret, k, _ := NewKey("h", tenant.ScopeRead, "", time.Now())
	st.CreateKey(ctx, k)
	var asked string
	a, err := New(Config{Store: st, SourceHealth: func(ws string) map[string]SourceHealth {
		asked = ws
		return map[string]SourceHealth{"busy": {Rate: 12.5, UsualInterval: "30s", Silent: true}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/sources", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	var out struct {
		Sources []SourceView `json:"sources"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s %v", rec.Code, rec.Body, err)
	}
	if asked != "h" {
		t.Fatalf("health asked for workspace %q", asked)
	}
	got := map[string]*SourceHealth{}
	for _, s := range out.Sources {
		got[s.Name] = s.Health
	}
	if h := got["busy"]; h == nil || h.Rate != 12.5 || !h.Silent || h.UsualInterval != "30s" {
		t.Fatalf("busy: %+v", h)
	}
	if h, ok := got["new"]; !ok || h != nil {
		t.Fatalf("new source: present %v health %+v", ok, h)
	}
}
