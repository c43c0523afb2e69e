package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/vigil-sec/vigil/store"
)

// An admin turns a rule off and on again in one workspace; the list says
// so, for that workspace only; the detect stage is told; a reader and a
// responder may not; an unknown rule cannot be turned off.
func TestRulesEnableSQLite(t *testing.T) {
	db := openSQLite(t)
	var told []string
	f := newFixtureWith(t, db, func(c *Config) {
		c.Rules = func() []RuleInfo {
			return []RuleInfo{{ID: "r-b", Title: "B", Severity: "high"}, {ID: "r-a", Title: "A", Severity: "low"}, {ID: "r-c", Title: "C", Severity: "medium"}}
		}
		c.RulesChanged = func(ws string) { told = append(told, ws) }
	})
	off := map[string]bool{"enabled": false}

	want(t, f.do(http.MethodPatch, "/api/v1/rules/r-b", "a-read", off), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/rules/r-b", "a-responder", off), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/rules/no-such", "a-admin", off), http.StatusNotFound, nil)

	var v RuleView
	want(t, f.do(http.MethodPatch, "/api/v1/rules/r-b", "a-admin", off), http.StatusOK, &v)
	if v.Enabled || v.ID != "r-b" || v.Title != "B" || v.DisabledBy == "" || v.Disabled == nil {
		t.Fatalf("after turning off: %+v", v)
	}
	if len(told) != 1 || told[0] != "a" {
		t.Errorf("detect stage told %v, want [a]", told)
	}

	type page struct {
		Rules    []RuleView `json:"rules"`
		Total    int        `json:"total"`
		Disabled int        `json:"disabled"`
		Next     string     `json:"next"`
	}
	var p page
	want(t, f.do(http.MethodGet, "/api/v1/rules?limit=2", "a-read", nil), http.StatusOK, &p)
	if p.Total != 3 || p.Disabled != 1 || len(p.Rules) != 2 || p.Rules[0].ID != "r-a" || !p.Rules[0].Enabled ||
		p.Rules[1].ID != "r-b" || p.Rules[1].Enabled || p.Next == "" {
		t.Fatalf("first page %+v", p)
	}
	var p2 page
	want(t, f.do(http.MethodGet, "/api/v1/rules?limit=2&cursor="+p.Next, "a-read", nil), http.StatusOK, &p2)
	if len(p2.Rules) != 1 || p2.Rules[0].ID != "r-c" || p2.Next != "" {
		t.Fatalf("second page %+v", p2)
	}
	var pb page
	want(t, f.do(http.MethodGet, "/api/v1/rules", "b-read", nil), http.StatusOK, &pb)
	if pb.Disabled != 0 {
		t.Errorf("workspace b sees %d rules off", pb.Disabled)
	}

	v = RuleView{}
	want(t, f.do(http.MethodPatch, "/api/v1/rules/r-b", "a-admin", map[string]bool{"enabled": true}), http.StatusOK, &v)
	if !v.Enabled || v.DisabledBy != "" {
		t.Fatalf("after turning on: %+v", v)
	}
	var log struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, &log)
	seen := map[string]bool{}
	for _, e := range log.Entries {
		if e.Target == "rule:r-b" {
			seen[e.Action] = true
		}
	}
	if !seen["rule.disable"] || !seen["rule.enable"] {
		t.Errorf("audit log lacks the change: %v", seen)
	}
}

// A rule test runs the server's TestRule for an admin with the records
// given; an unknown format or rule is refused; others may not.
func TestRuleTestRoute(t *testing.T) {
	var got struct {
		ws, id, format string
		recs           [][]byte
	}
	f := newFixtureWith(t, newFakeStore(), func(c *Config) {
		c.TestRule = func(_ context.Context, ws, id, format string, recs [][]byte) (RuleTestResult, error) {
			got.ws, got.id, got.format, got.recs = ws, id, format, recs
			if id != "r-1" {
				return RuleTestResult{}, fmt.Errorf("rule %s: %w", id, store.ErrNotFound)
			}
			return RuleTestResult{Records: len(recs), Matched: []int{2}}, nil
		}
	})
	body := map[string]any{"format": "json", "records": []string{`{"a":1}`, `{"a":2}`}}
	want(t, f.do(http.MethodPost, "/api/v1/rules/r-1/test", "a-read", body), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPost, "/api/v1/rules/r-1/test", "a-responder", body), http.StatusForbidden, nil)
	var res RuleTestResult
	want(t, f.do(http.MethodPost, "/api/v1/rules/r-1/test", "a-admin", body), http.StatusOK, &res)
	if res.Records != 2 || len(res.Matched) != 1 || res.Matched[0] != 2 || res.Rejected == nil || res.Signals == nil {
		t.Fatalf("answer %+v", res)
	}
	if got.ws != "a" || got.id != "r-1" || got.format != "json" || len(got.recs) != 2 || string(got.recs[1]) != `{"a":2}` {
		t.Fatalf("TestRule got %+v", got)
	}
	want(t, f.do(http.MethodPost, "/api/v1/rules/nope/test", "a-admin", body), http.StatusNotFound, nil)
	want(t, f.do(http.MethodPost, "/api/v1/rules/r-1/test", "a-admin", map[string]any{"format": "no-such", "records": []string{"x"}}),
		http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPost, "/api/v1/rules/r-1/test", "a-admin", map[string]any{"format": "json", "records": []string{}}),
		http.StatusUnprocessableEntity, nil)
}
