package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

type searchPage struct {
	Events   []map[string]any `json:"events"`
	Next     string           `json:"next"`
	Scanned  *int             `json:"scanned"`
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	Entities []string         `json:"entities"`
}

// addEvents puts n events of workspace ws in a fake store: user u<i%7>,
// action login (even i) or logout, n=i, source.ip 10.0.<i%3>.<i%250>,
// one a second from t0.
func addEvents(st *fakeStore, ws string, n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := event.NewIDSource()
	for i := range n {
		action := "login"
		if i%2 == 1 {
			action = "logout"
		}
		e := store.StoredEvent{
			ID: ids.New(t0), Workspace: ws, Source: ws + "-bulk", Format: testFormat,
			Time: t0.Add(time.Duration(i) * time.Second), Received: t0,
			Raw: fmt.Appendf(nil, "user=u%d action=%s n=%d", i%7, action, i),
		}
		e.Common[event.UserName] = fmt.Sprintf("u%d", i%7)
		e.Common[event.SourceIP] = fmt.Sprintf("10.0.%d.%d", i%3, i%250)
		st.events = append(st.events, e)
	}
}

// searchAll pages path (which has a query string) to the end, checking
// that every page but the last is full unless the scan bound cut it.
func searchAll(t *testing.T, f *fixture, path string, limit int) (ns []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		var p searchPage
		u := fmt.Sprintf("%s&limit=%d", path, limit)
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		want(t, f.do(http.MethodGet, u, "a-read", nil), http.StatusOK, &p)
		pages++
		if p.Scanned == nil {
			t.Fatalf("%s: no scanned count", u)
		}
		if *p.Scanned > MaxScanned {
			t.Fatalf("%s: scanned %d, over the bound", u, *p.Scanned)
		}
		if p.Next != "" && len(p.Events) < limit && *p.Scanned < MaxScanned {
			t.Fatalf("%s: a short page (%d of %d) with a cursor, though only %d were scanned", u, len(p.Events), limit, *p.Scanned)
		}
		for _, e := range p.Events {
			fs, _ := e["fields"].(map[string]any)
			ns = append(ns, fmt.Sprint(fs["n"]))
		}
		if p.Next == "" {
			return ns, pages
		}
		cursor = p.Next
	}
}

func TestEventsSearch(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	addEvents(st, "a", 1000)
	addEvents(st, "b", 50) // another workspace's events match the query too

	var wantNs []string
	for i := range 1000 {
		if i%2 == 0 && i%7 == 3 { // login by u3
			wantNs = append(wantNs, fmt.Sprint(i))
		}
	}
	for _, limit := range []int{3, 50, 1000} {
		q := url.QueryEscape("action:login AND user.name:U3")
		got, pages := searchAll(t, f, "/api/v1/events?q="+q, limit)
		if strings.Join(got, ",") != strings.Join(wantNs, ",") {
			t.Fatalf("limit %d: %d events %v…, want %d %v…", limit, len(got), got[:min(5, len(got))], len(wantNs), wantNs[:5])
		}
		if wantPages := (len(wantNs) + limit - 1) / limit; pages < wantPages || pages > wantPages+1 {
			t.Errorf("limit %d: %d pages for %d events", limit, pages, len(wantNs))
		}
	}

	// The store's filters narrow first, the query then.
	got, _ := searchAll(t, f, "/api/v1/events?source=a-bulk&q="+url.QueryEscape("source.ip:10.0.1.0/24 n:[100 TO 120]"), 100)
	if strings.Join(got, ",") != "100,103,106,109,112,115,118" {
		t.Errorf("CIDR and range within a source: %v", got)
	}
	got, _ = searchAll(t, f, "/api/v1/events?entity=u5&q="+url.QueryEscape("-action:login n:<30"), 100)
	if strings.Join(got, ",") != "5,19" {
		t.Errorf("entity u5, logouts under 30: %v", got)
	}

	// Without q, no scanned count: the list is as it was.
	w := f.do(http.MethodGet, "/api/v1/events?limit=2", "a-read", nil)
	if strings.Contains(w.Body.String(), `"scanned"`) {
		t.Errorf("a list without q reports scanned: %s", w.Body)
	}

	// A bad query is the client's error, saying where.
	var pr problem
	want(t, f.do(http.MethodGet, "/api/v1/events?q="+url.QueryEscape("user.name:(a OR"), "a-read", nil), http.StatusUnprocessableEntity, &pr)
	if !strings.Contains(pr.Detail, "column") || !strings.Contains(pr.Detail, "q") {
		t.Errorf("bad query: %+v", pr)
	}
}

