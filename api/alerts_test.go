package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

type alertPage struct {
	Alerts []alert.Alert `json:"alerts"`
	Next   *string       `json:"next"`
}

func (f *fixture) alertIDs(query string) []string {
	f.t.Helper()
	var p alertPage
	want(f.t, f.do(http.MethodGet, "/api/v1/alerts?"+query, "a-read", nil), http.StatusOK, &p)
	ids := []string{}
	for _, a := range p.Alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestAlerts(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	ctx := context.Background()
	ids := f.seeds["a"].alertIDs // severities 0,1,2; rules rule-0..2; accounts a-user0..2; last seen t0+0..2m
	if _, err := st.SetAlertStatus(ctx, "a", ids[1], alert.StatusActive, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetAlertStatus(ctx, "a", ids[2], alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	eq := func(got []string, want ...string) bool { return strings.Join(got, ",") == strings.Join(want, ",") }
	at := func(m int) string {
		return url.QueryEscape(t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339))
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", ids},
		{"status=new", ids[:1]},
		{"status=new,active", ids[:2]},
		{"status=new,", ids[:1]},
		{"status=", ids},
		{"status=new&status=resolved", []string{ids[0], ids[2]}},
		{"status=dismissed", nil},
		{"severity=low", ids[1:]},
		{"severity=medium", ids[2:]},
		{"rule=rule-1", ids[1:2]},
		{"entity=a-user2", ids[2:]},
		{"entity=b-user2", nil},
		{"since=" + at(1), ids[1:]},
		{"until=" + at(1), ids[:1]},
		{"since=" + at(1) + "&until=" + at(2), ids[1:2]},
	} {
		if got := f.alertIDs(c.query); !eq(got, c.want...) {
			t.Errorf("alerts?%s = %v, want %v", c.query, got, c.want)
		}
	}
	for _, c := range []struct{ query, where string }{
		{"status=open", "query.status"},
		{"status=new,bogus", "query.status"},
		{"severity=severe", "query.severity"},
		{"since=yesterday", "query.since"},
		{"since=" + at(2) + "&until=" + at(1), "query.until"},
		{"limit=0", "query.limit"},
		{"limit=1001", "query.limit"},
		{"limit=ten", "query.limit"},
		{"cursor=zz", "cursor"},
		{"sevrity=high", "sevrity"},
	} {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts?"+c.query, "a-read", nil), http.StatusUnprocessableEntity, c.where)
	}

	var one alert.Alert
	w := f.do(http.MethodGet, "/api/v1/alerts/"+ids[0], "a-read", nil)
	want(t, w, http.StatusOK, &one)
	if one.ID != ids[0] || one.Workspace != "a" || one.Rule.ID != "rule-0" || one.Count != 1 || len(one.Entities) != 1 {
		t.Errorf("alert %+v", one)
	}
	for _, field := range []string{`"severity":"informational"`, `"status":"new"`, `"first_seen":`, `"evidence":[{"event_id":`} {
		if !strings.Contains(w.Body.String(), field) {
			t.Errorf("alert JSON lacks %s: %s", field, w.Body)
		}
	}
	if strings.Contains(w.Body.String(), "$schema") {
		t.Errorf("response carries a $schema field: %s", w.Body)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts/nope", "a-read", nil), http.StatusNotFound, "alert nope not found")
}

func TestAlertStatus(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	id := f.seeds["a"].alertIDs[0]
	var got alert.Alert
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{"status": "dismissed"}), http.StatusOK, &got)
	if got.Status != alert.StatusDismissed {
		t.Errorf("answered status %q, want dismissed", got.Status)
	}
	if a, _ := st.Alert(context.Background(), "a", id); a.Status != alert.StatusDismissed {
		t.Errorf("stored status %q, want dismissed", a.Status)
	}
	e := st.auditOf("alert.status")
	if len(e) != 1 || e[0].Actor != "key:"+f.keyIDs["a-admin"] || e[0].Workspace != "a" || e[0].Target != id {
		t.Errorf("alert.status audit %+v", e)
	}
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{"status": "closed"}), http.StatusUnprocessableEntity, "body.status")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{}), http.StatusUnprocessableEntity, "status")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts/nope", "a-admin", map[string]string{"status": "active"}), http.StatusNotFound)
	// The workflow: a dismissed alert is not made new again (409 with
	// the reason), it is reopened as active.
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{"status": "new"}), http.StatusConflict,
		"dismissed -> new refused", "reopen")
	if n := len(st.auditOf("alert.status")); n != 1 {
		t.Errorf("%d alert.status entries after refused changes, want 1", n)
	}
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{"status": "active"}), http.StatusOK, &got)
	if got.Status != alert.StatusActive {
		t.Errorf("reopened: status %q, want active", got.Status)
	}
}

