package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	f := newFixture(t, newFakeStore())
	var body map[string]string
	want(t, f.do(http.MethodGet, "/healthz", "", nil), http.StatusOK, &body)
	if body["status"] != "ok" || body["version"] != "test" {
		t.Errorf("healthz %v", body)
	}
}

func TestReadyz(t *testing.T) {
	ok := Check{Name: "store", Fn: func(ctx context.Context) error { return ctx.Err() }}
	bad := Check{Name: "bus", Fn: func(context.Context) error { return errors.New("no JetStream leader") }}

	f := newFixture(t, newFakeStore(), ok)
	var rep readyReport
	want(t, f.do(http.MethodGet, "/readyz", "", nil), http.StatusOK, &rep)
	if rep.Status != "ready" || rep.Checks["store"] != "ok" || len(rep.Failing) != 0 {
		t.Errorf("ready report %+v", rep)
	}

	f = newFixture(t, newFakeStore(), ok, bad)
	rep = readyReport{}
	want(t, f.do(http.MethodGet, "/readyz", "", nil), http.StatusServiceUnavailable, &rep)
	if rep.Status != "not ready" || len(rep.Failing) != 1 || rep.Failing[0] != "bus" || rep.Checks["bus"] != "no JetStream leader" || rep.Checks["store"] != "ok" {
		t.Errorf("ready report %+v, want bus failing with its reason", rep)
	}
}

// TestReadyzDetail: a check with Detail shows what it saw when it passes
// (the detection lag), and its error when it fails.
func TestReadyzDetail(t *testing.T) {
	lag := Check{Name: "detection", Detail: func(context.Context) (string, error) { return "lag 3s: 12 batches waiting", nil }}
	f := newFixture(t, newFakeStore(), lag)
	var rep readyReport
	want(t, f.do(http.MethodGet, "/readyz", "", nil), http.StatusOK, &rep)
	if rep.Checks["detection"] != "lag 3s: 12 batches waiting" {
		t.Errorf("ready report %+v, want the detection check's detail", rep)
	}
	lag.Detail = func(context.Context) (string, error) { return "", errors.New("bus: stream info: timeout") }
	f = newFixture(t, newFakeStore(), lag)
	rep = readyReport{}
	want(t, f.do(http.MethodGet, "/readyz", "", nil), http.StatusServiceUnavailable, &rep)
	if rep.Checks["detection"] != "bus: stream info: timeout" {
		t.Errorf("ready report %+v", rep)
	}
}

// A check that ignores its context does not hold the probe: it is named
// as not answering.
func TestReadyzTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := Check{Name: "bus", Fn: func(context.Context) error { <-release; return nil }}
	f := newFixture(t, newFakeStore(), stuck)
	f.api.readyTimeout = 20 * time.Millisecond
	var rep readyReport
	want(t, f.do(http.MethodGet, "/readyz", "", nil), http.StatusServiceUnavailable, &rep)
	if len(rep.Failing) != 1 || rep.Failing[0] != "bus" || !strings.Contains(rep.Checks["bus"], "no answer within") {
		t.Errorf("ready report %+v, want bus named as not answering", rep)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, newFakeStore())
	want(t, f.do(http.MethodGet, "/api/v1/alerts/"+f.seeds["a"].alertIDs[0], "a-read", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodGet, "/api/v1/alerts/nope", "a-read", nil), http.StatusNotFound, nil)
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "", nil), http.StatusUnauthorized, nil)
	want(t, f.do(http.MethodGet, "/nowhere", "", nil), http.StatusNotFound, nil)

	w := f.do(http.MethodGet, "/metrics", "", nil)
	want(t, w, http.StatusOK, nil)
	text := w.Body.String()
	for _, line := range []string{
		`vigil_api_requests_total{code="200",route="GET /api/v1/alerts/{id}"} 1`,
		`vigil_api_requests_total{code="404",route="GET /api/v1/alerts/{id}"} 1`,
		`vigil_api_requests_total{code="401",route="GET /api/v1/alerts"} 1`,
		`vigil_api_requests_total{code="404",route="unmatched"} 1`,
		`vigil_api_request_seconds_count{route="GET /api/v1/alerts/{id}"} 2`,
		`vigil_auth_refused_total{reason="missing"} 1`,
		`vigil_auth_refused_total{reason="revoked"} 0`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	// Raw paths never become labels.
	if strings.Contains(text, "/api/v1/alerts/al-") || strings.Contains(text, "nope") {
		t.Errorf("/metrics labels hold raw paths")
	}
	// A second API on the same registry shares the collectors.
	if _, err := New(Config{Store: f.st, Registry: f.reg}); err != nil {
		t.Errorf("second New on one registry: %v", err)
	}
}