// A query that matches little stops at MaxScanned events a request and
// hands back a cursor that continues the search.
func TestEventsSearchBound(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	addEvents(st, "a", MaxScanned+500)
	last := fmt.Sprint(MaxScanned + 499)
	var p searchPage
	want(t, f.do(http.MethodGet, "/api/v1/events?q=n:"+last, "a-read", nil), http.StatusOK, &p)
	if len(p.Events) != 0 || p.Next == "" || p.Scanned == nil || *p.Scanned != MaxScanned {
		t.Fatalf("first request: %d events, next %q, scanned %v; want none, a cursor, %d", len(p.Events), p.Next, p.Scanned, MaxScanned)
	}
	var p2 searchPage
	want(t, f.do(http.MethodGet, "/api/v1/events?q=n:"+last+"&cursor="+url.QueryEscape(p.Next), "a-read", nil), http.StatusOK, &p2)
	if len(p2.Events) != 1 || p2.Next != "" || *p2.Scanned != 503 { // the seed's 3 came first
		t.Fatalf("second request: %d events, next %q, scanned %d; want the one event, no cursor, 503", len(p2.Events), p2.Next, *p2.Scanned)
	}
}

// incidentStore is a fake store that keeps incidents (only read here).
type incidentStore struct {
	*fakeStore
	incidents map[string]incident.Incident
}

func (s *incidentStore) Incident(_ context.Context, workspace, id string) (incident.Incident, error) {
	inc, ok := s.incidents[id]
	if !ok || inc.Workspace != workspace {
		return incident.Incident{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return inc, nil
}

func TestIncidentEvents(t *testing.T) {
	st := &incidentStore{fakeStore: newFakeStore(), incidents: map[string]incident.Incident{
		"inc-a": {ID: "inc-a", Workspace: "a", FirstSeen: t0.Add(2 * time.Hour), LastSeen: t0.Add(3 * time.Hour),
			Entities: []alert.Entity{{Type: alert.EntityAccount, Value: "u2"}, {Type: alert.EntityIP, Value: "10.0.0.9"},
				{Type: alert.EntityAccount, Value: "u2"}}},
		"inc-empty": {ID: "inc-empty", Workspace: "a", FirstSeen: t0, LastSeen: t0},
		"inc-b":     {ID: "inc-b", Workspace: "b", FirstSeen: t0, LastSeen: t0.Add(6 * time.Hour), Entities: []alert.Entity{{Type: alert.EntityAccount, Value: "u1"}}},
	}}
	f := newFixture(t, st)
	addEvents(st.fakeStore, "a", 6*3600) // six hours, one a second
	addEvents(st.fakeStore, "b", 100)

	// By default: an hour either side of the incident's activity.
	var p searchPage
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-a/events?limit=1000&q="+url.QueryEscape("action:logout"), "a-read", nil), http.StatusOK, &p)
	if !p.From.Equal(t0.Add(time.Hour)) || !p.To.Equal(t0.Add(4*time.Hour)) || strings.Join(p.Entities, ",") != "u2,10.0.0.9" {
		t.Fatalf("range %v to %v, entities %v", p.From, p.To, p.Entities)
	}
	for _, e := range p.Events {
		ts, _ := time.Parse(time.RFC3339, e["@timestamp"].(string))
		fs := e["fields"].(map[string]any)
		if ts.Before(t0.Add(time.Hour)) || !ts.Before(t0.Add(4*time.Hour)) || fs["action"] != "logout" ||
			e["user.name"] != "u2" && e["source.ip"] != "10.0.0.9" {
			t.Fatalf("event outside the incident's entities, range or query: %v", e)
		}
	}
	// Every event of u2 or 10.0.0.9 in range, logouts only, counted the
	// slow way.
	var wantNs []string
	for i := 3600; i < 4*3600; i++ {
		if i%2 == 1 && (i%7 == 2 || i%3 == 0 && i%250 == 9) {
			wantNs = append(wantNs, fmt.Sprint(i))
		}
	}
	if len(p.Events) != len(wantNs) || p.Next != "" {
		t.Errorf("one page of 1000: %d events, next %q; want all %d", len(p.Events), p.Next, len(wantNs))
	}
	got, _ := searchAll(t, f, "/api/v1/incidents/inc-a/events?q=action:logout", 100)
	if strings.Join(got, ",") != strings.Join(wantNs, ",") {
		t.Errorf("pages of 100: %d events, want %d", len(got), len(wantNs))
	}

	// An explicit range and query.
	from := url.QueryEscape(t0.Add(100 * time.Second).Format(time.RFC3339))
	to := url.QueryEscape(t0.Add(200 * time.Second).Format(time.RFC3339))
	got, _ = searchAll(t, f, "/api/v1/incidents/inc-a/events?from="+from+"&to="+to+"&q=n:>150", 10)
	if strings.Join(got, ",") != "156,163,170,177,184,191,198" {
		t.Errorf("explicit range: %v", got)
	}

	// No entity: no event (not every event).
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-empty/events", "a-read", nil), http.StatusOK, &p)
	if len(p.Events) != 0 || p.Next != "" {
		t.Errorf("an incident without entities shows %d events", len(p.Events))
	}
	// Another workspace's incident, an unknown one: not found.
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-b/events", "a-read", nil), http.StatusNotFound, nil)
	want(t, f.do(http.MethodGet, "/api/v1/incidents/nope/events", "a-read", nil), http.StatusNotFound, nil)
	// Bad input.
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-a/events?q=(", "a-read", nil), http.StatusUnprocessableEntity, nil)
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-a/events?from="+to+"&to="+from, "a-read", nil), http.StatusUnprocessableEntity, nil)
}

// Against the embedded store, whose cursors are positions (time, id):
// the pages of a search, cut in the middle of the store's pages, go on
// exactly where they stopped, across blocks whose times interleave.
func TestEventsSearchSQLite(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db)
	ctx := context.Background()
	ids := event.NewIDSource()
	type row struct {
		n  int
		at time.Time
		id event.ID
	}
	var all []row
	for b := range 4 {
		batch := &store.Batch{ID: ids.New(t0), Workspace: "a", Source: "a-src", Format: testFormat, Received: t0}
		for j := range 150 {
			i := b*150 + j
			at := t0.Add(time.Duration((i*37)%400) * time.Second) // interleaved, with ties
			e := store.StoredEvent{ID: ids.New(t0), Workspace: "a", Source: "a-src", Format: testFormat,
				Time: at, Received: t0, Raw: fmt.Appendf(nil, "user=u%d action=x n=%d", i%5, i)}
			e.Common[event.UserName] = fmt.Sprintf("u%d", i%5)
			batch.Events = append(batch.Events, e)
			if i%5 == 1 && i%2 == 0 {
				all = append(all, row{i, at, e.ID})
			}
		}
		if _, err := db.Commit(ctx, []*store.Batch{batch}); err != nil {
			t.Fatal(err)
		}
	}
	// Newest first: later time, then higher id.
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			a, b := all[i], all[j]
			if b.at.After(a.at) || b.at.Equal(a.at) && b.id.Compare(a.id) > 0 {
				all[i], all[j] = all[j], all[i]
			}
		}
	}
	var wantNs []string
	for _, r := range all {
		wantNs = append(wantNs, fmt.Sprint(r.n))
	}
	q := url.QueryEscape("user.name:u1 AND n:(*0 OR *2 OR *4 OR *6 OR *8)")
	for _, limit := range []int{1, 7, 1000} {
		got, _ := searchAll(t, f, "/api/v1/events?q="+q, limit)
		if strings.Join(got, ",") != strings.Join(wantNs, ",") {
			t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, wantNs)
		}
	}
}

