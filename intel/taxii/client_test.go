package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// testServer is a TAXII 2.1 server written from the specification's
// resources: discovery, an API root, collections, and objects paged with
// limit/next (collection "next") or by added_after alone ("dated").
type testServer struct {
	t        *testing.T
	user     string
	pass     string
	token    string
	objects  []stored
	mu       sync.Mutex
	requests []string // path?query of each objects request
	// brokenPaging makes the server announce more without a way to page.
	brokenPaging bool
}

type stored struct {
	added time.Time
	raw   string
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newServer(t *testing.T) (*testServer, *httptest.Server) {
	s := &testServer{t: t, user: "alice", pass: "s3cret", token: "tok-123"}
	obj := func(minutes int, raw string) {
		s.objects = append(s.objects, stored{t0.Add(time.Duration(minutes) * time.Minute), raw})
	}
	obj(1, `{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","name":"Emotet","is_family":true,"malware_types":["bot"]}`)
	obj(2, `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.2']","valid_from":"2026-01-01T00:00:00Z"}`)
	obj(3, `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[domain-name:value = 'c2.example.net']","valid_from":"2026-01-01T00:00:00Z","indicator_types":["malicious-activity"]}`)
	obj(4, `{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000004","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value = ","valid_from":"2026-01-01T00:00:00Z"}`)
	obj(5, `{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-000000000005","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","relationship_type":"indicates","source_ref":"indicator--00000000-0000-4000-8000-000000000002","target_ref":"malware--00000000-0000-4000-8000-000000000001"}`)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *testServer) fail(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"title": title, "description": "test server says no", "http_status": strconv.Itoa(status)})
}

func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := r.Header.Get("Accept"); !strings.HasPrefix(a, "application/taxii+json") || !strings.Contains(a, "version=2.1") {
		s.fail(w, http.StatusNotAcceptable, "wrong Accept "+a)
		return
	}
	u, p, basic := r.BasicAuth()
	bearer := r.Header.Get("Authorization") == "Bearer "+s.token
	if !(basic && u == s.user && p == s.pass) && !bearer {
		w.Header().Set("WWW-Authenticate", `Basic realm="taxii"`)
		s.fail(w, http.StatusUnauthorized, "authentication required")
		return
	}
	send := func(v any) {
		w.Header().Set("Content-Type", MediaType)
		json.NewEncoder(w).Encode(v)
	}
	switch path := r.URL.Path; {
	case path == "/taxii2/":
		send(map[string]any{"title": "test TAXII", "default": "/api1/",
			"api_roots": []string{"/api1/", "http://" + r.Host + "/api2/"}})
	case path == "/api1/":
		send(map[string]any{"title": "API 1", "versions": []string{MediaType}, "max_content_length": 1 << 20})
	case path == "/api1/collections/":
		send(map[string]any{"collections": []map[string]any{
			{"id": "next", "title": "paged by next", "can_read": true, "can_write": false, "media_types": []string{"application/stix+json;version=2.1"}},
			{"id": "dated", "title": "paged by date", "can_read": true, "can_write": false},
		}})
	case strings.HasPrefix(path, "/api1/collections/") && strings.HasSuffix(path, "/objects/"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api1/collections/"), "/objects/")
		if id != "next" && id != "dated" {
			s.fail(w, http.StatusNotFound, "no collection "+id)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.RawQuery)
		s.mu.Unlock()
		s.objectsPage(w, r, id)
	default:
		s.fail(w, http.StatusNotFound, "no resource "+path)
	}
}

func (s *testServer) objectsPage(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	var after time.Time
	if v := q.Get("added_after"); v != "" {
		var err error
		if after, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.fail(w, http.StatusBadRequest, "bad added_after")
			return
		}
	}
	var match []stored
	for _, o := range s.objects {
		if o.added.After(after) {
			match = append(match, o)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].added.Before(match[j].added) })
	start := 0
	if n := q.Get("next"); n != "" {
		if id != "next" || !strings.HasPrefix(n, "page-") {
			s.fail(w, http.StatusBadRequest, "bad next")
			return
		}
		start, _ = strconv.Atoi(strings.TrimPrefix(n, "page-"))
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	end := min(start+limit, len(match))
	page := match[start:end]
	env := map[string]any{"more": end < len(match)}
	if id == "next" && end < len(match) {
		env["next"] = "page-" + strconv.Itoa(end)
	}
	var objs []json.RawMessage
	for _, o := range page {
		objs = append(objs, json.RawMessage(o.raw))
	}
	if len(objs) > 0 {
		env["objects"] = objs
		if !s.brokenPaging {
			w.Header().Set("X-TAXII-Date-Added-First", page[0].added.Format(time.RFC3339Nano))
			w.Header().Set("X-TAXII-Date-Added-Last", page[len(page)-1].added.Format(time.RFC3339Nano))
		}
	}
	w.Header().Set("Content-Type", MediaType)
	json.NewEncoder(w).Encode(env)
}

