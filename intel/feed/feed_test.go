package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
)

var ctx = context.Background()

// lineParser is a test format: one address or range a line, '#'
// comments; anything else is a problem at its line.
type lineParser struct{}

func (lineParser) Parse(r io.Reader, feed string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	var out []intel.Indicator
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if a, err := netip.ParseAddr(l); err == nil {
			out = append(out, intel.Indicator{Kind: intel.KindIP, Value: a.String(), Feed: feed})
		} else if p, err := netip.ParsePrefix(l); err == nil {
			out = append(out, intel.Indicator{Kind: intel.KindCIDR, Value: p.Masked().String(), Feed: feed})
		} else {
			problem(intel.Problem{Where: "line " + strconv.Itoa(n), Reason: "not an address or range: " + strconv.Quote(l)})
		}
	}
	return out, sc.Err()
}

// docServer serves a document that tests change, with an ETag, and
// answers 304 when the client has it; fail makes it answer 500.
type docServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	version  int
	fail     int // requests left to fail
	requests int
	lastINM  string
}

func newDocServer(t *testing.T, body string) *docServer {
	d := &docServer{body: []byte(body), version: 1}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.requests++
		d.lastINM = r.Header.Get("If-None-Match")
		if d.fail > 0 {
			d.fail--
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		etag := `"v` + strconv.Itoa(d.version) + `"`
		if d.lastINM == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(d.body)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) set(body string) {
	d.mu.Lock()
	d.body, d.version = []byte(body), d.version+1
	d.mu.Unlock()
}

func (d *docServer) failNext(n int) {
	d.mu.Lock()
	d.fail = n
	d.mu.Unlock()
}

// feedStore is what the feeds' tests need of a store.
type feedStore interface {
	store.Store
	store.Intel
}

type env struct {
	db   feedStore
	m    *Manager
	sets *Sets
	reg  *prometheus.Registry
	opts Options
}

func newEnv(t *testing.T, edit func(*Options), workspaces ...string) *env {
	t.Helper()
	// SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres.
	db := teststore.Open[feedStore](t)
	if len(workspaces) == 0 {
		workspaces = []string{"acme"}
	}
	for _, ws := range workspaces {
		if _, err := db.CreateWorkspace(ctx, ws, "standard"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{db: db, sets: &Sets{}, reg: prometheus.NewRegistry()}
	formats := &Formats{}
	formats.AddParser("lines", lineParser{})
	metrics, err := NewMetrics(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	e.opts = Options{Store: db, Formats: formats, Sets: e.sets, Metrics: metrics, MinBackoff: 10 * time.Millisecond, Timeout: 5 * time.Second}
	if edit != nil {
		edit(&e.opts)
	}
	if e.m, err = New(e.opts); err != nil {
		t.Fatal(err)
	}
	return e
}

func spec(ws, name, src string) Spec {
	return Spec{Feed: store.Feed{Workspace: ws, Name: name, Format: "lines", Source: src, Interval: time.Hour, Enabled: true}}
}

// matches lists the values of the indicators the workspace's set gives for
// an address.
func (e *env) matches(ws, addr string) []string {
	m := e.sets.Matcher(ws)
	if m == nil {
		return nil
	}
	var out []string
	for _, in := range m.MatchIP(netip.MustParseAddr(addr), time.Now(), nil) {
		out = append(out, in.Feed+":"+in.Value)
	}
	return out
}

func (e *env) feed(t *testing.T, ws, name string) store.Feed {
	t.Helper()
	f, err := e.db.Feed(ctx, ws, name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A feed fetched over HTTP: its content changes, the server says 304,
// fails, then recovers; the index follows, the status says each.
func TestRefreshFollowsTheServer(t *testing.T) {
	srv := newDocServer(t, "192.0.2.1\n198.51.100.0/24\n")
	e := newEnv(t, nil)
	if err := e.m.Provision(ctx, []Spec{spec("acme", "drop", srv.URL)}); err != nil {
		t.Fatal(err)
	}
	f, err := e.m.Refresh(ctx, "acme", "drop")
	if err != nil || f.Indicators != 2 || f.LastSuccess == nil || f.LastError != "" {
		t.Fatalf("first refresh: %+v, %v", f, err)
	}
	if got := e.matches("acme", "198.51.100.7"); len(got) != 1 || got[0] != "drop:198.51.100.0/24" {
		t.Errorf("198.51.100.7 matches %v, want the /24", got)
	}

	// Unchanged: a conditional request, answered 304.
	first := *f.LastSuccess
	time.Sleep(2 * time.Millisecond)
	f, err = e.m.Refresh(ctx, "acme", "drop")
	if err != nil || srv.lastINM != `"v1"` || f.Indicators != 2 || !f.LastSuccess.After(first) {
		t.Errorf("second refresh: If-None-Match %q; %+v, %v", srv.lastINM, f, err)
	}
	if got := e.matches("acme", "192.0.2.1"); len(got) != 1 {
		t.Errorf("after a 304, 192.0.2.1 matches %v", got)
	}

	// Changed: the old indicators go, the new come, at once.
	srv.set("203.0.113.5\n")
	if f, err = e.m.Refresh(ctx, "acme", "drop"); err != nil || f.Indicators != 1 {
		t.Fatalf("after a change: %+v, %v", f, err)
	}
	if got := e.matches("acme", "192.0.2.1"); len(got) != 0 {
		t.Errorf("an indicator the feed dropped still matches: %v", got)
	}
	if got := e.matches("acme", "203.0.113.5"); len(got) != 1 {
		t.Errorf("the new indicator does not match: %v", got)
	}

	// 500: the status says so; the indicators stay.
	srv.failNext(1)
	success := *f.LastSuccess
	f, err = e.m.Refresh(ctx, "acme", "drop")
	if err != nil || !strings.Contains(f.LastError, "500") || !f.LastSuccess.Equal(success) || f.Indicators != 1 {
		t.Errorf("after a 500: %+v, %v", f, err)
	}
	if got := e.matches("acme", "203.0.113.5"); len(got) != 1 {
		t.Errorf("a failed fetch took the indicators: %v", got)
	}
	if n := metricValue(e.opts.Metrics.errors.WithLabelValues("acme", "drop")); n != 1 {
		t.Errorf("vigil_intel_feed_errors_total = %v, want 1", n)
	}
	// Recovery.
	srv.set("203.0.113.5\n203.0.113.6\n")
	if f, err = e.m.Refresh(ctx, "acme", "drop"); err != nil || f.LastError != "" || f.Indicators != 2 {
		t.Errorf("after recovery: %+v, %v", f, err)
	}
	if n := metricValue(e.opts.Metrics.indicators.WithLabelValues("acme", "drop")); n != 2 {
		t.Errorf("vigil_intel_feed_indicators = %v, want 2", n)
	}
	if ts := metricValue(e.opts.Metrics.lastSuccess.WithLabelValues("acme", "drop")); int64(ts) != f.LastSuccess.Unix() {
		t.Errorf("last success metric %v, status %v", ts, f.LastSuccess)
	}
}

// Malformed lines are reported with their positions; the rest imports.
func TestMalformedLinesReportedRestImported(t *testing.T) {
	srv := newDocServer(t, "# a list\n192.0.2.1\nnot-an-ip\n192.0.2.2\n300.1.2.3\n192.0.2.0/33\n10.0.0.0/8\n")
	e := newEnv(t, nil)
	res, err := e.m.Import(ctx, spec("acme", "list", srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.Indicators != 3 || res.ProblemCount != 3 {
		t.Fatalf("import: %+v, want 3 indicators and 3 problems", res)
	}
	var where []string
	for _, p := range res.Problems {
		where = append(where, p.Where)
	}
	if strings.Join(where, ",") != "line 3,line 5,line 6" {
		t.Errorf("problems at %v, want lines 3, 5, 6", where)
	}
	f := e.feed(t, "acme", "list")
	if f.ProblemCount != 3 || len(f.Problems) != 3 || f.Problems[0].Reason == "" {
		t.Errorf("stored status: %+v", f)
	}
	if got := e.matches("acme", "10.1.2.3"); len(got) != 1 {
		t.Errorf("10.1.2.3 matches %v, want the /8", got)
	}
}

// A document of nothing but bad lines is a failure that keeps what the
// feed had.
func TestAllBadKeepsThePreviousSet(t *testing.T) {
	srv := newDocServer(t, "192.0.2.1\n")
	e := newEnv(t, nil)
	if _, err := e.m.Import(ctx, spec("acme", "list", srv.URL)); err != nil {
		t.Fatal(err)
	}
	srv.set("<html>maintenance</html>\n")
	res, err := e.m.Import(ctx, spec("acme", "list", srv.URL))
	if err == nil || res.ProblemCount != 1 {
		t.Errorf("an all-bad document: %+v, %v; want an error", res, err)
	}
	f := e.feed(t, "acme", "list")
	if f.Indicators != 1 || f.LastError == "" {
		t.Errorf("status: %+v", f)
	}
	if got := e.matches("acme", "192.0.2.1"); len(got) != 1 {
		t.Errorf("the previous set went: %v", got)
	}
}

func TestGzipAndSizeLimit(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := range 200 {
		fmt.Fprintf(zw, "10.0.%d.%d\n", i/250, i%250)
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(z.Bytes())
	}))
	defer srv.Close()
	e := newEnv(t, nil)
	res, err := e.m.Import(ctx, spec("acme", "gz", srv.URL+"/list.txt.gz"))
	if err != nil || res.Indicators != 200 {
		t.Fatalf("gzip document: %+v, %v", res, err)
	}
	// 200 lines of about 10 bytes: more than 1 KiB once inflated.
	small := newEnv(t, func(o *Options) { o.MaxSize = 1 << 10 })
	_, err = small.m.Import(ctx, spec("acme", "gz", srv.URL+"/list.txt.gz"))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("a document past the size limit: %v, want ErrTooLarge", err)
	}
	if f := small.feed(t, "acme", "gz"); !strings.Contains(f.LastError, "too large") || f.Indicators != 0 {
		t.Errorf("status after a too-large document: %+v", f)
	}
}

func TestFileSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drop.txt")
	if err := os.WriteFile(path, []byte("192.0.2.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	if err := e.m.Provision(ctx, []Spec{spec("acme", "file", path)}); err != nil {
		t.Fatal(err)
	}
	if f, err := e.m.Refresh(ctx, "acme", "file"); err != nil || f.Indicators != 1 {
		t.Fatalf("file: %+v, %v", f, err)
	}
	if err := os.WriteFile(path, []byte("192.0.2.1\n192.0.2.2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := e.m.Refresh(ctx, "acme", "file"); err != nil || f.Indicators != 2 {
		t.Errorf("changed file: %+v, %v", f, err)
	}
	os.Remove(path)
	if f, _ := e.m.Refresh(ctx, "acme", "file"); !strings.Contains(f.LastError, "no such file") || f.Indicators != 2 {
		t.Errorf("missing file: %+v", f)
	}
}

// Defaults of the feed fill what its indicators leave out.
func TestDefaults(t *testing.T) {
	srv := newDocServer(t, "192.0.2.1\n")
	e := newEnv(t, nil)
	s := spec("acme", "tor", srv.URL)
	s.ThreatType, s.Confidence, s.TLP = intel.ThreatTorExit, 60, "clear"
	if _, err := e.m.Import(ctx, s); err != nil {
		t.Fatal(err)
	}
	inds, _, err := e.db.Indicators(ctx, "acme", store.IndicatorQuery{Feed: "tor"})
	if err != nil || len(inds) != 1 {
		t.Fatal(inds, err)
	}
	if in := inds[0]; in.ThreatType != intel.ThreatTorExit || in.Confidence != 60 || in.TLP != "clear" || in.Feed != "tor" {
		t.Errorf("indicator %+v: the feed's defaults are not applied", in)
	}
}

// Start publishes what the store holds before any fetch, then the
// schedule fetches, retries a failing feed with backoff, and stops with
// its context.
func TestStartLoadsThenSchedules(t *testing.T) {
	db := teststore.Open[feedStore](t)
	db.CreateWorkspace(ctx, "acme", "standard")
	first, _ := New(Options{Store: db, Formats: formatsWith(), MinBackoff: time.Millisecond})
	srv := newDocServer(t, "192.0.2.1\n")
	if _, err := first.Import(ctx, spec("acme", "drop", srv.URL)); err != nil {
		t.Fatal(err)
	}

	// A new process: the server fails for a while.
	srv.failNext(3)
	srv.set("192.0.2.9\n")
	sets := &Sets{}
	m, _ := New(Options{Store: db, Formats: formatsWith(), Sets: sets, MinBackoff: time.Millisecond})
	s := spec("acme", "drop", srv.URL)
	s.Interval = time.Hour
	if err := m.Provision(ctx, []Spec{s}); err != nil {
		t.Fatal(err)
	}
	// The last success is recent but the feed failed since: fetched soon.
	db.SetFeedStatus(ctx, "acme", "drop", store.Fetch{Attempt: time.Now(), Err: "earlier failure"})
	runCtx, cancel := context.WithCancel(ctx)
	if err := m.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	e := &env{sets: sets}
	if got := e.matches("acme", "192.0.2.1"); len(got) != 1 {
		t.Errorf("before any fetch, 192.0.2.1 matches %v: the stored set is not loaded", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(e.matches("acme", "192.0.2.9")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := e.matches("acme", "192.0.2.9"); len(got) != 1 {
		t.Fatalf("the schedule did not recover after 3 failures: %v", got)
	}
	srv.mu.Lock()
	n := srv.requests
	srv.mu.Unlock()
	if n < 5 { // import, 3 failures, the success
		t.Errorf("%d requests, want at least 5", n)
	}
	cancel()
	done := make(chan struct{})
	go func() { m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the schedule did not stop with its context")
	}
}

func formatsWith() *Formats {
	f := &Formats{}
	f.AddParser("lines", lineParser{})
	return f
}

func TestBackoffDoublesUpToTheInterval(t *testing.T) {
	m, _ := New(Options{Store: struct{ store.Intel }{}, MinBackoff: time.Second, Jitter: 0})
	m.o.Jitter = 0
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {10, time.Minute}} {
		if got := m.backoff(c.n, time.Minute); got != c.want {
			t.Errorf("backoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	m.o.Jitter = 0.1
	for range 100 {
		if d := m.jitter(time.Hour); d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jitter(1h) = %v, beyond 10%%", d)
		}
	}
}

// Feeds of the same name in two workspaces: neither set sees the other's.
func TestWorkspacesAreIsolated(t *testing.T) {
	a := newDocServer(t, "192.0.2.1\n")
	b := newDocServer(t, "192.0.2.2\n")
	e := newEnv(t, nil, "a", "b")
	for _, s := range []Spec{spec("a", "drop", a.URL), spec("b", "drop", b.URL)} {
		if _, err := e.m.Import(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.matches("a", "192.0.2.2"); len(got) != 0 {
		t.Errorf("a matches b's indicator: %v", got)
	}
	if _, _, got, _ := e.m.Lookup(ctx, "b", "192.0.2.1"); len(got) != 0 {
		t.Errorf("lookup in b finds a's indicator: %v", got)
	}
	if _, _, got, _ := e.m.Lookup(ctx, "b", "192.0.2.2"); len(got) != 1 {
		t.Errorf("lookup in b misses its own: %v", got)
	}
	if _, err := e.m.Refresh(ctx, "a", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refresh of a missing feed: %v", err)
	}
}

// fakeIndex records what was published, as intel.Set would receive it.
type fakeIndex struct {
	intel.Set
	mu       sync.Mutex
	replaced map[string]int
}

func (f *fakeIndex) Replace(feed string, inds []intel.Indicator) error {
	f.mu.Lock()
	f.replaced[feed] = len(inds)
	f.mu.Unlock()
	return f.Set.Replace(feed, inds)
}

// Expired and revoked indicators are not published; the store keeps them
// until purged.
func TestOnlyLiveIndicatorsArePublished(t *testing.T) {
	idx := &fakeIndex{replaced: map[string]int{}}
	e := newEnv(t, func(o *Options) { o.Sets = &Sets{New: func() Set { return idx }} })
	spec := spec("acme", "manual-ish", "unused")
	e.db.PutFeed(ctx, spec.Feed)
	past := time.Now().Add(-time.Hour)
	err := e.db.ReplaceFeedIndicators(ctx, "acme", "manual-ish", []intel.Indicator{
		{Kind: intel.KindIP, Value: "192.0.2.1"},
		{Kind: intel.KindIP, Value: "192.0.2.2", ValidUntil: past},
		{Kind: intel.KindIP, Value: "192.0.2.3", Revoked: true},
	}, store.Fetch{Attempt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Load(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if idx.replaced["manual-ish"] != 1 {
		t.Errorf("published %d indicators, want the 1 live", idx.replaced["manual-ish"])
	}
}

func TestAddManualIndicators(t *testing.T) {
	e := newEnv(t, nil)
	_, n, err := e.m.Add(ctx, "acme", []intel.Indicator{
		{Value: "Evil.Example.", ThreatType: intel.ThreatPhishing, Confidence: 90},
		{Value: "192.0.2.0/24"},
	})
	if err != nil || n != 2 {
		t.Fatalf("Add = %d, %v", n, err)
	}
	_, _, got, err := e.m.Lookup(ctx, "acme", "login.evil.example")
	if err != nil || len(got) != 1 || got[0].Kind != intel.KindDomain || got[0].Value != "evil.example" || got[0].Feed != ManualFeed {
		t.Errorf("lookup of a subdomain: %+v, %v", got, err)
	}
	if _, _, got, _ := e.m.Lookup(ctx, "acme", "192.0.2.77"); len(got) != 1 || got[0].Kind != intel.KindCIDR {
		t.Errorf("lookup of an address in the range: %+v", got)
	}
	if _, _, err := e.m.Add(ctx, "acme", []intel.Indicator{{Kind: intel.KindMD5, Value: "abc"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a bad hash: %v, want ErrInvalid", err)
	}
	if f := e.feed(t, "acme", ManualFeed); f.Indicators != 2 {
		t.Errorf("manual feed: %+v", f)
	}
	if _, err := e.m.Refresh(ctx, "acme", ManualFeed); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("refresh of the manual feed: %v, want ErrInvalid (nothing to fetch)", err)
	}
}

// A format that fetches for itself (TAXII, MISP) gets the feed's source
// and headers.
type fakeFetcher struct{ got Source }

func (f *fakeFetcher) Fetch(ctx context.Context, src Source, problem func(intel.Problem)) ([]intel.Indicator, error) {
	f.got = src
	problem(intel.Problem{Where: "object 2", Reason: "bad pattern"})
	return []intel.Indicator{{Kind: intel.KindDomain, Value: "c2.example"}}, nil
}

func TestFetcherFormat(t *testing.T) {
	ff := &fakeFetcher{}
	e := newEnv(t, func(o *Options) { o.Formats.AddFetcher("collection", ff) })
	s := Spec{Feed: store.Feed{Workspace: "acme", Name: "taxii", Format: "collection", Source: "https://taxii.example/api/collections/x/"},
		Headers: map[string]string{"Authorization": "Bearer t"}}
	res, err := e.m.Import(ctx, s)
	if err != nil || res.Indicators != 1 || res.ProblemCount != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if ff.got.Location != s.Source || ff.got.Headers["Authorization"] != "Bearer t" || ff.got.Feed != "taxii" || ff.got.Client == nil {
		t.Errorf("fetcher got %+v", ff.got)
	}
	if err := e.m.Check(Spec{Feed: store.Feed{Name: "x", Format: "nope", Source: "y"}}); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "collection, lines") {
		t.Errorf("unknown format: %v (want the known ones named)", err)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind intel.Kind
		out  string
	}{
		{"192.0.2.1", intel.KindIP, "192.0.2.1"},
		{"::ffff:192.0.2.1", intel.KindIP, "192.0.2.1"},
		{"2001:DB8::1", intel.KindIP, "2001:db8::1"},
		{"10.1.2.3/8", intel.KindCIDR, "10.0.0.0/8"},
		{"Evil.Example.", intel.KindDomain, "evil.example"},
		{"https://evil.example/a?b", intel.KindURL, "https://evil.example/a?b"},
		{"Bob@Evil.Example", intel.KindEmail, "bob@evil.example"},
		{strings.Repeat("A", 32), intel.KindMD5, strings.Repeat("a", 32)},
		{strings.Repeat("b", 40), intel.KindSHA1, strings.Repeat("b", 40)},
		{strings.Repeat("c", 64), intel.KindSHA256, strings.Repeat("c", 64)},
		{"Mozilla/5.0 (evil)", intel.KindUserAgent, "Mozilla/5.0 (evil)"},
		{"sqlmap/1.7", intel.KindUserAgent, "sqlmap/1.7"},
	} {
		k, v := Classify(c.in)
		if k != c.kind || v != c.out {
			t.Errorf("Classify(%q) = %s %q, want %s %q", c.in, k, v, c.kind, c.out)
		}
	}
}

// metricValue reads a gauge or counter.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}
