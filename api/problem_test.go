package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/ingest"
	"github.com/vigil-sec/vigil/store"
)

// switchPub is the ingest handler's bus in these tests: it fails with err
// when set, and holds a publish while hold is set (to fill the in-flight
// budget).
type switchPub struct {
	mu      sync.Mutex
	err     error
	hold    chan struct{}
	entered chan struct{}
}

func (p *switchPub) Publish(ctx context.Context, b *bus.Batch) error {
	p.mu.Lock()
	err, hold, entered := p.err, p.hold, p.entered
	p.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	return err
}

func (p *switchPub) set(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// Limits of the real ingest handler mounted in the walk, small so that a
// test body can pass them.
const (
	walkIngestMaxBody     = 64 << 10
	walkIngestMaxInflight = walkIngestMaxBody + 512
)

// newIngestFixture is newFixture with the real ingest handler mounted, so
// that its answers go through the same walk as the API's own.
func newIngestFixture(t *testing.T, st *fakeStore, pub ingest.Publisher) *fixture {
	t.Helper()
	f := newFixture(t, st)
	ih, err := ingest.NewHandler(ingest.Config{
		Workspace: WorkspaceFrom, Sources: store.Sources{Store: st}, Publisher: pub,
		MaxBodyBytes: walkIngestMaxBody, MaxLineBytes: 4 << 10, MaxFieldBytes: 1 << 10,
		MaxInflightBytes: walkIngestMaxInflight,
	})
	if err != nil {
		t.Fatal(err)
	}
	op := ingest.Operation()
	a, err := New(Config{Store: st, Registry: f.reg, Ingest: ih, IngestOperation: &op, Version: "test", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.api = a
	return f
}

// request sends a raw request: key is a name in f.secrets or "".
func (f *fixture) request(method, path, key, ct string, body []byte) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+f.secrets[key])
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

// checkProblem asserts that w is an RFC 9457 problem document of status
// code: the API's one error shape, on every route. It returns the body.
func checkProblem(t *testing.T, what string, w *httptest.ResponseRecorder, code int) map[string]any {
	t.Helper()
	if w.Code != code {
		t.Errorf("%s: status %d, want %d; body: %s", what, w.Code, code, w.Body)
		return nil
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json; body: %s", what, ct, w.Body)
	}
	// JSON is not HTML: <, > and & are written as themselves.
	for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if strings.Contains(w.Body.String(), esc) {
			t.Errorf("%s: body HTML-escapes (%s): %s", what, esc, w.Body)
		}
	}
	var p map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Errorf("%s: body is not a JSON object: %v: %s", what, err, w.Body)
		return nil
	}
	if p["title"] != http.StatusText(code) {
		t.Errorf("%s: title %v, want %q", what, p["title"], http.StatusText(code))
	}
	if s, _ := p["status"].(float64); int(s) != code {
		t.Errorf("%s: status member %v, want %d", what, p["status"], code)
	}
	if d, _ := p["detail"].(string); d == "" {
		t.Errorf("%s: no detail: %s", what, w.Body)
	}
	if _, ok := p["error"]; ok {
		t.Errorf("%s: an \"error\" member, the old ingest shape: %s", what, w.Body)
	}
	if ty, ok := p["type"]; ok {
		if s, _ := ty.(string); s == "" {
			t.Errorf("%s: type %v is not a URI reference", what, ty)
		}
	}
	return p
}

// route is one operation of the OpenAPI document.
type route struct {
	method, path string
	query        []string // its query parameters
	body         bool     // takes a request body
}