func TestPaging(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	seed(t, st, "a", 250, 250)
	collect := func(path string, size int, list func(body []byte) (int, []string)) []string {
		var all []string
		var sizes []int
		next := ""
		for range 10 {
			p := path
			if next != "" {
				p += "&cursor=" + url.QueryEscape(next)
			}
			w := f.do(http.MethodGet, p, "a-read", nil)
			want(t, w, http.StatusOK, nil)
			n, ids := list(w.Body.Bytes())
			sizes = append(sizes, n)
			all = append(all, ids...)
			var page struct {
				Next string `json:"next"`
			}
			want(t, w, http.StatusOK, &page)
			if next = page.Next; next == "" {
				break
			}
		}
		for i, n := range sizes[:len(sizes)-1] {
			if n != size {
				t.Errorf("%s: page %d holds %d, want %d", path, i, n, size)
			}
		}
		return all
	}
	alertIDs := func(b []byte) (int, []string) {
		var p alertPage
		if err := jsonUnmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range p.Alerts {
			ids = append(ids, a.ID)
		}
		return len(ids), ids
	}
	// The fixture's 3 alerts share dedup keys with the first 3 seeded here.
	all := collect("/api/v1/alerts?limit=100", 100, alertIDs)
	if len(all) != 250 || len(distinct(all)) != 250 {
		t.Errorf("paged through %d alerts (%d distinct), want 250", len(all), len(distinct(all)))
	}
	// Default page size is 100.
	w := f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil)
	if n, _ := alertIDs(w.Body.Bytes()); n != defaultLimit {
		t.Errorf("default page holds %d alerts, want %d", n, defaultLimit)
	}
	// The last page has no next.
	var last alertPage
	want(t, f.do(http.MethodGet, "/api/v1/alerts?limit=1000", "a-read", nil), http.StatusOK, &last)
	if len(last.Alerts) != 250 || last.Next != nil {
		t.Errorf("limit=1000: %d alerts, next %v; want 250 and no next", len(last.Alerts), last.Next)
	}
	evIDs := func(b []byte) (int, []string) {
		var p struct {
			Events []map[string]any `json:"events"`
		}
		if err := jsonUnmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range p.Events {
			ids = append(ids, e["id"].(string))
		}
		return len(ids), ids
	}
	evs := collect("/api/v1/events?limit=120", 120, evIDs)
	if len(evs) != 253 || len(distinct(evs)) != 253 {
		t.Errorf("paged through %d events (%d distinct), want 253", len(evs), len(distinct(evs)))
	}
}

func distinct(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func TestStoreFailureHidesInternals(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	st.mu.Lock()
	st.failAlerts = errors.New("SQLITE_CORRUPT in /srv/secret/path.db")
	st.mu.Unlock()
	w := f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil)
	wantProblem(t, w, http.StatusInternalServerError, "alerts", "internal error")
	if strings.Contains(w.Body.String(), "SQLITE") || strings.Contains(w.Body.String(), "/srv") {
		t.Errorf("store internals leaked: %s", w.Body)
	}
	st.mu.Lock()
	st.failAlerts = store.ErrInvalid
	st.mu.Unlock()
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil), http.StatusUnprocessableEntity)
}