// The incident's events against the embedded store: its entities through
// the store's entity index, its range an hour either side, the other
// workspace's incident not found.
func TestIncidentEventsSQLite(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	ids := event.NewIDSource()
	batch := &store.Batch{ID: ids.New(t0), Workspace: "a", Source: "a-src", Format: testFormat, Received: t0}
	var wantNs []string
	for i := range 300 { // one a minute over five hours
		at := t0.Add(time.Duration(i) * time.Minute)
		user := fmt.Sprintf("U%d", i%6) // stored in capitals: the index folds case
		e := store.StoredEvent{ID: ids.New(t0), Workspace: "a", Source: "a-src", Format: testFormat,
			Time: at, Received: t0, Raw: fmt.Appendf(nil, "user=%s n=%d", user, i)}
		e.Common[event.UserName] = user
		e.Common[event.SourceIP] = fmt.Sprintf("192.0.2.%d", i%50)
		batch.Events = append(batch.Events, e)
		inRange := !at.Before(t0.Add(time.Hour)) && at.Before(t0.Add(3*time.Hour))
		if inRange && (i%6 == 2 || i%50 == 7) && i%5 != 0 {
			wantNs = append([]string{fmt.Sprint(i)}, wantNs...) // newest first
		}
	}
	if _, err := db.Commit(ctx, []*store.Batch{batch}); err != nil {
		t.Fatal(err)
	}
	inc := func(id, ws string) store.IncidentUpdate {
		return store.IncidentUpdate{New: true, Incident: incident.Incident{ID: id, Workspace: ws, Title: "test",
			Stage: incident.StageDetect, Status: incident.StatusNew,
			FirstSeen: t0.Add(2 * time.Hour), LastSeen: t0.Add(2 * time.Hour),
			Entities: []alert.Entity{{Type: alert.EntityAccount, Value: "u2"}, {Type: alert.EntityIP, Value: "192.0.2.7"}}}}
	}
	if err := db.ApplyIncidents(ctx, "test", 1, []store.IncidentUpdate{inc("inc-a", "a"), inc("inc-b", "b")}); err != nil {
		t.Fatal(err)
	}
	if len(wantNs) < 10 {
		t.Fatalf("the data gives only %d events to find", len(wantNs))
	}
	q := url.QueryEscape("-n:*0 -n:*5")
	for _, limit := range []int{4, 1000} {
		got, _ := searchAll(t, f, "/api/v1/incidents/inc-a/events?q="+q, limit)
		if strings.Join(got, ",") != strings.Join(wantNs, ",") {
			t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, wantNs)
		}
	}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/inc-b/events", "a-read", nil), http.StatusNotFound, nil)
}