func TestDiscoveryRootsCollections(t *testing.T) {
	_, srv := newServer(t)
	c := &Client{Username: "alice", Password: "s3cret"}
	ctx := context.Background()
	d, err := c.Discover(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{srv.URL + "/api1/", srv.URL + "/api2/"}
	if d.Title != "test TAXII" || d.Default != srv.URL+"/api1/" || fmt.Sprint(d.APIRoots) != fmt.Sprint(want) {
		t.Errorf("discovery %+v, want roots %v", d, want)
	}
	if d2, err := c.Discover(ctx, srv.URL+"/taxii2/"); err != nil || d2.Title != d.Title {
		t.Errorf("discovery by its own URL: %+v %v", d2, err)
	}
	root, err := c.APIRoot(ctx, d.Default)
	if err != nil || root.Title != "API 1" || root.MaxContentLength != 1<<20 || root.Versions[0] != MediaType {
		t.Errorf("api root %+v %v", root, err)
	}
	cols, err := c.Collections(ctx, d.Default)
	if err != nil || len(cols) != 2 || cols[0].ID != "next" || !cols[0].CanRead || cols[0].CanWrite {
		t.Errorf("collections %+v %v", cols, err)
	}
}

func collect(t *testing.T, c *Client, root, col string, after time.Time) ([]*Page, error) {
	t.Helper()
	var pages []*Page
	for p, err := range c.Objects(context.Background(), root, col, after) {
		if err != nil {
			return pages, err
		}
		pages = append(pages, p)
	}
	return pages, nil
}

func TestObjectsPaging(t *testing.T) {
	for _, col := range []string{"next", "dated"} {
		t.Run(col, func(t *testing.T) {
			s, srv := newServer(t)
			c := &Client{Token: "tok-123", PageSize: 2}
			pages, err := collect(t, c, srv.URL+"/api1/", col, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, p := range pages {
				sizes = append(sizes, len(p.Objects))
			}
			if fmt.Sprint(sizes) != "[2 2 1]" {
				t.Errorf("page sizes %v, want [2 2 1]", sizes)
			}
			if !pages[2].DateAddedLast.Equal(t0.Add(5 * time.Minute)) {
				t.Errorf("last page added-last %v", pages[2].DateAddedLast)
			}
			// The client asked with the server's token, or with the
			// previous page's last added time.
			want := map[string][]string{
				"next":  {"limit=2", "limit=2&next=page-2", "limit=2&next=page-4"},
				"dated": {"limit=2", "added_after=2026-01-01T00%3A02%3A00.000000Z&limit=2", "added_after=2026-01-01T00%3A04%3A00.000000Z&limit=2"},
			}[col]
			if fmt.Sprint(s.requests) != fmt.Sprint(want) {
				t.Errorf("requests %v, want %v", s.requests, want)
			}
		})
	}
}

func TestFetchAddedAfter(t *testing.T) {
	_, srv := newServer(t)
	c := &Client{Username: "alice", Password: "s3cret", PageSize: 1}
	objs, last, err := c.Fetch(context.Background(), srv.URL+"/api1/", "next", t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || !last.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("%d objects, last %v; want 2 and %v", len(objs), last, t0.Add(5*time.Minute))
	}
	// Nothing new: the same time comes back to ask from next time.
	objs, last, err = c.Fetch(context.Background(), srv.URL+"/api1/", "next", last)
	if err != nil || len(objs) != 0 || !last.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("nothing new: %d objects, last %v, %v", len(objs), last, err)
	}
}

func TestAuthAndErrors(t *testing.T) {
	_, srv := newServer(t)
	ctx := context.Background()
	for name, c := range map[string]*Client{
		"none":           {},
		"wrong password": {Username: "alice", Password: "nope"},
		"wrong token":    {Token: "tok-999"},
	} {
		_, err := c.Discover(ctx, srv.URL)
		var e *Error
		if !errors.As(err, &e) || e.Status != 401 || !IsUnauthorized(err) || !strings.Contains(err.Error(), "401 Unauthorized: authentication required") {
			t.Errorf("%s: %v, want a 401 error", name, err)
		}
	}
	c := &Client{Token: "tok-123"}
	_, err := collect(t, c, srv.URL+"/api1/", "missing", time.Time{})
	var e *Error
	if !errors.As(err, &e) || e.Status != 404 || e.Title != "no collection missing" {
		t.Errorf("missing collection: %v", err)
	}
	if _, err := c.APIRoot(ctx, "/api1/"); err == nil {
		t.Error("a relative API root was accepted")
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>login</html>")
	}))
	defer html.Close()
	if _, err := c.Discover(ctx, html.URL); err == nil || !strings.Contains(err.Error(), "content type") {
		t.Errorf("an HTML answer: %v", err)
	}
	small := &Client{Token: "tok-123", MaxResponse: 100}
	if _, err := collect(t, small, srv.URL+"/api1/", "next", time.Time{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversized response: %v", err)
	}
}

