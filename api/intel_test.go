package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// fakeIntel keeps a feed per workspace ("feed-<ws>", one indicator) and
// the indicators added by hand; lookups compare values exactly.
type fakeIntel struct {
	mu        sync.Mutex
	feeds     map[string][]store.Feed
	inds      map[string][]intel.Indicator // by workspace
	refreshes map[string]int
}

func fakeIntelValue(ws string) string { return "192.0.2." + fmt.Sprint(100+int(ws[0])) }

func newFakeIntel(workspaces ...string) *fakeIntel {
	f := &fakeIntel{feeds: map[string][]store.Feed{}, inds: map[string][]intel.Indicator{}, refreshes: map[string]int{}}
	for _, ws := range workspaces {
		f.feeds[ws] = []store.Feed{{Workspace: ws, Name: "feed-" + ws, Format: "plain", Source: "https://user:pw@intel.example/" + ws, Enabled: true,
			FeedStatus: store.FeedStatus{Indicators: 1, ProblemCount: 1, Problems: []intel.Problem{{Where: "line 7", Reason: "not an address"}}}}}
		f.inds[ws] = []intel.Indicator{{Kind: intel.KindIP, Value: fakeIntelValue(ws), Feed: "feed-" + ws, ThreatType: intel.ThreatC2, Threat: "threat-of-" + ws}}
	}
	return f
}

func (f *fakeIntel) state(ws string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, fd := range f.feeds[ws] {
		parts = append(parts, fmt.Sprintf("%s:%d", fd.Name, len(f.inds[ws])))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",") + fmt.Sprintf(" refreshes:%d", f.refreshes[ws])
}

func (f *fakeIntel) Feeds(ctx context.Context, ws string) ([]store.Feed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Feed(nil), f.feeds[ws]...), nil
}

func (f *fakeIntel) Refresh(ctx context.Context, ws, name string) (store.Feed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fd := range f.feeds[ws] {
		if fd.Name == name {
			f.refreshes[ws]++
			return fd, nil
		}
	}
	return store.Feed{}, fmt.Errorf("feed %s/%s: %w", ws, name, store.ErrNotFound)
}

func (f *fakeIntel) Lookup(ctx context.Context, ws, value string) (intel.Kind, string, []intel.Indicator, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []intel.Indicator
	for _, in := range f.inds[ws] {
		if in.Value == value {
			out = append(out, in)
		}
	}
	return intel.KindIP, value, out, nil
}

func (f *fakeIntel) Add(ctx context.Context, ws string, inds []intel.Indicator) (string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range inds {
		if in.Value == "bad" {
			return "", 0, fmt.Errorf("indicator %q: not an address: %w", in.Value, store.ErrInvalid)
		}
		in.Feed = "manual"
		f.inds[ws] = append(f.inds[ws], in)
	}
	if len(f.feeds[ws]) < 2 {
		f.feeds[ws] = append(f.feeds[ws], store.Feed{Workspace: ws, Name: "manual", Format: "manual"})
	}
	return "manual", len(inds), nil
}

func TestIntelRoutes(t *testing.T) {
	f := newFixture(t, newFakeStore())

	var feeds struct{ Feeds []FeedView }
	want(t, f.do(http.MethodGet, "/api/v1/intel/feeds", "a-read", nil), http.StatusOK, &feeds)
	if len(feeds.Feeds) != 1 || feeds.Feeds[0].Name != "feed-a" || feeds.Feeds[0].Indicators != 1 || feeds.Feeds[0].ProblemCount != 1 ||
		feeds.Feeds[0].Problems[0].Where != "line 7" {
		t.Errorf("feeds: %+v", feeds.Feeds)
	}
	if src := feeds.Feeds[0].Source; strings.Contains(src, "pw") {
		t.Errorf("the feed's source shows its password: %s", src)
	}

	var look struct {
		Value, Kind string
		Indicators  []intel.Indicator
	}
	want(t, f.do(http.MethodGet, "/api/v1/intel/indicators?value="+fakeIntelValue("a"), "a-read", nil), http.StatusOK, &look)
	if look.Kind != "ip" || len(look.Indicators) != 1 || look.Indicators[0].Threat != "threat-of-a" {
		t.Errorf("lookup: %+v", look)
	}
	want(t, f.do(http.MethodGet, "/api/v1/intel/indicators?value=203.0.113.1", "a-read", nil), http.StatusOK, &look)
	if look.Indicators == nil || len(look.Indicators) != 0 {
		t.Errorf("lookup of an unknown value: %+v (want an empty list)", look)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/intel/indicators", "a-read", nil), http.StatusUnprocessableEntity, "value")

	// Changes need admin, and are audited.
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/feeds/feed-a/refresh", "a-read", nil), http.StatusForbidden)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/indicators", "a-read", map[string]any{"indicators": []map[string]any{{"value": "192.0.2.1"}}}), http.StatusForbidden)
	wantProblem(t, f.do(http.MethodGet, "/api/v1/intel/feeds", "a-ingest", nil), http.StatusForbidden)
	var fv FeedView
	want(t, f.do(http.MethodPost, "/api/v1/intel/feeds/feed-a/refresh", "a-admin", nil), http.StatusOK, &fv)
	if fv.Name != "feed-a" || f.intel.refreshes["a"] != 1 {
		t.Errorf("refresh: %+v, %d refreshes", fv, f.intel.refreshes["a"])
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/feeds/nope/refresh", "a-admin", nil), http.StatusNotFound, "nope")
	var added struct {
		Added      int
		Feed       string
		Indicators int
	}
	body := map[string]any{"indicators": []map[string]any{{"value": "evil.example", "threat_type": "phishing", "confidence": 90}, {"kind": "ip", "value": "192.0.2.9"}}}
	want(t, f.do(http.MethodPost, "/api/v1/intel/indicators", "a-admin", body), http.StatusOK, &added)
	if added.Added != 2 || added.Feed != "manual" {
		t.Errorf("add: %+v", added)
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/indicators", "a-admin", map[string]any{"indicators": []map[string]any{{"value": "bad"}}}), http.StatusUnprocessableEntity, "bad")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/indicators", "a-admin", map[string]any{"indicators": []map[string]any{{"value": "x", "confidence": 101}}}), http.StatusUnprocessableEntity)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/intel/indicators", "a-admin", map[string]any{"indicators": []map[string]any{}}), http.StatusUnprocessableEntity)

	entries, _, err := f.st.AuditLog(context.Background(), "a", store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range entries {
		seen[e.Action] = e.Target + " " + e.Detail
	}
	if seen["intel.feed.refresh"] != "feed:feed-a 1 indicators" || seen["intel.indicators.add"] != "feed:manual 2 indicators" {
		t.Errorf("audit: %v", seen)
	}
}

func TestIntelRoutesWithoutIntel(t *testing.T) {
	f := newFixtureWith(t, newFakeStore(), func(c *Config) { c.Intel = nil })
	wantProblem(t, f.do(http.MethodGet, "/api/v1/intel/feeds", "a-read", nil), http.StatusServiceUnavailable, "not running")
}
