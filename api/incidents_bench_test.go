package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
)

// BenchmarkIncidentTimeline reads the first page (100 entries) of the
// timeline of an incident of 200 alerts with 20 evidence events each,
// against the suite's store: the stored entries and 4,000 evidence
// events merged by time on every page.
func BenchmarkIncidentTimeline(b *testing.B) {
	// The suite's store (SQLite, or PostgreSQL with VIGIL_TEST_STORE=postgres).
	db := teststore.Open[fullStore](b)
	f := newFixture(b, db)
	ctx := context.Background()
	ids := event.NewIDSource()
	batch := &store.Batch{ID: ids.New(t0), Workspace: "a", Source: f.seeds["a"].source, Format: testFormat, Received: t0}
	for i := range 200 {
		ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("h%d", i)}}
		key := alert.DedupKey("a", "bench", ents)
		for j := range 20 {
			at := t0.Add(time.Duration(i*20+j) * time.Second)
			ev := store.StoredEvent{ID: ids.New(at), Workspace: "a", Source: batch.Source, Format: testFormat, Time: at, Received: t0, Raw: []byte("user=x")}
			batch.Events = append(batch.Events, ev)
			batch.Signals = append(batch.Signals, alert.Signal{Workspace: "a", Type: "signature", Rule: alert.RuleRef{ID: "bench", Title: "Bench"},
				Severity: alert.Medium, Entities: ents, DedupKey: key, Evidence: alert.Evidence{EventID: ev.ID.String(), Time: at}})
		}
	}
	if _, err := db.Commit(ctx, []*store.Batch{batch}); err != nil {
		b.Fatal(err)
	}
	als, _, err := db.Alerts(ctx, "a", store.AlertQuery{RuleID: "bench", Limit: 1000})
	if err != nil || len(als) != 200 {
		b.Fatalf("%d alerts, %v", len(als), err)
	}
	var alertIDs []string
	for _, a := range als {
		alertIDs = append(alertIDs, a.ID)
	}
	inc, err := db.CreateIncident(ctx, "a", "bench", alertIDs, "bench")
	if err != nil {
		b.Fatal(err)
	}
	path := "/api/v1/incidents/" + inc.ID + "/timeline"
	auth := "Bearer " + f.secrets["a-read"]
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
