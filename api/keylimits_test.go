package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type createdKey struct {
	Key    tenant.APIKey `json:"key"`
	Secret string        `json:"secret"`
}

// A key may carry an expiry: past it, it is refused with a 401 that says
// so, and audited. Rotation issues a successor of the same scope and name
// and lets the old key work for the overlap. Against both stores.
func TestKeyExpiryAndRotation(t *testing.T) {
	for _, c := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"fake", func(*testing.T) store.Store { return newFakeStore() }},
		{"sqlite", func(t *testing.T) store.Store { return openStore[store.Store](t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := c.st(t)
			f := newFixture(t, st)
			var short createdKey
			want(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]any{
				"scope": "read", "name": "ci", "expires": t0.Add(time.Hour).Format(time.RFC3339)}), http.StatusCreated, &short)
			if short.Key.Expires == nil || !short.Key.Expires.Equal(t0.Add(time.Hour)) {
				t.Fatalf("created key expires %v, want %v", short.Key.Expires, t0.Add(time.Hour))
			}
			f.secrets["short"] = short.Secret
			want(t, f.do(http.MethodGet, "/api/v1/alerts", "short", nil), http.StatusOK, nil)
			wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]any{
				"scope": "read", "expires": t0.Add(-time.Hour).Format(time.RFC3339)}), http.StatusUnprocessableEntity, "not in the future")

			// Rotate: a successor now, the old key for 30 more minutes.
			var next createdKey
			want(t, f.do(http.MethodPost, "/api/v1/keys/"+short.Key.ID+"/rotate", "a-admin", map[string]any{"overlap": "30m"}),
				http.StatusCreated, &next)
			if next.Key.ID == short.Key.ID || next.Key.Scope != "read" || next.Key.Name != "ci" || next.Secret == "" {
				t.Fatalf("successor %+v", next.Key)
			}
			f.secrets["next"] = next.Secret
			f.clock.Advance(20 * time.Minute)
			want(t, f.do(http.MethodGet, "/api/v1/alerts", "short", nil), http.StatusOK, nil)
			want(t, f.do(http.MethodGet, "/api/v1/alerts", "next", nil), http.StatusOK, nil)
			f.clock.Advance(15 * time.Minute) // past the overlap, before the hour
			w := f.do(http.MethodGet, "/api/v1/alerts", "short", nil)
			wantProblem(t, w, http.StatusUnauthorized, "expired at "+t0.Add(30*time.Minute).Format(time.RFC3339), "successor")
			want(t, f.do(http.MethodGet, "/api/v1/alerts", "next", nil), http.StatusOK, nil)
			var e store.AuditEntry
			for _, x := range auditLines(t, st, "a") {
				if x.Action == "auth.refused" && strings.HasPrefix(x.Detail, "expired ") {
					e = x
				}
			}
			if e.Target != "key:"+short.Key.ID {
				t.Errorf("expired key's refusal not audited: %+v", e)
			}
			rot := false
			for _, x := range auditLines(t, st, "a") {
				rot = rot || x.Action == "key.rotate" && x.Target == "key:"+short.Key.ID && strings.Contains(x.Detail, next.Key.ID)
			}
			if !rot {
				t.Errorf("no key.rotate audit line naming the successor")
			}
			// An expired key is not rotated; an unknown one is 404.
			wantProblem(t, f.do(http.MethodPost, "/api/v1/keys/"+short.Key.ID+"/rotate", "a-admin", nil), http.StatusUnprocessableEntity, "expired")
			wantProblem(t, f.do(http.MethodPost, "/api/v1/keys/nope/rotate", "a-admin", nil), http.StatusNotFound)
			wantProblem(t, f.do(http.MethodPost, "/api/v1/keys/"+next.Key.ID+"/rotate", "a-admin", map[string]any{"overlap": "soon"}), http.StatusUnprocessableEntity, "overlap")
		})
	}
}

// A key with an allow-list works from its addresses only; from elsewhere
// it is 403 and audited.
func TestKeyAllowList(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	var k createdKey
	want(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]any{
		"scope": "read", "allow": []string{"192.0.2.0/24", "2001:db8::1"}}), http.StatusCreated, &k)
	if strings.Join(k.Key.Allow, " ") != "192.0.2.0/24 2001:db8::1/128" {
		t.Errorf("allow %v", k.Key.Allow)
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]any{"scope": "read", "allow": []string{"10.0.0.0/33"}}),
		http.StatusUnprocessableEntity, "10.0.0.0/33")
	for _, c := range []struct {
		peer string
		code int
	}{{"192.0.2.44:5", 200}, {"[2001:db8::1]:5", 200}, {"198.51.100.1:5", 403}, {"[2001:db8::2]:5", 403}} {
		w := fromAddr(f, c.peer, k.Secret)
		if w.Code != c.code {
			t.Errorf("from %s: %d %s, want %d", c.peer, w.Code, w.Body, c.code)
		}
		if c.code == 403 && !strings.Contains(w.Body.String(), "may not be used from") {
			t.Errorf("from %s: %s", c.peer, w.Body)
		}
	}
	n := 0
	for _, e := range st.auditOf("auth.refused") {
		if e.Target == "key:"+k.Key.ID && strings.HasPrefix(e.Detail, "address ") {
			n += e.Count
		}
	}
	if n != 2 {
		t.Errorf("%d refusals from other addresses audited, want 2", n)
	}
	// The successor keeps the allow-list.
	var next createdKey
	want(t, f.do(http.MethodPost, "/api/v1/keys/"+k.Key.ID+"/rotate", "a-admin", nil), http.StatusCreated, &next)
	if strings.Join(next.Key.Allow, " ") != "192.0.2.0/24 2001:db8::1/128" {
		t.Errorf("successor allow %v", next.Key.Allow)
	}
	if w := fromAddr(f, "198.51.100.1:5", next.Secret); w.Code != 403 {
		t.Errorf("successor from elsewhere: %d", w.Code)
	}
}

func auditLines(t *testing.T, st store.Store, ws string) []store.AuditEntry {
	t.Helper()
	es, _, err := st.AuditLog(t.Context(), ws, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}