// routes lists the operations the API's own OpenAPI document describes, so
// that the walk covers a route added later without being told.
func routes(t *testing.T, a *API) []route {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody *json.RawMessage `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(a.spec, &doc); err != nil {
		t.Fatal(err)
	}
	var out []route
	for path, ops := range doc.Paths {
		for method, op := range ops {
			r := route{method: strings.ToUpper(method), path: path, body: op.RequestBody != nil}
			for _, p := range op.Parameters {
				if p.In == "query" {
					r.query = append(r.query, p.Name)
				}
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	if len(out) < 10 {
		t.Fatalf("%d routes in the OpenAPI document: the walk would prove little", len(out))
	}
	return out
}

// concrete fills a path's parameters with values that exist in workspace a.
func (f *fixture) concrete(path string) string {
	r := strings.NewReplacer(
		"/alerts/{id}", "/alerts/"+f.seeds["a"].alertIDs[0],
		"/events/{id}", "/events/"+f.seeds["a"].eventIDs[0].String(),
		"/keys/{id}", "/keys/"+f.keyIDs["a-read"],
		"{name}", f.seeds["a"].source,
	)
	return r.Replace(path)
}

// allowedKey is a key whose scope the route takes; deniedKey one whose
// scope it refuses.
func allowedKey(r route) string {
	return map[string]string{"ingest": "a-ingest", "read": "a-read", "responder": "a-admin", "admin": "a-admin"}[scopesFor(r.method + " " + r.path)[0]]
}

func deniedKey(r route) string {
	if slices.Contains(scopesFor(r.method+" "+r.path), "read") {
		return "a-ingest"
	}
	return "a-read"
}

// TestErrorsAreProblemDocuments walks every route's error answers — 401,
// 403, 405, unknown query parameters, bodies of the wrong type or size —
// and the answers of each route that only it gives, ingest's included, and
// checks that every one is a problem document. /healthz, /readyz and
// /metrics are the operations endpoints, outside the API: not walked.
func TestErrorsAreProblemDocuments(t *testing.T) {
	st := newFakeStore()
	pub := &switchPub{}
	f := newIngestFixture(t, st, pub)
	rs := routes(t, f.api)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	byPath := map[string][]string{}
	for _, r := range rs {
		byPath[r.path] = append(byPath[r.path], r.method)
	}
	for _, r := range rs {
		name := r.method + " " + r.path
		path := f.concrete(r.path)
		ct, body := "application/json", []byte(`{}`)
		if r.path == "/api/v1/ingest" {
			path += "?source=" + f.seeds["a"].source
			ct, body = "application/x-ndjson", []byte(`{"a":1}`)
		}
		// The OpenAPI document is public; signing in takes a password,
		// not a key (TestSessions), and so does single sign-on
		// (TestOIDC).
		if r.path != "/api/v1/openapi.json" && name != "POST /api/v1/session" && !strings.HasPrefix(r.path, "/api/v1/session/oidc") {
			checkProblem(t, name+" without a key", f.request(r.method, path, "", ct, body), http.StatusUnauthorized)
			checkProblem(t, name+" with a key of another scope", f.request(r.method, path, deniedKey(r), ct, body), http.StatusForbidden)
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			checkProblem(t, name+" with an unknown parameter",
				f.request(r.method, path+sep+"zzz=<1>%262", allowedKey(r), ct, body), http.StatusUnprocessableEntity)
		}
		for _, m := range methods {
			if slices.Contains(byPath[r.path], m) || wildcardSibling(rs, m, r.path) {
				continue
			}
			w := f.request(m, path, allowedKey(r), ct, body)
			checkProblem(t, m+" "+r.path, w, http.StatusMethodNotAllowed)
			allow := w.Header().Get("Allow")
			for _, have := range byPath[r.path] {
				if !strings.Contains(allow, have) {
					t.Errorf("%s %s: Allow %q does not name %s", m, r.path, allow, have)
				}
			}
		}
		if r.body {
			checkProblem(t, name+" with an XML body", f.request(r.method, path, allowedKey(r), "application/xml", []byte("<a/>")), http.StatusUnsupportedMediaType)
			big := append(append([]byte(`{"a":"`), bytes.Repeat([]byte("x"), 1<<20+1)...), `"}`...)
			checkProblem(t, name+" with a body too large", f.request(r.method, path, allowedKey(r), ct, big), http.StatusRequestEntityTooLarge)
		}
	}

	// Answers particular to a route.
	unknownAlert, unknownEvent := "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for _, c := range []struct {
		method, path, key, ct, body string
		code                        int
	}{
		{"GET", "/api/v1/nowhere", "a-read", "", "", http.StatusNotFound},
		{"GET", "/nowhere", "", "", "", http.StatusNotFound},
		{"GET", "/api/v1/alerts/" + unknownAlert, "a-read", "", "", http.StatusNotFound},
		{"GET", "/api/v1/events/" + unknownEvent, "a-read", "", "", http.StatusNotFound},
		{"GET", "/api/v1/events/not-an-id", "a-read", "", "", http.StatusUnprocessableEntity},
		{"GET", "/api/v1/sources/nosuch", "a-read", "", "", http.StatusNotFound},
		{"DELETE", "/api/v1/keys/nosuch", "a-admin", "", "", http.StatusNotFound},
		{"GET", "/api/v1/alerts?severity=<huge>", "a-read", "", "", http.StatusUnprocessableEntity},
		{"GET", "/api/v1/alerts?cursor=nope", "a-read", "", "", http.StatusUnprocessableEntity},
		{"PATCH", "/api/v1/alerts/" + f.seeds["a"].alertIDs[0], "a-admin", "application/json", `{"status":`, http.StatusBadRequest},
		{"PATCH", "/api/v1/alerts/" + f.seeds["a"].alertIDs[0], "a-admin", "application/json", `{"status":"gone"}`, http.StatusUnprocessableEntity},
		{"PUT", "/api/v1/sources/fw01", "a-admin", "application/json", `{"format":"<none>"}`, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/ingest", "a-ingest", "application/x-ndjson", `{"a":1}`, http.StatusBadRequest},
		{"POST", "/api/v1/ingest?source=a%20b", "a-ingest", "application/x-ndjson", `{"a":1}`, http.StatusBadRequest},
		{"POST", "/api/v1/ingest?source=" + f.seeds["a"].source, "a-ingest", "application/x-ndjson", "", http.StatusBadRequest},
		{"POST", "/api/v1/ingest?source=x&format=" + testFormat, "a-ingest", "application/json", `[{"a":1},`, http.StatusBadRequest},
		{"POST", "/api/v1/ingest?source=x", "a-ingest", "application/x-ndjson", `{"a":1}`, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/ingest?source=x&format=nosuch", "a-ingest", "application/x-ndjson", `{"a":1}`, http.StatusUnprocessableEntity},
		{"POST", "/api/v1/ingest?source=" + f.seeds["a"].source, "a-ingest", "application/x-ndjson", "{\"a\":\n[1,", http.StatusUnprocessableEntity},
		{"POST", "/api/v1/ingest?source=" + f.seeds["a"].source, "a-ingest", "text/plain; charset=latin1", "a", http.StatusUnsupportedMediaType},
	} {
		checkProblem(t, c.method+" "+c.path, f.request(c.method, c.path, c.key, c.ct, []byte(c.body)), c.code)
	}

	// Failures of what the API stands on.
	ingestPath := "/api/v1/ingest?source=" + f.seeds["a"].source
	pub.set(fmt.Errorf("publish: %w", bus.ErrFull))
	p := checkProblem(t, "ingest, bus full", f.request("POST", ingestPath, "a-ingest", "application/x-ndjson", []byte("{\"a\":1}\nnot json\n")), http.StatusServiceUnavailable)
	if p != nil && (p["stored"] == nil || p["accepted"] == nil || p["rejected_count"] == nil) {
		t.Errorf("ingest, bus full: want stored, accepted and rejected_count members: %v", p)
	}
	pub.set(errors.New("broken"))
	checkProblem(t, "ingest, publish failed", f.request("POST", ingestPath, "a-ingest", "application/x-ndjson", []byte(`{"a":1}`)), http.StatusInternalServerError)
	pub.set(nil)
	st.failAlerts = errors.New("disk on fire")
	checkProblem(t, "alerts, store failed", f.request("GET", "/api/v1/alerts", "a-read", "", nil), http.StatusInternalServerError)
	st.failAlerts = nil
	st.failKeys = errors.New("store down")
	f.api.keys = newKeyCache(keyCacheTTL, f.clock.Now) // forget the keys seen so far
	checkProblem(t, "key lookup failed", f.request("GET", "/api/v1/alerts", "a-read", "", nil), http.StatusServiceUnavailable)
	st.failKeys = nil

	// 429: one request holds the whole in-flight budget while another asks.
	hold := make(chan struct{})
	pub.mu.Lock()
	pub.hold, pub.entered = hold, make(chan struct{}, 1)
	pub.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		body := bytes.Repeat([]byte("{\"a\":1}\n"), (walkIngestMaxInflight-1024)/8)
		f.request("POST", ingestPath, "a-ingest", "application/x-ndjson", body)
	}()
	<-pub.entered
	pub.mu.Lock()
	pub.hold = nil
	pub.mu.Unlock()
	checkProblem(t, "ingest, too many bytes in flight", f.request("POST", ingestPath, "a-ingest", "application/x-ndjson", bytes.Repeat([]byte("{\"a\":1}\n"), 1000)), http.StatusTooManyRequests)
	close(hold)
	<-done
}

// TestUnknownQueryParameterNamed: an unknown query parameter is named with
// its value, with the parameter it is close to, on every route that takes
// query parameters (each parameter misspelt in turn).
func TestUnknownQueryParameterNamed(t *testing.T) {
	f := newIngestFixture(t, newFakeStore(), &switchPub{})
	type errDetail struct {
		Message  string `json:"message"`
		Location string `json:"location"`
		Value    any    `json:"value"`
	}
	type prob struct {
		Detail string      `json:"detail"`
		Errors []errDetail `json:"errors"`
	}
	get := func(method, path string, r route) prob {
		t.Helper()
		var p prob
		w := f.request(method, path, allowedKey(r), "application/x-ndjson", []byte(`{"a":1}`))
		if m := checkProblem(t, path, w, http.StatusUnprocessableEntity); m != nil {
			json.Unmarshal(w.Body.Bytes(), &p)
		}
		return p
	}

	var alerts route
	n := 0
	for _, r := range routes(t, f.api) {
		if r.path == "/api/v1/alerts" && r.method == http.MethodGet {
			alerts = r
		}
		for _, q := range r.query {
			n++
			typo := q + q[len(q)-1:] // "limitt", "too", "sourcee"
			path := f.concrete(r.path) + "?" + typo + "=v1"
			p := get(r.method, path, r)
			want := "unknown parameter " + typo + "=v1; did you mean " + q + "?"
			if p.Detail != want {
				t.Errorf("%s %s: detail %q, want %q", r.method, path, p.Detail, want)
			}
			if len(p.Errors) != 1 || p.Errors[0].Location != "query."+typo || p.Errors[0].Value != "v1" ||
				p.Errors[0].Message != "unknown parameter; did you mean "+q+"?" {
				t.Errorf("%s %s: errors %+v", r.method, path, p.Errors)
			}
		}
	}
	if n < 15 {
		t.Fatalf("%d query parameters walked: the OpenAPI document lost them?", n)
	}

	for _, c := range []struct{ query, detail string }{
		{"sevrity=high", "unknown parameter sevrity=high; did you mean severity?"},
		{"Severity=high", "unknown parameter Severity=high; did you mean severity?"},
		{"sev=high", "unknown parameter sev=high; did you mean severity?"},
		{"colour=red", "unknown parameter colour=red; this route takes status, severity, rule, entity, since, until, threat_type, source, country, sort, limit, cursor"},
		{"flag", "unknown parameter flag; this route takes status, severity, rule, entity, since, until, threat_type, source, country, sort, limit, cursor"},
		{"sevrity=high&limt=5", "unknown parameters limt=5 (did you mean limit?), sevrity=high (did you mean severity?)"},
		{"sevrity=high&zz=%3Cb%3E%26", "unknown parameters sevrity=high (did you mean severity?), zz=<b>&; this route takes status, severity, rule, entity, since, until, threat_type, source, country, sort, limit, cursor"},
	} {
		if p := get(http.MethodGet, "/api/v1/alerts?"+c.query, alerts); p.Detail != c.detail {
			t.Errorf("?%s: detail %q, want %q", c.query, p.Detail, c.detail)
		}
	}
	// Known parameters still pass.
	if w := f.request(http.MethodGet, "/api/v1/alerts?severity=high&limit=5", "a-read", "", nil); w.Code != http.StatusOK {
		t.Errorf("known parameters: status %d: %s", w.Code, w.Body)
	}
}

// TestJSONNotHTMLEscaped: JSON answers are not HTML: <, > and & come out as
// themselves in errors, operation answers, the OpenAPI document and the
// operations endpoints.
func TestJSONNotHTMLEscaped(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	a, err := New(Config{Store: st, Registry: f.reg, Version: "1.0<rc>&1", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.api = a
	// Two events of testFormat: one decodes (its fields hold < > &), one
	// does not (its raw record and decode_error hold them).
	ids := event.NewIDSource()
	good, bad := ids.New(t0), ids.New(t0)
	b := &store.Batch{ID: ids.New(t0), Workspace: "a", Source: f.seeds["a"].source, Format: testFormat, Received: t0}
	for id, raw := range map[event.ID]string{good: "user=<admin> cmd=a&b", bad: "<b>&"} {
		b.Events = append(b.Events, store.StoredEvent{ID: id, Workspace: "a", Source: b.Source, Format: testFormat, Time: t0, Received: t0, Raw: []byte(raw)})
	}
	if _, err := st.Commit(context.Background(), []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, method, path, key string
		body                    any
		want                    []string
	}{
		{"401", "GET", "/api/v1/alerts", "", nil, []string{`Bearer <key>`}},
		{"operation answer", "POST", "/api/v1/keys", "a-admin", map[string]string{"scope": "read", "name": "<ops> & co"}, []string{`"name":"<ops> & co"`}},
		{"huma error", "PUT", "/api/v1/sources/s1", "a-admin", map[string]string{"format": "<x>&y"}, []string{`"value":"<x>&y"`}},
		{"OpenAPI document", "GET", "/api/v1/openapi.json", "", nil, []string{`Bearer <key>`, `1.0<rc>&1`}},
		{"healthz", "GET", "/healthz", "", nil, []string{`"version":"1.0<rc>&1"`}},
		{"event", "GET", "/api/v1/events/" + good.String(), "a-read", nil, []string{`"user":"<admin>"`, `"cmd":"a&b"`}},
		{"event that does not decode", "GET", "/api/v1/events/" + bad.String(), "a-read", nil, []string{`"raw":"<b>&"`, `"decode_error":"` + testFormat + `: field without '='`}},
	} {
		w := f.do(c.method, c.path, c.key, c.body)
		body := w.Body.String()
		for _, s := range c.want {
			if !strings.Contains(body, s) {
				t.Errorf("%s: body does not hold %s literally: %s", c.what, s, body)
			}
		}
		for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
			if strings.Contains(body, esc) {
				t.Errorf("%s: body HTML-escapes (%s)", c.what, esc)
			}
		}
	}
}

