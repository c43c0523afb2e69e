package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func TestAuthRefused(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	unknown, _, err := NewKey("a", tenant.ScopeAdmin, "never stored", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeKey(context.Background(), "a", f.keyIDs["a-read"], t0); err != nil {
		t.Fatal(err)
	}
	revoked := f.secrets["a-read"]

	cases := []struct {
		name      string
		header    []string
		reason    string
		workspace string
	}{
		{"missing", nil, refusedMissing, ""},
		{"empty", []string{""}, refusedMissing, ""},
		{"basic scheme", []string{"Basic " + unknown}, refusedMalformed, ""},
		{"no scheme", []string{unknown}, refusedMalformed, ""},
		{"not a vigil key", []string{"Bearer abc.def"}, refusedMalformed, ""},
		{"upper case", []string{"Bearer " + strings.ToUpper(unknown)}, refusedMalformed, ""},
		{"truncated", []string{"Bearer " + unknown[:40]}, refusedMalformed, ""},
		{"two headers", []string{"Bearer " + unknown, "Bearer " + unknown}, refusedMalformed, ""},
		{"unknown", []string{"Bearer " + unknown}, refusedUnknown, ""},
		{"revoked", []string{"Bearer " + revoked}, refusedRevoked, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := counterValue(f.api.metrics.refused.WithLabelValues(c.reason))
			n := st.auditCount("auth.refused")
			r := httptest.NewRequest(http.MethodGet, "/api/v1/alerts?limit=5", nil)
			for _, h := range c.header {
				r.Header.Add("Authorization", h)
			}
			w := httptest.NewRecorder()
			f.api.ServeHTTP(w, r)
			wantProblem(t, w, http.StatusUnauthorized)
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
			}
			if strings.Contains(w.Body.String(), `"alerts"`) {
				t.Errorf("refused request got data: %s", w.Body)
			}
			// Repeats of one address and reason share a line.
			if got := st.auditCount("auth.refused"); got != n+1 {
				t.Fatalf("auth.refused lines count %d refusals, want %d", got, n+1)
			}
			var e store.AuditEntry
			for _, x := range st.auditOf("auth.refused") {
				if strings.HasPrefix(x.Detail, c.reason+" ") {
					e = x
				}
			}
			if e.Actor != "192.0.2.1" {
				t.Errorf("actor %q, want the remote address 192.0.2.1", e.Actor)
			}
			if e.Workspace != c.workspace {
				t.Errorf("workspace %q, want %q", e.Workspace, c.workspace)
			}
			if !strings.Contains(e.Detail, c.reason) || !strings.Contains(e.Detail, "GET /api/v1/alerts") {
				t.Errorf("detail %q should name reason %q and the route", e.Detail, c.reason)
			}
			for _, s := range []string{unknown, revoked, unknown[4:20], revoked[4:20]} {
				if strings.Contains(e.Detail+e.Target+e.Actor, s) {
					t.Errorf("audit entry holds (part of) a secret: %+v", e)
				}
			}
			if after := counterValue(f.api.metrics.refused.WithLabelValues(c.reason)); after != before+1 {
				t.Errorf("vigil_auth_refused_total{reason=%q} went %v -> %v, want +1", c.reason, before, after)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	al := f.seeds["a"].alertIDs[0]

	refused := []struct {
		key, method, path, need string
		body                    any
	}{
		{"a-read", http.MethodPatch, "/api/v1/alerts/" + al, "responder or admin", map[string]string{"status": "active"}},
		{"a-read", http.MethodPost, "/api/v1/keys", "admin", map[string]string{"scope": "read"}},
		{"a-read", http.MethodGet, "/api/v1/keys", "admin", nil},
		{"a-read", http.MethodDelete, "/api/v1/keys/" + f.keyIDs["a-ingest"], "admin", nil},
		{"a-read", http.MethodPut, "/api/v1/sources/x", "admin", map[string]string{"format": testFormat}},
		{"a-read", http.MethodGet, "/api/v1/audit", "admin", nil},
		{"a-read", http.MethodPost, "/api/v1/ingest", "ingest or admin", nil},
		{"a-ingest", http.MethodGet, "/api/v1/alerts", "read, responder or admin", nil},
		{"a-ingest", http.MethodGet, "/api/v1/workspace", "read, responder or admin", nil},
		{"a-ingest", http.MethodPatch, "/api/v1/alerts/" + al, "responder or admin", map[string]string{"status": "active"}},
		// A responder works alerts but manages no keys, sources or tier,
		// and sees no key metadata nor the audit log.
		{"a-responder", http.MethodPost, "/api/v1/keys", "admin", map[string]string{"scope": "read"}},
		{"a-responder", http.MethodGet, "/api/v1/keys", "admin", nil},
		{"a-responder", http.MethodPut, "/api/v1/sources/x", "admin", map[string]string{"format": testFormat}},
		{"a-responder", http.MethodPatch, "/api/v1/workspace", "admin", map[string]string{"tier": "free"}},
		{"a-responder", http.MethodGet, "/api/v1/audit", "admin", nil},
	}
	for _, c := range refused {
		t.Run(c.key+" "+c.method+" "+c.path, func(t *testing.T) {
			n := len(st.auditOf("auth.refused"))
			w := f.do(c.method, c.path, c.key, c.body)
			wantProblem(t, w, http.StatusForbidden, "needs a key of scope "+c.need, "this key has scope")
			entries := st.auditOf("auth.refused")
			if len(entries) != n+1 {
				t.Fatalf("%d auth.refused entries, want %d", len(entries), n+1)
			}
			if e := entries[len(entries)-1]; e.Workspace != "a" || e.Target != "key:"+f.keyIDs[c.key] || !strings.Contains(e.Detail, "scope") {
				t.Errorf("audit entry %+v: want workspace a, the key as target, scope in the detail", e)
			}
		})
	}
	// Nothing changed through a refused request.
	if a, _ := st.Alert(context.Background(), "a", al); a.Status != "new" {
		t.Errorf("alert status %q after refused PATCHes, want new", a.Status)
	}

	// Allowed: ingest and admin keys may ingest; the handler gets the key's workspace.
	for _, key := range []string{"a-ingest", "a-admin", "b-admin"} {
		want(t, f.do(http.MethodPost, "/api/v1/ingest", key, nil), http.StatusAccepted, nil)
	}
	got := f.ingests
	if len(got) != 3 || got[0] != (ingestCall{"a", true}) || got[1] != (ingestCall{"a", true}) || got[2] != (ingestCall{"b", true}) {
		t.Errorf("ingest handler saw %+v, want workspaces a, a, b", got)
	}
	// Read keys read; admin keys read too.
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, nil)
	// A responder reads and works alerts.
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-responder", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+al, "a-responder", map[string]string{"status": "active"}), http.StatusOK, nil)
	if a, _ := st.Alert(context.Background(), "a", al); a.Status != "active" {
		t.Errorf("alert status %q after a responder's PATCH, want active", a.Status)
	}
}

func TestWorkspaceFromOutsideAuth(t *testing.T) {
	if ws, ok := WorkspaceFrom(httptest.NewRequest(http.MethodPost, "/api/v1/ingest", nil)); ok || ws != "" {
		t.Errorf("WorkspaceFrom on an unauthenticated request = %q, %v; want \"\", false", ws, ok)
	}
}

func TestRevokeTakesEffectAtOnce(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	// Warm the cache with the read key.
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodDelete, "/api/v1/keys/"+f.keyIDs["a-read"], "a-admin", nil), http.StatusNoContent, nil)
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil), http.StatusUnauthorized, "unknown or revoked")
	e := st.auditOf("key.revoke")
	if len(e) != 1 || e[0].Target != "key:"+f.keyIDs["a-read"] || e[0].Actor != "key:"+f.keyIDs["a-admin"] || e[0].Workspace != "a" {
		t.Errorf("key.revoke audit entries %+v", e)
	}
}