// An unknown path is a 404, a known path asked with another method a 405
// naming the methods it takes; both are problem documents.
func TestUnmatchedIsJSON404(t *testing.T) {
	f := newFixture(t, newFakeStore())
	wantProblem(t, f.do(http.MethodGet, "/api/v1/nothing", "a-read", nil), http.StatusNotFound, "no route for GET /api/v1/nothing")
	w := f.do(http.MethodDelete, "/api/v1/alerts", "a-admin", nil)
	wantProblem(t, w, http.StatusMethodNotAllowed, "method DELETE not allowed on /api/v1/alerts; it takes GET, HEAD, PATCH")
	if allow := w.Header().Get("Allow"); allow != "GET, HEAD, PATCH" {
		t.Errorf("Allow %q, want GET, HEAD, PATCH", allow)
	}
}

func TestNewConfigErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Errorf("New without a store: %v", err)
	}
	if _, err := New(Config{Store: newFakeStore(), Ingest: http.NotFoundHandler()}); err == nil || !strings.Contains(err.Error(), "IngestOperation") {
		t.Errorf("New with Ingest but no operation: %v", err)
	}
	op := stubIngestOp()
	op.Path = "/ingest"
	if _, err := New(Config{Store: newFakeStore(), Ingest: http.NotFoundHandler(), IngestOperation: op}); err == nil || !strings.Contains(err.Error(), "/api/v1/ingest") {
		t.Errorf("New with a misplaced ingest operation: %v", err)
	}
}

func TestOpenAPI(t *testing.T) {
	f := newFixture(t, newFakeStore())
	r := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Info       struct{ Title, Version string }       `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas         map[string]json.RawMessage `json:"schemas"`
			SecuritySchemes map[string]struct {
				Type, Scheme string
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("OpenAPI document is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Version != "test" {
		t.Errorf("info.version %q", doc.Info.Version)
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearer security scheme %+v", s)
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != len(allRoutes) {
		t.Errorf("document has %d operations, the route table %d: keep allRoutes (isolation_test.go) whole", n, len(allRoutes))
	}
	for _, rt := range allRoutes {
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("document lacks %s %s", rt.method, rt.path)
			continue
		}
		var o struct {
			Security []map[string][]string `json:"security"`
			Summary  string                `json:"summary"`
		}
		json.Unmarshal(op, &o)
		switch {
		case rt.method == "POST" && rt.path == "/api/v1/session", strings.HasPrefix(rt.path, "/api/v1/session/oidc"):
			if len(o.Security) != 0 {
				t.Errorf("signing in requires %v, want nothing (it takes a password)", o.Security)
			}
		case len(o.Security) != 2 || o.Security[0]["bearer"] == nil || o.Security[1]["session"] == nil:
			t.Errorf("%s %s does not take a bearer key or a session: %v", rt.method, rt.path, o.Security)
		}
		if rt.path == "/api/v1/ingest" && o.Summary != "Ingest records (stub)" {
			t.Errorf("ingest operation summary %q, want the ingest package's", o.Summary)
		}
	}
	if strings.Contains(w.Body.String(), `"$schema"`) {
		t.Errorf("schemas carry $schema properties")
	}
	if _, ok := doc.Components.Schemas["Alert"]; !ok {
		t.Errorf("no Alert schema")
	}
}

// TestOpenAPIScopes: each operation's description names the scopes that
// may call it, as the scope policy (scopesFor) decides.
func TestOpenAPIScopes(t *testing.T) {
	f := newFixture(t, newFakeStore())
	var doc struct {
		Paths map[string]map[string]struct {
			Description string `json:"description"`
		} `json:"paths"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/openapi.json", "", nil), http.StatusOK, &doc)
	for _, c := range []struct{ method, path, tail string }{
		{"patch", "/api/v1/alerts/{id}", "Scopes responder or admin."},
		{"patch", "/api/v1/incidents/{id}", "Scopes responder or admin."},
		{"get", "/api/v1/keys", "Scope admin."},
		{"get", "/api/v1/alerts", "Scopes read, responder or admin."},
		{"post", "/api/v1/keys", "Scope admin."},
	} {
		if d := doc.Paths[c.path][c.method].Description; !strings.HasSuffix(d, c.tail) || strings.Count(d, "Scope") != 1 {
			t.Errorf("%s %s: description %q, want it to end %q, once", c.method, c.path, d, c.tail)
		}
	}
	if d := doc.Paths["/api/v1/session"]["post"].Description; strings.Contains(d, "Scope") {
		t.Errorf("signing in names scopes: %q", d)
	}
}
