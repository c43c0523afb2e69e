package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/tenant"
)

// Formats registered for the tests: ingest only asks whether a format is
// known, the decoders themselves are another package's.
const (
	fmtJSON = "test-json"
	fmtText = "test-text"
)

type nopDecoder struct{}

func (nopDecoder) Decode([]byte, *event.Event) error { return nil }

func init() {
	decode.Register(fmtJSON, func() decode.Decoder { return nopDecoder{} })
	decode.Register(fmtText, func() decode.Decoder { return nopDecoder{} })
}

// fakePub records deep copies of published batches (ingest reuses the
// buffers after Publish returns). fail, when set, decides per batch.
type fakePub struct {
	mu      sync.Mutex
	batches []*bus.Batch
	calls   int
	fail    func(call int, b *bus.Batch) error
	seen    map[event.ID]bool // with dedupe: batch ids stored, like the bus
	dedupe  bool
	block   chan struct{} // when set, Publish waits for it
	entered chan struct{} // when set, Publish signals on entry
}

func (p *fakePub) Publish(ctx context.Context, b *bus.Batch) error {
	if p.entered != nil {
		p.entered <- struct{}{}
	}
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail != nil {
		if err := p.fail(p.calls, b); err != nil {
			return err
		}
	}
	if p.dedupe {
		if p.seen == nil {
			p.seen = map[event.ID]bool{}
		}
		if p.seen[b.ID] {
			return nil
		}
		p.seen[b.ID] = true
	}
	c := *b
	c.Records = make([]event.Raw, len(b.Records))
	for i, r := range b.Records {
		c.Records[i] = event.Raw{ID: r.ID, Line: r.Line, Data: bytes.Clone(r.Data)}
	}
	p.batches = append(p.batches, &c)
	return nil
}

// records returns every stored record, in batch then record order.
func (p *fakePub) records() []event.Raw {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []event.Raw
	for _, b := range p.batches {
		out = append(out, b.Records...)
	}
	return out
}

// cappedPub lowers the batch size cap, as a bus with a message limit does.
type cappedPub struct {
	*fakePub
	max int
}

func (p cappedPub) MaxBatchBytes() int { return p.max }

type fakeSources struct {
	mu   sync.Mutex
	m    map[string]tenant.Source
	puts int
	err  error // returned by LookupSource when set
	// createErr is returned by CreateSource when set.
	createErr error
}

func newSources(srcs ...tenant.Source) *fakeSources {
	s := &fakeSources{m: map[string]tenant.Source{}}
	for _, src := range srcs {
		s.m[src.Workspace+"/"+src.Name] = src
	}
	return s
}

func (s *fakeSources) LookupSource(_ context.Context, ws, name string) (tenant.Source, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return tenant.Source{}, false, s.err
	}
	src, ok := s.m[ws+"/"+name]
	return src, ok, nil
}

func (s *fakeSources) CreateSource(_ context.Context, src tenant.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.createErr != nil {
		return s.createErr
	}
	s.puts++
	s.m[src.Workspace+"/"+src.Name] = src
	return nil
}

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type env struct {
	h   *Handler
	pub *fakePub
	src *fakeSources
	reg *prometheus.Registry
}

// newEnv builds a handler for workspace "ws1" (header X-Test-Workspace
// overrides; "-" means unauthenticated) with sources "win" (fmtJSON) and
// "sys" (fmtText).
func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{
		pub: &fakePub{},
		src: newSources(
			tenant.Source{Workspace: "ws1", Name: "win", Format: fmtJSON},
			tenant.Source{Workspace: "ws1", Name: "sys", Format: fmtText},
		),
		reg: prometheus.NewRegistry(),
	}
	cfg := Config{
		Workspace: func(r *http.Request) (string, bool) {
			ws := r.Header.Get("X-Test-Workspace")
			if ws == "-" {
				return "", false
			}
			if ws == "" {
				ws = "ws1"
			}
			return ws, true
		},
		Sources:    e.src,
		Publisher:  e.pub,
		Now:        func() time.Time { return testNow },
		Registerer: e.reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

type req struct {
	query   string // e.g. "source=win"
	ct      string
	body    io.Reader
	headers map[string]string
	method  string
}

func (e *env) do(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.body == nil {
		r.body = strings.NewReader("")
	}
	hr := httptest.NewRequest(r.method, Path+"?"+r.query, r.body)
	if r.ct != "" {
		hr.Header.Set("Content-Type", r.ct)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

func (e *env) post(t testing.TB, query, ct, body string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{query: query, ct: ct, body: strings.NewReader(body)})
}

func decodeReply(t testing.TB, w *httptest.ResponseRecorder) Reply {
	t.Helper()
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", w.Code, w.Body)
	}
	var r Reply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("reply %q: %v", w.Body, err)
	}
	return r
}

func decodeError(t testing.TB, w *httptest.ResponseRecorder, code int) ErrorReply {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status %d, want %d; body %s", w.Code, code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != problemType {
		t.Fatalf("Content-Type %q, want %s", ct, problemType)
	}
	var r ErrorReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("error reply %q: %v", w.Body, err)
	}
	if r.Detail == "" || r.Status != code || r.Title != http.StatusText(code) {
		t.Fatalf("error reply is not a problem document of status %d: %s", code, w.Body)
	}
	return r
}

// lines returns the line numbers of recs.
func lines(recs []event.Raw) []int {
	out := make([]int, len(recs))
	for i, r := range recs {
		out[i] = r.Line
	}
	return out
}

func datas(recs []event.Raw) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

// metricValue reads a counter or gauge. (prometheus/testutil would need a
// module the project does not otherwise use.)
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	switch {
	case pb.Counter != nil:
		return pb.Counter.GetValue()
	case pb.Gauge != nil:
		return pb.Gauge.GetValue()
	}
	t.Fatalf("metric %v is neither counter nor gauge", m.Desc())
	return 0
}