// TestDocsErrorExample: the problem document docs/api.md shows under
// "Errors" is what the API answers to the request it names.
func TestDocsErrorExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, errs, ok := strings.Cut(string(doc), "\n## Errors\n")
	if !ok {
		t.Fatal("docs/api.md has no Errors section")
	}
	const ask = "`GET /api/v1/alerts?sevrity=high` answers:"
	_, example, ok := strings.Cut(errs, ask+"\n\n```json\n")
	if !ok {
		t.Fatalf("the Errors section no longer says %s followed by a JSON block", ask)
	}
	example, _, _ = strings.Cut(example, "```")
	var want, got map[string]any
	if err := json.Unmarshal([]byte(example), &want); err != nil {
		t.Fatalf("the documented example is not JSON: %v", err)
	}
	f := newFixture(t, newFakeStore())
	w := f.do(http.MethodGet, "/api/v1/alerts?sevrity=high", "a-read", nil)
	checkProblem(t, "the documented request", w, http.StatusUnprocessableEntity)
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("docs/api.md shows\n%s\nthe API answers\n%s", example, w.Body)
	}
}

// wildcardSibling reports whether a route of method m with a wildcard
// takes path too (DELETE /api/v1/decisions/{id} takes
// /api/v1/decisions/stream): such a request is that route's, not a 405.
func wildcardSibling(rs []route, m, path string) bool {
	for _, x := range rs {
		if x.method != m || !strings.Contains(x.path, "{") {
			continue
		}
		a, b := strings.Split(x.path, "/"), strings.Split(path, "/")
		if len(a) != len(b) {
			continue
		}
		match := true
		for i := range a {
			if a[i] != b[i] && !strings.HasPrefix(a[i], "{") {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
