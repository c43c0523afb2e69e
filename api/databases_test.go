package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// dbSeed is an alert of rule title about an event of source src with
// host.name host and db.name db (category database unless plain).
type dbSeed struct {
	src, host, db, title string
	sev                  alert.Severity
	plain                bool
	at                   time.Duration
}

// seedDatabases commits one event and one alert per seed into ws, and
// returns the alerts' ids in seed order.
func seedDatabases(t *testing.T, st store.Store, ws string, seeds []dbSeed) []string {
	t.Helper()
	ctx := context.Background()
	ids := event.NewIDSource()
	b := &store.Batch{ID: ids.New(t0), Workspace: ws, Source: "mixed", Format: testFormat, Received: t0}
	for i, s := range seeds {
		ev := store.StoredEvent{ID: ids.New(t0), Workspace: ws, Source: s.src, Format: testFormat,
			Logsource: event.Logsource{Product: "postgresql", Category: "database"}, Time: t0.Add(s.at), Received: t0}
		if s.plain {
			ev.Logsource = event.Logsource{Product: "linux", Service: "auth"}
		}
		ev.Common[event.HostName] = s.host
		ev.Common[event.DBName] = s.db
		ev.Common[event.UserName] = ws + "-user"
		b.Events = append(b.Events, ev)
		ents := []alert.Entity{{Type: alert.EntityAccount, Value: ws + "-user"}, {Type: "n", Value: string(rune('a' + i))}}
		b.Signals = append(b.Signals, alert.Signal{Workspace: ws, Type: "signature",
			Rule: alert.RuleRef{ID: s.title, Title: s.title}, Severity: s.sev, Entities: ents,
			DedupKey: alert.DedupKey(ws, s.title, ents), Evidence: alert.Evidence{EventID: ev.ID.String(), Time: ev.Time}})
	}
	if _, err := st.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	als, _, err := st.Alerts(ctx, ws, store.AlertQuery{Limit: 1000})
	if err != nil || len(als) != len(seeds) {
		t.Fatalf("seeded %d alerts (%v), want %d", len(als), err, len(seeds))
	}
	out := make([]string, len(seeds))
	for _, a := range als {
		for i, s := range seeds {
			if a.Rule.Title == s.title && a.FirstSeen.Equal(t0.Add(s.at)) {
				out[i] = a.ID
			}
		}
	}
	return out
}

type databasesPage struct {
	Servers []struct {
		Server string `json:"server"`
		DatabaseAlerts
		Databases []DatabaseSummary `json:"databases"`
	} `json:"servers"`
	Scanned   int  `json:"scanned"`
	Truncated bool `json:"truncated"`
}