func TestKeyCacheAndTouch(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	lookups := func() int { st.mu.Lock(); defer st.mu.Unlock(); return st.keyLookups }
	touches := func() int { st.mu.Lock(); defer st.mu.Unlock(); return len(st.touches) }

	want(t, f.do(http.MethodGet, "/api/v1/workspace", "a-read", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "a-read", nil), http.StatusOK, nil)
	if n := lookups(); n != 1 {
		t.Errorf("%d store lookups for two requests within the cache TTL, want 1", n)
	}
	if n := touches(); n != 1 {
		t.Errorf("%d last_used updates for two requests within a minute, want 1", n)
	}
	f.clock.Advance(keyCacheTTL + time.Second)
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "a-read", nil), http.StatusOK, nil)
	if n := lookups(); n != 2 {
		t.Errorf("%d store lookups after the TTL, want 2", n)
	}
	if n := touches(); n != 1 {
		t.Errorf("%d last_used updates 11 s later, want still 1", n)
	}
	f.clock.Advance(time.Minute)
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "a-read", nil), http.StatusOK, nil)
	if n := touches(); n != 2 {
		t.Errorf("%d last_used updates after a minute, want 2", n)
	}
	k, _ := st.KeyByHash(context.Background(), HashKey(f.secrets["a-read"]))
	if k.LastUsed == nil || !k.LastUsed.Equal(f.clock.Now()) {
		t.Errorf("last_used %v, want %v", k.LastUsed, f.clock.Now())
	}
}

func TestKeyLookupFailure(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	st.mu.Lock()
	st.failKeys = errors.New("disk on fire at /var/lib/vigil")
	st.mu.Unlock()
	w := f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil)
	p := wantProblem(t, w, http.StatusServiceUnavailable, "API key")
	if strings.Contains(w.Body.String(), "disk on fire") {
		t.Errorf("store internals leaked to the client: %s", p.Detail)
	}
	if n := len(st.auditOf("auth.refused")); n != 0 {
		t.Errorf("a store failure was audited as %d refused authentications", n)
	}
}

// counterValue reads a counter (prometheus/testutil would pull in a
// module this tree does not carry).
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// Concurrent requests share the key cache and touch map (run with -race).
func TestConcurrentRequests(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	keys := []string{"a-read", "a-admin", "b-read", "b-admin", "a-ingest"}
	var wg sync.WaitGroup
	codes := make([][]int, len(keys))
	for i, k := range keys {
		wg.Go(func() {
			for range 20 {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/workspace", nil)
				r.Header.Set("Authorization", "Bearer "+f.secrets[k])
				w := httptest.NewRecorder()
				f.api.ServeHTTP(w, r)
				codes[i] = append(codes[i], w.Code)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			f.clock.Advance(time.Second)
		}
	})
	wg.Wait()
	for i, k := range keys {
		wantCode := http.StatusOK
		if k == "a-ingest" {
			wantCode = http.StatusForbidden
		}
		for _, c := range codes[i] {
			if c != wantCode {
				t.Errorf("%s: status %d, want %d", k, c, wantCode)
				break
			}
		}
	}
}
