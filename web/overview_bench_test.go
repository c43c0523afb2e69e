package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/sqlite"
	"github.com/vigil-sec/vigil/tenant"
)

// overviewStore is what BenchmarkOverview seeds and reads.
type overviewStore interface {
	store.Store
	store.Users
	store.Incidents
}

// BenchmarkOverview draws the overview of a workspace of 100,000 alerts
// (over 30 days, the newest an hour old) and 5,000 incidents in the
// embedded store, read through the API in process as a signed-in reader
// reads it. The bound is 200 ms a page.
func BenchmarkOverview(b *testing.B) {
	const nAlerts, nIncidents, perBatch = 100_000, 5_000, 2_000
	ctx := context.Background()
	var db overviewStore
	seed := true
	if dir := os.Getenv("OVBENCH_DIR"); dir != "" {
		// A SQLite file kept between runs: seeded by the first, read by
		// the rest.
		_, statErr := os.Stat(filepath.Join(dir, "vigil.db"))
		sdb, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer sdb.Close()
		db, seed = sdb, statErr != nil
	} else {
		// The suite's store: SQLite, or PostgreSQL with
		// VIGIL_TEST_STORE=postgres (internal/teststore).
		db = teststore.Open[overviewStore](b)
	}
	const ws = "acme"
	now := time.Now().UTC()
	if seed {
		if _, err := db.CreateWorkspace(ctx, ws, tenant.TierStandard); err != nil {
			b.Fatal(err)
		}
		ids := event.NewIDSource()
		for start := 0; start < nAlerts; start += perBatch {
			t := now.Add(-time.Hour)
			bt := &store.Batch{ID: ids.New(t), Workspace: ws, Source: "fw", Format: "json", Received: t}
			for i := start; i < start+perBatch; i++ {
				at := now.Add(-time.Hour - time.Duration(i)*30*24*time.Hour/nAlerts)
				ev := store.StoredEvent{ID: ids.New(at), Workspace: ws, Source: "fw", Format: "json", Time: at, Received: t,
					Raw: fmt.Appendf(nil, `{"n":%d}`, i)}
				bt.Events = append(bt.Events, ev)
				ents := []alert.Entity{{Type: alert.EntityHost, Value: fmt.Sprintf("host-%d", i)}}
				rule := fmt.Sprintf("rule-%d", i%40)
				bt.Signals = append(bt.Signals, alert.Signal{Workspace: ws, Type: "signature",
					Rule: alert.RuleRef{ID: rule, Title: "Rule " + rule}, Severity: alert.Severity(i % 5),
					Techniques: []string{[]string{"T1110", "T1190", "T1046", "T1078"}[i%4]},
					Entities:   ents, DedupKey: alert.DedupKey(ws, rule, ents),
					Evidence: alert.Evidence{EventID: ev.ID.String(), Time: at}})
			}
			if _, err := db.Commit(ctx, []*store.Batch{bt}); err != nil {
				b.Fatal(err)
			}
		}
		var alertIDs []string
		for cursor := ""; len(alertIDs) < nIncidents; {
			page, next, err := db.Alerts(ctx, ws, store.AlertQuery{Limit: 1000, Cursor: cursor, Sort: store.AlertSortLastSeen})
			if err != nil || len(page) == 0 {
				b.Fatalf("alerts: %v", err)
			}
			for _, al := range page {
				alertIDs = append(alertIDs, al.ID)
			}
			cursor = next
		}
		for _, id := range alertIDs[:nIncidents] {
			if _, err := db.CreateIncident(ctx, ws, "", []string{id}, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		hash, err := tenant.HashPassword("a long password here")
		if err != nil {
			b.Fatal(err)
		}
		if err := db.CreateUser(ctx, tenant.User{Name: "ann", PasswordHash: hash, Created: now,
			Roles: []tenant.Membership{{Workspace: ws, Role: "reader"}}}); err != nil {
			b.Fatal(err)
		}
	}
	a, err := api.New(api.Config{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{API: a})
	if err != nil {
		b.Fatal(err)
	}
	login := httptest.NewRequest(http.MethodPost, "/api/v1/session",
		bytes.NewReader([]byte(`{"user":"ann","password":"a long password here","workspace":"acme"}`)))
	login.Header.Set("Content-Type", "application/json")
	login.Header.Set("Sec-Fetch-Site", "same-origin")
	lw := httptest.NewRecorder()
	h.ServeHTTP(lw, login)
	cookies := lw.Result().Cookies()
	if lw.Code/100 != 2 || len(cookies) == 0 {
		b.Fatalf("sign in: %d %s", lw.Code, lw.Body)
	}
	for _, p := range []string{"/api/v1/alerts?sort=last_seen&limit=1", "/api/v1/alerts?status=new,active&limit=5",
		"/api/v1/alerts?status=new,active&severity=high&limit=1", "/api/v1/incidents?status=new,active&sort=priority&limit=5",
		"/api/v1/incidents?stage=detect&limit=1", "/api/v1/sources?limit=1000", "/api/v1/threats/types?from=" + now.Add(-24*time.Hour).Format(time.RFC3339) + "&bucket=1h",
		"/api/v1/threats/types?from=" + now.Add(-365*24*time.Hour).Format(time.RFC3339) + "&bucket=24h", "/api/v1/session",
		"/api/v1/alerts?status=new,active&severity=critical&limit=1", "/api/v1/alerts?status=new,active&severity=medium&limit=1", "/api/v1/alerts?status=new,active&severity=low&limit=1",
		"/api/v1/incidents?stage=assess&limit=1", "/api/v1/incidents?stage=stabilize&limit=1"} {
		r := httptest.NewRequest(http.MethodGet, p, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(w, r)
		b.Logf("%s: %d in %v", p, w.Code, time.Since(t0))
	}
	for _, q := range []string{"", "?range=30d", "?range=all"} {
		b.Run("range="+q, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/"+q, nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`class="fill-critical"`)) {
					b.Fatalf("overview: %d, chart without critical bars", w.Code)
				}
			}
		})
	}
}
