package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type streamBody struct {
	New     []store.Decision `json:"new"`
	Deleted []store.Decision `json:"deleted"`
}

func values(ds []store.Decision) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Value)
	}
	return out
}

func addKey(t *testing.T, f *fixture, ws, scope, name string) {
	t.Helper()
	secret, key, err := NewKey(ws, scope, name, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	f.secrets[name], f.keyIDs[name] = secret, key.ID
}

func testDecisions(t *testing.T, f *fixture) {
	addKey(t, f, "a", tenant.ScopeBouncer, "a-bouncer")
	addKey(t, f, "a", tenant.ScopeBouncer, "a-bouncer2")

	// A bouncer key reads decisions, nothing else, and makes none.
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-bouncer", nil), http.StatusForbidden, nil)
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-bouncer", map[string]any{"kind": "ip", "value": "203.0.113.7", "duration": "1h", "reason": "x"}),
		http.StatusForbidden, nil)
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-read", map[string]any{"kind": "ip", "value": "203.0.113.7", "duration": "1h", "reason": "x"}),
		http.StatusForbidden, nil)

	var first streamBody
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream?startup=true", "a-bouncer", nil), http.StatusOK, &first)
	if len(first.New)+len(first.Deleted) != 0 {
		t.Fatalf("stream of an empty workspace: %+v", first)
	}

	var ip, acct store.Decision
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-admin",
		map[string]any{"kind": "ip", "value": "::ffff:203.0.113.7", "duration": "30m", "reason": "SSH brute force", "incident_id": "inc-1"}),
		http.StatusCreated, &ip)
	if ip.Value != "203.0.113.7" || ip.CreatedBy != "key:"+f.keyIDs["a-admin"] || !ip.Expires.Equal(t0.Add(30*time.Minute)) || ip.IncidentID != "inc-1" {
		t.Fatalf("created %+v", ip)
	}
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-admin",
		map[string]any{"kind": "ip", "value": "203.0.113.7", "duration": "1h", "reason": "again"}), http.StatusConflict, nil)
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-admin",
		map[string]any{"kind": "ip", "value": "203.0.113.8", "duration": "forever", "reason": "x"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-admin",
		map[string]any{"kind": "range", "value": "0.0.0.0/0", "duration": "1h", "reason": "x"}), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodPost, "/api/v1/decisions", "a-admin",
		map[string]any{"kind": "account", "value": "mallory", "duration": "2h", "reason": "stolen password"}), http.StatusCreated, &acct)

	var s streamBody
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer", nil), http.StatusOK, &s)
	if got := values(s.New); len(got) != 2 || got[0] != "203.0.113.7" || got[1] != "mallory" || len(s.Deleted) != 0 {
		t.Fatalf("poll after two decisions: %+v", s)
	}
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer", nil), http.StatusOK, &s)
	if len(s.New)+len(s.Deleted) != 0 {
		t.Fatalf("poll with nothing new: %+v", s)
	}

	// At its expiry the address is deleted, once.
	f.clock.Advance(30 * time.Minute)
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer", nil), http.StatusOK, &s)
	if got := values(s.Deleted); len(got) != 1 || got[0] != "203.0.113.7" || len(s.New) != 0 || s.Deleted[0].EndReason != store.DecisionExpired {
		t.Fatalf("poll at the expiry: %+v", s)
	}
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer", nil), http.StatusOK, &s)
	if len(s.Deleted) != 0 {
		t.Fatalf("expiry told twice: %+v", s)
	}
	var list struct{ Decisions []store.Decision }
	want(t, f.do(http.MethodGet, "/api/v1/decisions?active=true", "a-bouncer", nil), http.StatusOK, &list)
	if got := values(list.Decisions); len(got) != 1 || got[0] != "mallory" {
		t.Fatalf("active decisions: %v", got)
	}

	// Revoked: deleted for the bouncer that had it; the other bouncer,
	// polling first now, never hears of it.
	var revoked store.Decision
	want(t, f.do(http.MethodDelete, "/api/v1/decisions/"+acct.ID, "a-admin", nil), http.StatusOK, &revoked)
	if revoked.EndReason != store.DecisionRevoked || revoked.RevokedBy != "key:"+f.keyIDs["a-admin"] {
		t.Fatalf("revoked %+v", revoked)
	}
	want(t, f.do(http.MethodDelete, "/api/v1/decisions/"+acct.ID, "a-admin", nil), http.StatusConflict, nil)
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer", nil), http.StatusOK, &s)
	if got := values(s.Deleted); len(got) != 1 || got[0] != "mallory" {
		t.Fatalf("poll after the revocation: %+v", s)
	}
	want(t, f.do(http.MethodGet, "/api/v1/decisions/stream", "a-bouncer2", nil), http.StatusOK, &s)
	if len(s.New)+len(s.Deleted) != 0 {
		t.Fatalf("a new bouncer's first poll: %+v", s)
	}
	var one store.Decision
	want(t, f.do(http.MethodGet, "/api/v1/decisions/"+ip.ID, "a-bouncer", nil), http.StatusOK, &one)
	if one.Ended == nil || !one.Ended.Equal(ip.Expires) {
		t.Errorf("expired decision read back: %+v", one)
	}

	// The audit log has the creates, the expiry and the revocation.
	entries, _, err := f.st.AuditLog(context.Background(), "a", store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		if e.Target == ip.ID || e.Target == acct.ID {
			got[e.Action+" "+e.Target] = e.Actor
		}
	}
	admin := "key:" + f.keyIDs["a-admin"]
	for k, v := range map[string]string{"decision.create " + ip.ID: admin, "decision.create " + acct.ID: admin,
		"decision.expire " + ip.ID: "vigil:decisions", "decision.revoke " + acct.ID: admin} {
		if got[k] != v {
			t.Errorf("audit %s by %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestDecisions(t *testing.T)       { testDecisions(t, newFixture(t, newFakeStore())) }
func TestDecisionsSQLite(t *testing.T) { testDecisions(t, newFixture(t, openSQLite(t))) }
