package api

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/vigil-sec/vigil/internal/teststore"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// scanningStore is a store that hides the store's database index:
// the API then places every alert from its evidence events, as it does
// for stores without one.
type scanningStore struct{ store.Store }

// The databases routes answer from the store's database index (SQLite's
// and PostgreSQL's) exactly as they answer by reading each alert's
// evidence: the same servers,
// databases, counts and latest alerts, the same alerts of a database,
// under every filter. The seeds include alerts last seen at the same
// instant (the latest alert's tie), an alert whose evidence is an event of
// an earlier commit (a correlation), one with no evidence event (placed by
// its entities) and non-database alerts.
func TestDatabasesIndexAnswersAsScanning(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	if _, err := db.CreateWorkspace(ctx, "da", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateWorkspace(ctx, "db", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	seedDatabases(t, db, "da", []dbSeed{
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.High, at: time.Minute},
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.Critical, at: 2 * time.Minute},
		{src: "pg01", db: "shop", title: "A Possible Vulnerability to SQL Injection", sev: alert.Medium, at: 2 * time.Minute},
		{src: "pg01", db: "hr", title: "Shell Execution from SQL", sev: alert.High, at: 4 * time.Minute},
		{src: "azure-hub", host: "shopsrv", db: "shopdb", title: "Suspected Brute Force Attack", sev: alert.High, at: 5 * time.Minute},
		{src: "maria01", host: "db1", db: "", title: "Suspected Brute Force Attack", sev: alert.Low, at: 6 * time.Minute},
		{src: "web01", plain: true, title: "SSH Brute Force", sev: alert.High, at: 7 * time.Minute},
	})
	seedDatabases(t, db, "db", []dbSeed{
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.Critical, at: time.Minute},
	})
	// A correlation's alert names an event committed before (the first
	// SQL injection's), in a batch of signals only; a health alert names
	// no event and is placed by its entities.
	first, _, err := db.Alerts(ctx, "da", store.AlertQuery{RuleID: "Potential SQL Injection", Limit: 10})
	if err != nil || len(first) == 0 {
		t.Fatalf("seeded alerts: %v, %v", first, err)
	}
	ev := first[len(first)-1].Evidence[0]
	ids := event.NewIDSource()
	ents := []alert.Entity{{Type: alert.EntityDatabase, Value: "billing"}, {Type: alert.EntityHost, Value: "pg09"}}
	b := &store.Batch{ID: ids.New(t0), Workspace: "da", Source: "correlation", Format: testFormat, Received: t0.Add(time.Hour)}
	b.Signals = append(b.Signals,
		alert.Signal{Workspace: "da", Type: "correlation", Rule: alert.RuleRef{ID: "sqli-then-login", Title: "SQL injection then login"},
			Severity: alert.High, DedupKey: "corr", Evidence: alert.Evidence{EventID: ev.EventID, Time: t0.Add(8 * time.Minute)}},
		alert.Signal{Workspace: "da", Type: "health", Rule: alert.RuleRef{ID: "db-silent", Title: "Database audit silent"},
			Severity: alert.Medium, Entities: ents, DedupKey: "health", Evidence: alert.Evidence{Time: t0.Add(8 * time.Minute)}})
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}

	secret, k, err := NewKey("da", tenant.ScopeRead, "d", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	indexed, err := New(Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := any(db).(databaseIndex); !ok {
		t.Fatalf("the %s store has no database index", teststore.Kind())
	}
	scanning, err := New(Config{Store: scanningStore{db}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(a *API, path string) []byte {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	filters := []string{"", "?severity=high", "?status=new", "?status=resolved", "?rule=Potential+SQL+Injection",
		"?since=" + url.QueryEscape(t0.Add(2*time.Minute).Format(time.RFC3339)), "?until=" + url.QueryEscape(t0.Add(5*time.Minute).Format(time.RFC3339)),
		"?entity=da-user"}
	var all databasesPage
	if err := json.Unmarshal(get(indexed, "/api/v1/databases"), &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Servers) != 4 { // pg01 (the correlation's too), shopsrv, db1, and the health alert's pg09
		t.Errorf("servers %+v, want 4", all.Servers)
	}
	for _, f := range filters {
		got, want := get(indexed, "/api/v1/databases"+f), get(scanning, "/api/v1/databases"+f)
		if !bytes.Equal(got, want) {
			t.Errorf("GET /api/v1/databases%s:\nindexed  %s\nscanning %s", f, got, want)
		}
	}
	// Every database's alerts, all pages, in order.
	alertsOf := func(a *API, server, database, f string) []string {
		var out []string
		cursor := ""
		for range 20 {
			q := "?limit=2"
			if f != "" {
				q = f + "&limit=2"
			}
			var p alertPage
			if err := json.Unmarshal(get(a, "/api/v1/databases/"+url.PathEscape(server)+"/"+url.PathEscape(database)+"/alerts"+q+"&cursor="+url.QueryEscape(cursor)), &p); err != nil {
				t.Fatal(err)
			}
			for _, x := range p.Alerts {
				out = append(out, x.ID)
			}
			if p.Next == nil || *p.Next == "" {
				break
			}
			cursor = *p.Next
		}
		return out
	}
	n := 0
	for _, s := range all.Servers {
		for _, d := range s.Databases {
			for _, f := range filters[:len(filters)-1] { // the route takes no entity
				got, want := alertsOf(indexed, s.Server, d.Database, f), alertsOf(scanning, s.Server, d.Database, f)
				if f == "" {
					n += len(got)
					if len(got) != d.Alerts {
						t.Errorf("%s/%s lists %d alerts, counts %d", s.Server, d.Database, len(got), d.Alerts)
					}
				}
				if len(got) != len(want) {
					t.Errorf("%s/%s%s: indexed %v, scanning %v", s.Server, d.Database, f, got, want)
					continue
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("%s/%s%s: indexed %v, scanning %v", s.Server, d.Database, f, got, want)
						break
					}
				}
			}
		}
	}
	if n != 8 {
		t.Errorf("%d database alerts listed, want 8 (6 seeded, the correlation's, the health alert)", n)
	}
}
