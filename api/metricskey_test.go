package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-sec/vigil/tenant"
)

// With MetricsKeyRequired, /metrics needs a key of scope metrics (made
// with the CLI: the metrics cover every workspace, so no workspace's admin
// may make one through the API); such a key reaches nothing else.
func TestMetricsKeyRequired(t *testing.T) {
	st := newFakeStore()
	f := newFixtureWith(t, st, func(c *Config) { c.MetricsKeyRequired = true })
	secret, k, err := NewKey("a", tenant.ScopeMetrics, "prometheus", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	f.secrets["a-metrics"] = secret
	get := func(key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+f.secrets[key])
		}
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		return w
	}
	wantProblem(t, get(""), http.StatusUnauthorized, "missing API key")
	wantProblem(t, get("a-admin"), http.StatusForbidden, "needs a key of scope metrics")
	if w := get("a-metrics"); w.Code != http.StatusOK {
		t.Errorf("metrics key: %d %s", w.Code, w.Body)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts", "a-metrics", nil), http.StatusForbidden, "this key has scope metrics")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "metrics"}), http.StatusUnprocessableEntity, "scope")
	// Health probes stay open.
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("/healthz: %d", w.Code)
	}

	// Without the setting /metrics stays open, as before.
	open := newFixture(t, newFakeStore())
	r = httptest.NewRequest(http.MethodGet, "/metrics", nil)
	w = httptest.NewRecorder()
	open.api.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("/metrics without the setting: %d", w.Code)
	}
}
