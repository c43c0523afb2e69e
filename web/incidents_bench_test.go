package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
	"github.com/vigil-sec/vigil/web"
)

// benchIncidents is how many incidents the page benchmarks' store holds.
const benchIncidents = 5000

// incidentPagesStore is what BenchmarkIncidentPages seeds and reads.
type incidentPagesStore interface {
	store.Store
	store.Users
	store.Incidents
}

// BenchmarkIncidentPages renders the incidents board, a stage's list and
// an incident's page through the API, in process, against the embedded
// store holding 5,000 incidents of one alert each, a fifth of them closed
// (the bound: under 200 ms a page; the similar incidents, asked
// for with ?similar=1, are the store's search over every incident).
func BenchmarkIncidentPages(b *testing.B) {
	ctx := context.Background()
	// The suite's store: SQLite, or PostgreSQL with
	// VIGIL_TEST_STORE=postgres (internal/teststore).
	db := teststore.Open[incidentPagesStore](b)
	if _, err := db.CreateWorkspace(ctx, "w", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	hash, err := tenant.HashPassword("a benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "rob", PasswordHash: hash, Created: time.Now(),
		Roles: []tenant.Membership{{Workspace: "w", Role: tenant.ScopeResponder}}}); err != nil {
		b.Fatal(err)
	}
	ids := event.NewIDSource()
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	batch := &store.Batch{ID: ids.New(t0), Workspace: "w", Source: "bench", Format: "json", Received: t0}
	for i := range benchIncidents {
		at := t0.Add(time.Duration(i) * time.Second)
		ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", i)}, {Type: alert.EntityIP, Value: fmt.Sprintf("198.51.%d.%d", i/250, i%250)}}
		ev := store.StoredEvent{ID: ids.New(at), Workspace: "w", Source: "bench", Format: "json", Time: at, Received: t0, Raw: []byte(`{"a":1}`)}
		batch.Events = append(batch.Events, ev)
		batch.Signals = append(batch.Signals, alert.Signal{Workspace: "w", Type: "signature",
			Rule:     alert.RuleRef{ID: fmt.Sprintf("r%d", i%40), Title: fmt.Sprintf("Rule %d", i%40)},
			Severity: alert.Severity(i % 5), Entities: ents, DedupKey: alert.DedupKey("w", "bench", ents),
			Evidence: alert.Evidence{EventID: ev.ID.String(), Time: at}})
	}
	if _, err := db.Commit(ctx, []*store.Batch{batch}); err != nil {
		b.Fatal(err)
	}
	var alertIDs []string
	for cursor := ""; ; {
		page, next, err := db.Alerts(ctx, "w", store.AlertQuery{Limit: 1000, Cursor: cursor})
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range page {
			alertIDs = append(alertIDs, a.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(alertIDs) != benchIncidents {
		b.Fatalf("%d alerts, want %d", len(alertIDs), benchIncidents)
	}
	var one string
	for i, aid := range alertIDs {
		inc, err := db.CreateIncident(ctx, "w", "", []string{aid}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if i%5 == 0 {
			to := incident.StageClose
			if _, err := db.ChangeIncident(ctx, "w", inc.ID, incident.Change{Stage: &to, Classification: incident.FalsePositive, Reason: "bench"}, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		one = inc.ID
	}
	a, err := api.New(api.Config{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Config{API: a})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/session", strings.NewReader(`{"user":"rob","password":"a benchmark password"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()

	for _, page := range []struct{ name, path string }{
		{"board", "/incidents"},
		{"board-filtered", "/incidents?q=host-49&min_severity=low"},
		{"closed-list", "/incidents?stage=close"},
		{"incident", "/incidents/" + one},
		{"incident-similar", "/incidents/" + one + "?similar=1"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				start := time.Now()
				r := httptest.NewRequest(http.MethodGet, page.path, nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", page.path, w.Code, w.Body)
				}
				worst = max(worst, time.Since(start))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}
