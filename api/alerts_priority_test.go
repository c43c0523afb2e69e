package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

type rankedPage struct {
	Alerts []alert.Alert `json:"alerts"`
	Next   string        `json:"next"`
	Total  *int          `json:"total"`
}

// commitRanked gives workspace ws n alerts of severities cycling through
// all five, in groups of four last seen at the same instant: many ties of
// priority and of time.
func commitRanked(t *testing.T, st store.Store, ws string, n int) {
	t.Helper()
	ids := event.NewIDSource()
	b := &store.Batch{ID: ids.New(t0), Workspace: ws, Source: ws + "-src", Format: testFormat, Received: t0}
	for i := range n {
		ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("%s-host%d", ws, i)}}
		rule := fmt.Sprintf("ranked-%d", i)
		b.Signals = append(b.Signals, alert.Signal{
			Workspace: ws, Type: "signature",
			Rule:     alert.RuleRef{ID: rule, Title: "Ranked " + rule},
			Severity: alert.Severity(i % 5), Entities: ents,
			DedupKey: alert.DedupKey(ws, rule, ents),
			Evidence: alert.Evidence{Time: t0.Add(time.Duration(i/4) * time.Hour)},
		})
	}
	if _, err := st.Commit(context.Background(), []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
}

// walk pages through path with key, checking that every page gives the
// same total; it returns the alerts and that total.
func (f *fixture) walk(path, key string) ([]alert.Alert, int) {
	f.t.Helper()
	var all []alert.Alert
	total, next := -1, ""
	for range 200 {
		p := path
		if next != "" {
			p += "&cursor=" + url.QueryEscape(next)
		}
		var page rankedPage
		want(f.t, f.do(http.MethodGet, p, key, nil), http.StatusOK, &page)
		if page.Total == nil {
			f.t.Fatalf("%s: no total", p)
		}
		if total >= 0 && *page.Total != total {
			f.t.Errorf("%s: total %d, earlier pages said %d", p, *page.Total, total)
		}
		total = *page.Total
		all = append(all, page.Alerts...)
		if next = page.Next; next == "" {
			return all, total
		}
	}
	f.t.Fatalf("%s: no last page", path)
	return nil, 0
}

// The list is sorted by priority by default, pages across ties of
// priority and time without loss or repeat, and says the total its
// filters keep; each workspace sees its own alerts and total only.
func TestAlertsByPrioritySQLite(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db) // 3 alerts in each of a and b
	commitRanked(t, db, "a", 37)
	commitRanked(t, db, "b", 11)

	byDefault, total := f.walk("/api/v1/alerts?limit=4", "a-read")
	if total != 40 || len(byDefault) != 40 {
		t.Fatalf("a: %d alerts paged, total %d; want 40 and 40", len(byDefault), total)
	}
	seen := map[string]bool{}
	for i, a := range byDefault {
		if a.Workspace != "a" || seen[a.ID] {
			t.Fatalf("alert %d: %s of workspace %s (repeat %v)", i, a.ID, a.Workspace, seen[a.ID])
		}
		seen[a.ID] = true
		if i == 0 {
			continue
		}
		p := byDefault[i-1]
		if p.Priority < a.Priority || p.Priority == a.Priority && p.LastSeen.Before(a.LastSeen) {
			t.Errorf("out of priority order at %d: %d %v then %d %v", i, p.Priority, p.LastSeen, a.Priority, a.LastSeen)
		}
	}
	if byDefault[0].Severity != alert.Critical || byDefault[0].Priority != 60 || len(byDefault[0].PriorityReasons) == 0 {
		t.Errorf("first alert: %v priority %d reasons %v; want critical, 60, with reasons", byDefault[0].Severity, byDefault[0].Priority, byDefault[0].PriorityReasons)
	}
	explicit, _ := f.walk("/api/v1/alerts?sort=priority&limit=7", "a-read")
	for i := range explicit {
		if explicit[i].ID != byDefault[i].ID {
			t.Fatalf("sort=priority in pages of 7 differs from the default in pages of 4 at %d", i)
		}
	}
	byTime, _ := f.walk("/api/v1/alerts?sort=last_seen&limit=6", "a-read")
	if len(byTime) != 40 {
		t.Errorf("sort=last_seen: %d alerts, want 40", len(byTime))
	}
	for i := 1; i < len(byTime); i++ {
		if byTime[i-1].LastSeen.Before(byTime[i].LastSeen) {
			t.Errorf("sort=last_seen out of order at %d", i)
		}
	}

	// The total follows the filters, not the page.
	high, total := f.walk("/api/v1/alerts?severity=high&limit=2", "a-read")
	wantHigh := 0
	for _, a := range byDefault {
		if a.Severity >= alert.High {
			wantHigh++
		}
	}
	if total != wantHigh || len(high) != wantHigh || wantHigh == 0 {
		t.Errorf("severity=high: %d alerts, total %d; want %d", len(high), total, wantHigh)
	}
	if _, total := f.walk("/api/v1/alerts?rule=ranked-3&limit=2", "a-read"); total != 1 {
		t.Errorf("rule=ranked-3: total %d, want 1", total)
	}
	if _, total := f.walk("/api/v1/alerts?status=resolved", "a-read"); total != 0 {
		t.Errorf("status=resolved: total %d, want 0", total)
	}

	// Workspace b: its own alerts and total, whoever's cursor it is given.
	bAll, bTotal := f.walk("/api/v1/alerts?limit=5", "b-read")
	if bTotal != 14 || len(bAll) != 14 {
		t.Errorf("b: %d alerts, total %d; want 14", len(bAll), bTotal)
	}
	for _, a := range bAll {
		if a.Workspace != "b" || seen[a.ID] {
			t.Errorf("b's list holds %s of workspace %s", a.ID, a.Workspace)
		}
	}
	var aPage rankedPage
	want(t, f.do(http.MethodGet, "/api/v1/alerts?limit=2", "a-read", nil), http.StatusOK, &aPage)
	var bPage rankedPage
	want(t, f.do(http.MethodGet, "/api/v1/alerts?limit=50&cursor="+url.QueryEscape(aPage.Next), "b-read", nil), http.StatusOK, &bPage)
	for _, a := range bPage.Alerts {
		if a.Workspace != "b" {
			t.Errorf("a's cursor used by b's key gave %s of workspace %s", a.ID, a.Workspace)
		}
	}
	if bPage.Total == nil || *bPage.Total != 14 {
		t.Errorf("b with a's cursor: total %v, want 14", bPage.Total)
	}

	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts?sort=severity", "a-read", nil), http.StatusUnprocessableEntity, "sort")
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts?sort=last_seen&cursor="+url.QueryEscape(aPage.Next), "a-read", nil),
		http.StatusUnprocessableEntity, "cursor")
}