func TestDatabasesRoutes(t *testing.T) {
	st := newFakeStore()
	for _, ws := range []string{"da", "db"} {
		st.workspaces[ws] = tenant.Workspace{Name: ws, Tier: tenant.TierStandard}
	}
	a := seedDatabases(t, st, "da", []dbSeed{
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.High, at: time.Minute},
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.High, at: 2 * time.Minute},
		{src: "pg01", db: "shop", title: "A Possible Vulnerability to SQL Injection", sev: alert.Medium, at: 3 * time.Minute},
		{src: "pg01", db: "hr", title: "Shell Execution from SQL", sev: alert.High, at: 4 * time.Minute},
		{src: "azure-hub", host: "shopsrv", db: "shopdb", title: "Suspected Brute Force Attack", sev: alert.High, at: 5 * time.Minute},
		{src: "maria01", host: "db1", db: "", title: "Suspected Brute Force Attack", sev: alert.High, at: 6 * time.Minute},
		{src: "web01", plain: true, title: "SSH Brute Force", sev: alert.High, at: 7 * time.Minute},
	})
	// Workspace db has the same server and database names: none of its
	// alerts may show in da's answers.
	seedDatabases(t, st, "db", []dbSeed{
		{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.Critical, at: time.Minute},
		{src: "pg01", db: "secret", title: "File Access from SQL", sev: alert.Medium, at: 2 * time.Minute},
	})
	secret, k, err := NewKey("da", tenant.ScopeRead, "d", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.CreateKey(context.Background(), k)
	api, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, out any) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}

	var page databasesPage
	get("/api/v1/databases", &page)
	if page.Scanned != 7 || page.Truncated {
		t.Errorf("scanned %d truncated %v, want 7 false", page.Scanned, page.Truncated)
	}
	got := map[string]int{}
	for _, s := range page.Servers {
		n := 0
		for _, d := range s.Databases {
			got[s.Server+"/"+d.Database] = d.Alerts
			n += d.Alerts
		}
		if n != s.Alerts {
			t.Errorf("server %s counts %d alerts, its databases %d", s.Server, s.Alerts, n)
		}
	}
	want := map[string]int{"pg01/shop": 3, "pg01/hr": 1, "shopsrv/shopdb": 1, "db1/-": 1}
	if len(got) != len(want) {
		t.Errorf("databases %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d alerts, want %d (all: %v)", k, got[k], n, got)
		}
	}
	for _, s := range page.Servers {
		if s.Server != "pg01" {
			continue
		}
		if s.BySeverity["high"] != 3 || s.BySeverity["medium"] != 1 || s.LastAlert != a[3] || s.LastType != "Shell Execution from SQL" {
			t.Errorf("pg01: %+v", s.DatabaseAlerts)
		}
		for _, d := range s.Databases {
			if d.Database == "shop" && (d.ByType["Potential SQL Injection"] != 2 || d.ByType["A Possible Vulnerability to SQL Injection"] != 1 || d.LastAlert != a[2]) {
				t.Errorf("pg01/shop: %+v", d.DatabaseAlerts)
			}
		}
	}

	// One database's alerts, paged one at a time.
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		var al alertPage
		get("/api/v1/databases/pg01/shop/alerts?limit=1&cursor="+cursor, &al)
		for _, x := range al.Alerts {
			ids = append(ids, x.ID)
		}
		if al.Next == nil || *al.Next == "" || pages > 10 {
			break
		}
		cursor = *al.Next
	}
	if len(ids) != 3 || !contains(ids, a[0]) || !contains(ids, a[1]) || !contains(ids, a[2]) {
		t.Errorf("pg01/shop alerts %v, want %v", ids, a[:3])
	}
	var al alertPage
	get("/api/v1/databases/db1/-/alerts", &al)
	if len(al.Alerts) != 1 || al.Alerts[0].ID != a[5] {
		t.Errorf("db1/- alerts: %+v", al.Alerts)
	}
	get("/api/v1/databases/pg01/secret/alerts", &al)
	if len(al.Alerts) != 0 {
		t.Errorf("workspace db's database shows in da: %+v", al.Alerts)
	}
	get("/api/v1/databases/pg01/shop/alerts?severity=high&rule=A+Possible+Vulnerability+to+SQL+Injection", &al)
	if len(al.Alerts) != 0 {
		t.Errorf("filters not applied: %+v", al.Alerts)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// When retention took an alert's events, its host and database entities
// place it; an alert with neither is no database alert.
func TestDatabasesWithoutEvidence(t *testing.T) {
	st := newFakeStore()
	st.workspaces["dc"] = tenant.Workspace{Name: "dc", Tier: tenant.TierStandard}
	ids := event.NewIDSource()
	gone := ids.New(t0).String() // never stored
	b := &store.Batch{ID: ids.New(t0), Workspace: "dc", Source: "s", Format: testFormat, Received: t0}
	for i, ents := range [][]alert.Entity{
		{{Type: alert.EntityHost, Value: "sql01"}, {Type: alert.EntityDatabase, Value: "erp"}},
		{{Type: alert.EntityDatabase, Value: "crm"}},
		{{Type: alert.EntityAccount, Value: "bob"}},
	} {
		rule := []string{"r1", "r2", "r3"}[i]
		b.Signals = append(b.Signals, alert.Signal{Workspace: "dc", Type: "correlation", Rule: alert.RuleRef{ID: rule, Title: rule},
			Severity: alert.High, Entities: ents, DedupKey: alert.DedupKey("dc", rule, ents),
			Evidence: alert.Evidence{EventID: gone, Time: t0}})
	}
	if _, err := st.Commit(context.Background(), []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	secret, k, err := NewKey("dc", tenant.ScopeRead, "d", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.CreateKey(context.Background(), k)
	api, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/databases", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	var page databasesPage
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		t.Fatalf("GET /api/v1/databases: %d %s", rec.Code, rec.Body)
	}
	got := map[string]int{}
	for _, s := range page.Servers {
		for _, d := range s.Databases {
			got[s.Server+"/"+d.Database] = d.Alerts
		}
	}
	if len(got) != 2 || got["sql01/erp"] != 1 || got["-/crm"] != 1 {
		t.Errorf("databases %v, want sql01/erp and -/crm once each", got)
	}
	req = httptest.NewRequest("GET", "/api/v1/databases/-/crm/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	var al alertPage
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &al) != nil || len(al.Alerts) != 1 || al.Alerts[0].Rule.ID != "r2" {
		t.Errorf("GET /api/v1/databases/-/crm/alerts: %d %s", rec.Code, rec.Body)
	}
}

// eventsByIDStore is the fake store with a batch read of events, as
// SQLite has: the databases routes then read a page's evidence at once.
type eventsByIDStore struct {
	*fakeStore
	calls int
}

func (s *eventsByIDStore) EventsByID(ctx context.Context, ws string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	s.calls++
	out := map[event.ID]store.StoredEvent{}
	for _, id := range ids {
		if e, err := s.fakeStore.Event(ctx, ws, id); err == nil {
			out[id] = e
		}
	}
	return out, nil
}

// TestDatabasesReadEvidenceInBatches: with a store that reads many events
// at once, the databases routes place the same alerts as with one read an
// alert, in one batch read a page.
func TestDatabasesReadEvidenceInBatches(t *testing.T) {
	answer := func(st store.Store, fake *fakeStore) string {
		t.Helper()
		fake.workspaces["da"] = tenant.Workspace{Name: "da", Tier: tenant.TierStandard}
		seedDatabases(t, fake, "da", []dbSeed{
			{src: "pg01", db: "shop", title: "Potential SQL Injection", sev: alert.High, at: time.Minute},
			{src: "pg01", db: "hr", title: "Shell Execution from SQL", sev: alert.High, at: 2 * time.Minute},
			{src: "azure-hub", host: "shopsrv", db: "shopdb", title: "Suspected Brute Force Attack", sev: alert.High, at: 3 * time.Minute},
			{src: "web01", plain: true, title: "SSH Brute Force", sev: alert.High, at: 4 * time.Minute},
		})
		secret, k, err := NewKey("da", tenant.ScopeRead, "d", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		fake.CreateKey(context.Background(), k)
		api, err := New(Config{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, path := range []string{"/api/v1/databases", "/api/v1/databases/pg01/shop/alerts"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
			out[path] = rec.Body.String()
		}
		// Event ids are new each seeding.
		ids := regexp.MustCompile(`"event_id":"[0-9A-Z]{26}"`)
		return ids.ReplaceAllString(out["/api/v1/databases"]+"\n"+out["/api/v1/databases/pg01/shop/alerts"], `"event_id":"…"`)
	}
	one := newFakeStore()
	batch := &eventsByIDStore{fakeStore: newFakeStore()}
	single, batched := answer(one, one), answer(batch, batch.fakeStore)
	if batch.calls == 0 {
		t.Fatal("the batch read was not used")
	}
	if single != batched || !strings.Contains(single, "shopdb") {
		t.Errorf("with batch reads:\n%s\nwith single reads:\n%s", batched, single)
	}
}