func TestBrokenPagingStops(t *testing.T) {
	s, srv := newServer(t)
	s.brokenPaging = true
	c := &Client{Token: "tok-123", PageSize: 2}
	pages, err := collect(t, c, srv.URL+"/api1/", "dated", time.Time{})
	if err == nil || len(pages) != 1 {
		t.Errorf("%d pages, err %v; want one page and an error", len(pages), err)
	}
}

func TestCancel(t *testing.T) {
	_, srv := newServer(t)
	c := &Client{Token: "tok-123", PageSize: 1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range c.Objects(ctx, srv.URL+"/api1/", "next", time.Time{}) {
		if err != nil {
			last = err
			break
		}
		n++
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d pages then %v; want 1 and context.Canceled", n, last)
	}
}

func TestIndicatorsAcrossPages(t *testing.T) {
	_, srv := newServer(t)
	c := &Client{Username: "alice", Password: "s3cret", PageSize: 2}
	var probs []intel.Problem
	inds, last, err := c.Indicators(context.Background(), srv.URL+"/api1/", "next", time.Time{}, "taxii-test", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(inds) != 2 || len(probs) != 1 || !last.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("%d indicators, problems %v, last %v", len(inds), probs, last)
	}
	// The relationship came two pages after its indicator.
	if i := inds[0]; i.Value != "198.51.100.2" || i.Threat != "Emotet" || i.ThreatType != intel.ThreatBotnet || i.Feed != "taxii-test" {
		t.Errorf("first indicator %+v", i)
	}
	if i := inds[1]; i.Value != "c2.example.net" || i.ThreatType != intel.ThreatMalware {
		t.Errorf("second indicator %+v", i)
	}
	if !strings.Contains(probs[0].Where, "indicator--00000000-0000-4000-8000-000000000004") {
		t.Errorf("problem without the object id: %v", probs[0])
	}
}

func TestSplitCollectionURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://h.example/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/": "https://h.example/api1/ 91a7b528-80eb-42ed-a74d-c6fbd5a26116",
		"https://h.example/api1/collections/abc/objects/?added_after=x":            "https://h.example/api1/ abc",
		"https://h.example/taxii/api/v21/collections/abc":                          "https://h.example/taxii/api/v21/ abc",
		"https://h.example/api1/":                                                  "error",
		"https://h.example/api1/collections/":                                      "error",
		"/api1/collections/abc/":                                                   "error",
	} {
		root, id, err := SplitCollectionURL(in)
		got := root + " " + id
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("SplitCollectionURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTypesAndHeader(t *testing.T) {
	s, srv := newServer(t)
	c := &Client{Header: http.Header{"Authorization": {"Bearer tok-123"}}, Types: []string{"indicator", "relationship"}}
	if _, err := collect(t, c, srv.URL+"/api1/", "next", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(s.requests) != 1 || s.requests[0] != "match%5Btype%5D=indicator%2Crelationship" {
		t.Errorf("requests %v", s.requests)
	}
}
