package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// testFormat is a tiny key=value decoder, registered for these tests only.
const testFormat = "apitest-kv"

type kvDecoder struct{}

func (kvDecoder) Decode(rec []byte, ev *event.Event) error {
	ev.Logsource = event.Logsource{Product: "decoded-product"}
	off := 0
	for _, f := range bytes.Fields(rec) {
		k, v, ok := bytes.Cut(f, []byte("="))
		if !ok {
			return &decode.Error{Format: testFormat, Offset: bytes.Index(rec, f) + off, Reason: "field without '='"}
		}
		ev.Fields.SetName(k, string(v))
		if string(k) == "user" {
			ev.Common[event.UserName] = string(v)
		}
	}
	return nil
}

func init() {
	decode.Register(testFormat, func() decode.Decoder { return kvDecoder{} })
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ingestCall is what the stub ingest handler saw.
type ingestCall struct {
	workspace string
	ok        bool
}

type fixture struct {
	t     testing.TB
	api   *API
	st    store.Store
	reg   *prometheus.Registry
	clock *clock
	// secrets by name: a-admin, a-read, a-ingest, a-responder, b-admin, b-read
	secrets map[string]string
	keyIDs  map[string]string
	seeds   map[string]seeded
	intel   *fakeIntel

	mu      sync.Mutex
	ingests []ingestCall
}

// stubIngestOp stands in for package ingest's operation.
func stubIngestOp() *huma.Operation {
	return &huma.Operation{
		OperationID: "ingest-records",
		Summary:     "Ingest records (stub)",
		Responses: map[string]*huma.Response{
			"202": {Description: "accepted"},
		},
	}
}

func newFixture(t testing.TB, st store.Store, ready ...Check) *fixture {
	t.Helper()
	return newFixtureWith(t, st, nil, ready...)
}

// newFixtureWith is newFixture with edit applied to the API's Config.
func newFixtureWith(t testing.TB, st store.Store, edit func(*Config), ready ...Check) *fixture {
	t.Helper()
	f := &fixture{
		t:       t,
		st:      st,
		reg:     prometheus.NewRegistry(),
		clock:   &clock{t: t0},
		secrets: map[string]string{},
		keyIDs:  map[string]string{},
		seeds:   map[string]seeded{},
		intel:   newFakeIntel("a", "b"),
	}
	ctx := context.Background()
	for _, ws := range []struct{ name, tier string }{{"a", tenant.TierStandard}, {"b", tenant.TierFree}} {
		if _, err := st.CreateWorkspace(ctx, ws.name, ws.tier); err != nil {
			t.Fatalf("create workspace %s: %v", ws.name, err)
		}
		f.seeds[ws.name] = seed(t, st, ws.name, 3, 3)
	}
	for _, k := range []struct{ ws, scope string }{
		{"a", tenant.ScopeAdmin}, {"a", tenant.ScopeRead}, {"a", tenant.ScopeIngest}, {"a", tenant.ScopeResponder},
		{"b", tenant.ScopeAdmin}, {"b", tenant.ScopeRead},
	} {
		name := k.ws + "-" + k.scope
		secret, key, err := NewKey(k.ws, k.scope, name, t0)
		if err != nil {
			t.Fatalf("new key %s: %v", name, err)
		}
		if err := st.CreateKey(ctx, key); err != nil {
			t.Fatalf("create key %s: %v", name, err)
		}
		f.secrets[name], f.keyIDs[name] = secret, key.ID
	}
	ingest := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, ok := WorkspaceFrom(r)
		f.mu.Lock()
		f.ingests = append(f.ingests, ingestCall{ws, ok})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	cfg := Config{
		Store:           st,
		Registry:        f.reg,
		Ready:           ready,
		Ingest:          ingest,
		IngestOperation: stubIngestOp(),
		Version:         "test",
		Now:             f.clock.Now,
		Intel:           f.intel,
		Assets:          newFakeAssets("a", "b"),
	}
	if as, ok := st.(store.Assets); ok {
		cfg.Assets = as
	}
	ctxA := context.Background()
	if err := cfg.Assets.CreateAsset(ctxA, store.Asset{Workspace: "b", Name: "asset-of-b", Type: store.AssetHost, Owner: "owner-of-b"}); err != nil {
		t.Fatalf("asset of b: %v", err)
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.api = a
	return f
}

// seeded names what seed put into a workspace.
type seeded struct {
	source   string
	eventIDs []event.ID
	alertIDs []string
}

// seed gives workspace ws a source, nEvents events of format testFormat
// and nAlerts alerts (one a rule), through Commit as the detect stage would.
func seed(t testing.TB, st store.Store, ws string, nEvents, nAlerts int) seeded {
	t.Helper()
	ctx := context.Background()
	s := seeded{source: ws + "-src"}
	if err := st.PutSource(ctx, tenant.Source{Workspace: ws, Name: s.source, Format: testFormat, Created: t0}); err != nil {
		t.Fatalf("put source: %v", err)
	}
	ids := event.NewIDSource()
	b := &store.Batch{ID: ids.New(t0), Workspace: ws, Source: s.source, Format: testFormat, Received: t0}
	for i := range nEvents {
		ev := store.StoredEvent{
			ID:        ids.New(t0),
			Workspace: ws,
			Source:    s.source,
			Format:    testFormat,
			Logsource: event.Logsource{Product: "stored-product", Service: "auth"},
			Time:      t0.Add(time.Duration(i) * time.Minute),
			Received:  t0.Add(time.Hour),
			Raw:       fmt.Appendf(nil, "user=%s-user%d action=login n=%d", ws, i, i),
		}
		ev.Common[event.UserName] = fmt.Sprintf("%s-user%d", ws, i)
		b.Events = append(b.Events, ev)
		s.eventIDs = append(s.eventIDs, ev.ID)
	}
	for i := range nAlerts {
		ents := []alert.Entity{{Type: alert.EntityAccount, Value: fmt.Sprintf("%s-user%d", ws, i)}}
		rule := fmt.Sprintf("rule-%d", i%3)
		b.Signals = append(b.Signals, alert.Signal{
			Workspace: ws,
			Type:      "signature",
			Rule:      alert.RuleRef{ID: rule, Title: "Rule " + rule},
			Severity:  alert.Severity(i % 5),
			Entities:  ents,
			DedupKey:  alert.DedupKey(ws, rule, ents),
			Evidence:  alert.Evidence{EventID: b.Events[i%nEvents].ID.String(), Time: t0.Add(time.Duration(i) * time.Minute)},
		})
	}
	if _, err := st.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatalf("commit seed batch: %v", err)
	}
	als, _, err := st.Alerts(ctx, ws, store.AlertQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("alerts: %v", err)
	}
	for _, a := range als {
		s.alertIDs = append(s.alertIDs, a.ID)
	}
	if len(s.alertIDs) != nAlerts {
		t.Fatalf("seed: %d alerts in %s, want %d", len(s.alertIDs), ws, nAlerts)
	}
	return s
}

// do sends a request as key (a name in f.secrets, or "" for none).
func (f *fixture) do(method, path, key string, body any) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		secret, ok := f.secrets[key]
		if !ok {
			f.t.Fatalf("no key %q in the fixture", key)
		}
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

// want checks the status and decodes the body into v (when not nil).
func want(t testing.TB, w *httptest.ResponseRecorder, code int, v any) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status %d, want %d; body: %s", w.Code, code, w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("decode body: %v; body: %s", err, w.Body)
		}
	}
}

// problem is the error body.
type problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

// wantProblem checks an error answer and that its text mentions each of
// parts.
func wantProblem(t testing.TB, w *httptest.ResponseRecorder, code int, parts ...string) problem {
	t.Helper()
	var p problem
	want(t, w, code, &p)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if p.Status != code {
		t.Errorf("problem status %d, want %d", p.Status, code)
	}
	text := w.Body.String()
	for _, s := range parts {
		if !strings.Contains(text, s) {
			t.Errorf("error body does not mention %q: %s", s, text)
		}
	}
	return p
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
