package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// paneAPI answers the pane's API routes for a workspace whose only alerts
// were last seen at one time, the way the API counts them: in buckets
// counted from the range's start, only when in [from, to).
type paneAPI struct {
	alertAt time.Time
	mu      sync.Mutex
	asked   map[string]url.Values // the last query of each path
}

func (a *paneAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.asked[r.URL.Path] = r.URL.Query()
	a.mu.Unlock()
	q := r.URL.Query()
	from, _ := time.Parse(time.RFC3339, q.Get("from"))
	to, _ := time.Parse(time.RFC3339, q.Get("to"))
	in := !a.alertAt.Before(from) && a.alertAt.Before(to)
	w.Header().Set("Content-Type", "application/json")
	var body any
	switch r.URL.Path {
	case "/api/v1/session":
		body = map[string]string{"user": "rita", "workspace": "demo", "role": "reader", "scope": "read"}
	case "/api/v1/threats/types":
		if to.Sub(from) > 366*24*time.Hour {
			w.WriteHeader(http.StatusUnprocessableEntity)
			body = map[string]string{"detail": "the range may span at most 366 days"}
			break
		}
		width, err := parseBucketForTest(q.Get("bucket"))
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			body = map[string]string{"detail": err.Error()}
			break
		}
		out := map[string]any{"from": from, "to": to, "bucket": width.String(), "types": []any{}, "series": []any{}}
		if in {
			start := from.Add(a.alertAt.Sub(from) / width * width)
			out["types"] = []any{map[string]any{"threat_type": "brute_force", "alerts": 3, "events": 40, "by_severity": map[string]int{"high": 2, "low": 1}}}
			out["series"] = []any{map[string]any{"start": start, "counts": []any{
				map[string]any{"threat_type": "brute_force", "severity": "high", "alerts": 2},
				map[string]any{"threat_type": "brute_force", "severity": "low", "alerts": 1},
			}}}
		}
		body = out
	case "/api/v1/threats/origins", "/api/v1/threats/map":
		out := map[string]any{"countries": []any{}, "networks": []any{}, "points": []any{}, "unknown": map[string]int{"alerts": 0},
			"attribution": "Test GeoIP <b>data</b>"}
		if in {
			out["countries"] = []any{map[string]any{"country": "DE", "numeric": "276", "country_name": "Germany", "alerts": 3, "worst_severity": "high",
				"top_threat_types": []any{map[string]any{"threat_type": "brute_force", "alerts": 3}}}}
			out["networks"] = []any{map[string]any{"asn": 24940, "as_org": "Hetzner Online GmbH", "country": "DE", "alerts": 3, "worst_severity": "high"}}
		}
		body = out
	case "/api/v1/geoip":
		body = map[string]any{"databases": []any{map[string]any{"path": "embedded:test", "type": "country", "built": "2026-06-17T00:00:00Z", "attribution": "Test GeoIP"}}}
	case "/api/v1/alerts":
		body = map[string]any{"alerts": []any{}, "total": 0}
	default:
		http.NotFound(w, r)
		return
	}
	_ = json.NewEncoder(w).Encode(body)
}

