package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPickRange: the default range is the last 24 hours when they hold
// the newest alert, else the 24 hours up to it; the picker's ranges end
// now and contain their buckets whole.
func TestPickRange(t *testing.T) {
	now := time.Date(2026, 12, 6, 20, 15, 0, 0, time.UTC)
	for _, c := range []struct {
		key      string
		newest   time.Time
		from, to time.Time
		note     bool
	}{
		{"", now.Add(-3 * time.Hour), time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), false},
		{"", time.Time{}, time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), false},
		{"", time.Date(2026, 11, 26, 14, 21, 44, 0, time.UTC), time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC), true},
		{"24h", time.Date(2026, 11, 26, 14, 21, 44, 0, time.UTC), time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), false},
		{"7d", time.Time{}, time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), false},
		{"30d", time.Time{}, time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), false},
		{"all", time.Time{}, time.Date(2025, 12, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), false},
	} {
		r := pickRange(c.key, now, c.newest)
		if !r.From.Equal(c.from) || !r.To.Equal(c.to) || (r.Note != "") != c.note {
			t.Errorf("range %q, newest %v: %v – %v note %q; want %v – %v, note %v", c.key, c.newest, r.From, r.To, r.Note, c.from, c.to, c.note)
		}
		if r.To.Sub(r.From)%r.Bucket != 0 || r.To.Sub(r.From)/r.Bucket > 1000 {
			t.Errorf("range %q: %v in buckets of %v", c.key, r.To.Sub(r.From), r.Bucket)
		}
		if !c.newest.IsZero() && c.key == "" && (c.newest.Before(r.From) || !c.newest.Before(r.To)) {
			t.Errorf("default range %v – %v does not hold the newest alert %v", r.From, r.To, c.newest)
		}
	}
}

// fakeOverviewAPI answers the reads the overview makes from a workspace's
// alerts, incidents, threat series and sources, applying the filters as
// docs/api.md defines them (severity: that severity or worse).
type fakeOverviewAPI struct {
	alerts    []overviewAlert // open ones
	incidents []overviewIncident
	types     string // the threats/types answer
	sources   string
	t         *testing.T
}

var sevRank = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

func (f *fakeOverviewAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := any(nil)
	switch r.URL.Path {
	case "/api/v1/session":
		out = Session{User: "ann", Workspace: "acme", Role: "reader", Scope: "read"}
	case "/api/v1/alerts":
		var list []overviewAlert
		for _, a := range f.alerts {
			if s := q.Get("severity"); s != "" && sevRank[a.Severity] < sevRank[s] {
				continue
			}
			list = append(list, a)
		}
		total := len(list)
		if q.Get("sort") == "last_seen" {
			slices.SortFunc(list, func(a, b overviewAlert) int { return b.LastSeen.Compare(a.LastSeen) })
		}
		if n := q.Get("limit"); n == "1" && len(list) > 1 {
			list = list[:1]
		}
		if n := q.Get("limit"); n == "5" && len(list) > 5 {
			list = list[:5]
		}
		out = overviewAlerts{Alerts: list, Total: total}
	case "/api/v1/incidents":
		var list []overviewIncident
		for _, i := range f.incidents {
			if s := q.Get("stage"); s != "" && i.Stage != s {
				continue
			}
			list = append(list, i)
		}
		total := len(list)
		if len(list) > 1 && q.Get("limit") == "1" {
			list = list[:1]
		}
		out = overviewIncidents{Incidents: list, Total: total}
	case "/api/v1/threats/types":
		w.Write([]byte(f.types))
		return
	case "/api/v1/sources":
		w.Write([]byte(f.sources))
		return
	default:
		f.t.Errorf("the overview asked for %s", r.URL)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// TestOverviewPage draws the overview from a fake API: the counts by
// severity are the severities alone (the API counts "or worse"), the
// stages are counted, the chart has a bar segment per severity and
// bucket with alerts, silent sources come first.
func TestOverviewPage(t *testing.T) {
	now := time.Date(2026, 12, 6, 20, 15, 0, 0, time.UTC)
	api := &fakeOverviewAPI{t: t}
	for i, sev := range []string{"critical", "high", "high", "medium", "low", "low", "low"} {
		a := overviewAlert{ID: "al" + string(rune('a'+i)), Severity: sev, Status: "new", LastSeen: now.Add(-time.Duration(i) * time.Hour)}
		a.Rule.Title = "Rule " + sev
		api.alerts = append(api.alerts, a)
	}
	for i, st := range []string{"detect", "detect", "assess", "stabilize"} {
		api.incidents = append(api.incidents, overviewIncident{ID: "in" + string(rune('a'+i)), Title: "Incident " + st, Stage: st, Severity: "high"})
	}
	api.types = `{"types":[{"threat_type":"brute_force","alerts":5,"events":40},{"threat_type":"sql_injection","alerts":2,"events":2}],
		"series":[{"start":"2026-12-06T19:00:00Z","counts":[{"threat_type":"brute_force","severity":"high","alerts":2},{"threat_type":"brute_force","severity":"low","alerts":3}]},
		          {"start":"2026-12-06T17:00:00Z","counts":[{"threat_type":"sql_injection","severity":"critical","alerts":2}]}]}`
	api.sources = `{"sources":[{"name":"a-fine","format":"sshd","events":3,"health":{"rate":2.5,"silent":false}},
		{"name":"b-refusing","format":"json","events":3,"rejected":4},
		{"name":"c-silent","format":"json","events":3,"health":{"rate":0,"silent":true}}]}`
	h, err := New(Config{API: api, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "vigil_session", Value: "x"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("overview: %d %s", w.Code, w.Body)
	}
	page := w.Body.String()
	counts := regexp.MustCompile(`<span class="stat">(\d+)</span><span class="(?:sev [a-z-]+|stat-label)">([A-Za-z]+)</span>`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, c := range counts {
		got = append(got, c[2]+"="+c[1])
	}
	// A severity or higher, as the alert queue's filter the link opens.
	want := "critical=1 high=3 medium=4 low=7 informational=7 Detect=2 Assess=1 Diagnose=0 Stabilize=1"
	if strings.Join(got, " ") != want {
		t.Errorf("counts %v, want %s", got, want)
	}
	if n := len(regexp.MustCompile(`<rect class="fill-(critical|high|medium|low|info)"`).FindAllString(page, -1)); n != 3 {
		t.Errorf("%d bar segments in the chart, want 3 (high and low at 19:00, critical at 17:00)", n)
	}
	if !strings.Contains(page, "brute force") || !strings.Contains(page, "sql injection") {
		t.Error("the threat types are not listed")
	}
	silent, refusing, fine := strings.Index(page, "c-silent"), strings.Index(page, "b-refusing"), strings.Index(page, "a-fine")
	if silent < 0 || refusing < 0 || fine < 0 || !(silent < refusing && refusing < fine) {
		t.Errorf("sources at %d (silent), %d (refusing), %d (fine): want silent first, then refusing", silent, refusing, fine)
	}
	if !strings.Contains(page, `data-live-stream`) {
		t.Error("the overview does not follow the live stream")
	}
	if !strings.Contains(page, `href="/alerts?severity=high&amp;status=new%2Cactive"`) {
		t.Error("no link to the open high alerts")
	}
	if !strings.Contains(page, "that severity or higher") || !strings.Contains(page, `title="Open alerts of severity high or higher: 3"`) {
		t.Error("the page does not say the counts are of a severity or higher")
	}
}