func parseBucketForTest(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscan(d, &n); err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func paneGet(t *testing.T, now time.Time, alertAt time.Time, target string) (string, *paneAPI) {
	t.Helper()
	api := &paneAPI{alertAt: alertAt, asked: map[string]url.Values{}}
	h, err := New(Config{API: api, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.AddCookie(&http.Cookie{Name: "vigil_session", Value: "x"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", target, w.Code, w.Body.String())
	}
	return w.Body.String(), api
}

// With nothing in the last 24 hours, the pane opens on the 24 hours up to
// the end of the hour of the newest alert, and reads everything for that
// range.
func TestThreatsDefaultRangeMovesToTheNewestAlert(t *testing.T) {
	now := time.Date(2026, 12, 6, 19, 57, 0, 0, time.UTC)
	alertAt := time.Date(2026, 11, 26, 13, 30, 5, 0, time.UTC)
	body, api := paneGet(t, now, alertAt, "/threats")
	for _, path := range []string{"/api/v1/threats/origins", "/api/v1/threats/map"} {
		q := api.asked[path]
		if q.Get("from") != "2026-11-25T14:00:00Z" || q.Get("to") != "2026-11-26T14:00:00Z" {
			t.Errorf("%s asked for %s – %s, want the 24 hours up to 14:00 on 26 November", path, q.Get("from"), q.Get("to"))
		}
	}
	for _, want := range []string{
		"Nothing in the last 24 hours",
		"2026-11-25 14:00:00Z – 2026-11-26 14:00:00Z",
		`value="2026-11-25T14:00"`,
		"brute_force",
		`href="/alerts?country=DE&amp;since=2026-11-25T14%3A00%3A00Z&amp;until=2026-11-26T14%3A00%3A00Z"`,
		"Germany: 3 alerts, worst high · brute_force",
		`<a href="/alerts?since=2026-11-25T14%3A00%3A00Z&amp;threat_type=brute_force&amp;until=2026-11-26T14%3A00%3A00Z">brute_force</a>`,
		"17 Jun 2026",
		"Test GeoIP &lt;b&gt;data&lt;/b&gt;",
		"1–1 of 1 countries",
		"AS24940 <span class=\"muted\">Hetzner Online GmbH</span>",
		"1–1 of 1 networks",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the pane does not show %q", want)
		}
	}
	if strings.Contains(body, "<b>data") {
		t.Error("the attribution is not escaped")
	}
	if !strings.Contains(body, `<rect class="fill-t0"`) {
		t.Error("the chart has no bar of the type")
	}
}

// With alerts in the last 24 hours, the pane shows them, and says which
// preset it is on.
func TestThreatsDefaultRangeIsTheLastDay(t *testing.T) {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	body, api := paneGet(t, now, time.Date(2026, 11, 26, 13, 30, 0, 0, time.UTC), "/threats")
	if q := api.asked["/api/v1/threats/map"]; q.Get("from") != "2026-11-25T20:00:00Z" || q.Get("to") != "2026-11-26T20:00:00Z" {
		t.Errorf("map asked for %v", q)
	}
	if strings.Contains(body, "Nothing in the last 24 hours") {
		t.Error("the note shows though the last day has alerts")
	}
	if !strings.Contains(body, `href="/threats?range=24h" aria-current="true"`) {
		t.Error("the 24-hour preset is not marked as the current one")
	}
}

func TestThreatsRangeFromTheQuery(t *testing.T) {
	now := time.Date(2026, 12, 6, 19, 57, 0, 0, time.UTC)
	at := time.Date(2026, 11, 26, 13, 30, 0, 0, time.UTC)
	_, api := paneGet(t, now, at, "/threats?from=2026-11-20T00:00&to=2026-11-27T00:00")
	q := api.asked["/api/v1/threats/types"]
	if q.Get("from") != "2026-11-20T00:00:00Z" || q.Get("to") != "2026-11-27T00:00:00Z" || q.Get("bucket") != "6h" {
		t.Errorf("types asked for %v, want the week in 6-hour buckets", q)
	}
	_, api = paneGet(t, now, at, "/threats?range=30d")
	if q := api.asked["/api/v1/threats/origins"]; q.Get("from") != "2026-11-06T19:57:00Z" {
		t.Errorf("30 days: origins asked for %v", q)
	}
	for target, msg := range map[string]string{
		"/threats?from=2026-11-27T00:00&to=2026-11-26T00:00": "end must come after its start",
		"/threats?from=yesterday":                            "must be times such as",
		"/threats?from=2024-01-01T00:00&to=2026-01-01T00:00": "at most 366 days",
		"/threats?range=5y":                                  "no range",
	} {
		body, api := paneGet(t, now, at, target)
		if !strings.Contains(body, msg) || !strings.Contains(body, "Showing the default") {
			t.Errorf("%s: the page does not say %q", target, msg)
		}
		if q := api.asked["/api/v1/threats/map"]; q.Get("to") != "2026-11-26T14:00:00Z" {
			t.Errorf("%s: map asked for %v, want the default range", target, q)
		}
	}
}

func TestTypesChartBuckets(t *testing.T) {
	from := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	var a threatTypesAnswer
	a.From, a.To, a.Bucket = from, from.Add(6*time.Hour), "1h0m0s"
	for i := range 7 {
		a.Types = append(a.Types, struct {
			ThreatType string           `json:"threat_type"`
			Alerts     int64            `json:"alerts"`
			Events     int64            `json:"events"`
			BySeverity map[string]int64 `json:"by_severity"`
		}{ThreatType: fmt.Sprintf("t%d", i), Alerts: int64(10 - i)})
	}
	a.Series = append(a.Series, struct {
		Start  time.Time     `json:"start"`
		Counts []threatCount `json:"counts"`
	}{Start: from.Add(2 * time.Hour), Counts: []threatCount{{ThreatType: "t0", Alerts: 4}, {ThreatType: "t6", Alerts: 2}, {ThreatType: "t5", Alerts: 1}}})
	c, err := typesChart(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Buckets) != 6 || !c.Buckets[2].Equal(from.Add(2*time.Hour)) {
		t.Fatalf("buckets %v", c.Buckets)
	}
	if len(c.Series) != 6 || c.Series[5].Name != "other types" {
		t.Fatalf("series %+v, want five types and the rest", c.Series)
	}
	if c.Series[0].Values[2] != 4 || c.Series[5].Values[2] != 3 {
		t.Errorf("bucket 2: t0 %d, other %d; want 4 and 3", c.Series[0].Values[2], c.Series[5].Values[2])
	}
	if _, err := typesChart(threatTypesAnswer{Bucket: "soon"}); err == nil {
		t.Error("a bad bucket gave no error")
	}
}

func TestOriginsPage(t *testing.T) {
	rows := make([]originRow, 23)
	for i := range rows {
		rows[i] = originRow{Name: fmt.Sprint(i), Alerts: int64(100 - i)}
	}
	u, _ := url.Parse("/threats?range=7d")
	p := originPage(u, "cpage", rows)
	if len(p.Rows) != 10 || p.From != 1 || p.To != 10 || p.Pager.Total != 23 || p.Pager.Next != "/threats?cpage=10&range=7d#cpage" || p.Pager.First != "" {
		t.Errorf("first page: %+v", p)
	}
	if p.Rows[0].Share != 100 || p.Rows[9].Share != 91 {
		t.Errorf("shares %v %v", p.Rows[0].Share, p.Rows[9].Share)
	}
	u, _ = url.Parse("/threats?range=7d&cpage=20")
	p = originPage(u, "cpage", rows)
	if len(p.Rows) != 3 || p.From != 21 || p.To != 23 || p.Pager.Next != "" || p.Pager.First != "/threats?range=7d#cpage" {
		t.Errorf("last page: %+v", p)
	}
	u, _ = url.Parse("/threats?cpage=99")
	if p = originPage(u, "cpage", rows); p.From != 1 {
		t.Errorf("an offset past the end: %+v", p)
	}
}
