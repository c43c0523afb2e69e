package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// fullStore is every part of the store contract the API serves.
type fullStore interface {
	store.Store
	store.Users
	store.Incidents
	store.IncidentCorrelation
	store.AlertStream
	store.Assets
	store.BulkAlerts
	store.Decisions
	store.Intel
	store.Noise
	store.Threats
}

// openSQLite opens a real store, closed when the test ends: SQLite in a new
// directory, or a PostgreSQL schema of the test's own with
// VIGIL_TEST_STORE=postgres (internal/teststore). It asks for the whole
// contract; a test that needs less asks openStore for that alone, and runs
// on a store not yet complete. Short tests skip.
func openSQLite(t *testing.T) fullStore { return openStore[fullStore](t) }

// openStore opens a real store as T, what the test needs of it; a store
// that lacks some of T fails the test naming the methods it lacks.
func openStore[T any](t *testing.T) T {
	t.Helper()
	if testing.Short() {
		t.Skip("opens a database")
	}
	return teststore.Open[T](t)
}

// The isolation walk again, against the embedded store: the fake keeps
// the workspace rules by construction, the real store must too.
func TestIsolationSQLite(t *testing.T) {
	db := openSQLite(t)
	testIsolation(t, newFixture(t, db))
}

// The API's main paths against the embedded store: events decode again
// from stored blocks, status changes and key revocation hold.
func TestSQLiteSmoke(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db)
	ctx := context.Background()

	var p eventPage
	want(t, f.do(http.MethodGet, "/api/v1/events?entity=a-user1", "a-read", nil), http.StatusOK, &p)
	if len(p.Events) != 1 {
		t.Fatalf("%d events for a-user1, want 1", len(p.Events))
	}
	if fs, _ := p.Events[0]["fields"].(map[string]any); fs["action"] != "login" || p.Events[0]["user.name"] != "a-user1" {
		t.Errorf("event %v: want decoded fields and the stored user.name", p.Events[0])
	}

	id := f.seeds["a"].alertIDs[0]
	want(t, f.do(http.MethodPatch, "/api/v1/alerts/"+id, "a-admin", map[string]string{"status": "resolved"}), http.StatusOK, nil)
	if al, err := db.Alert(ctx, "a", id); err != nil || al.Status != alert.StatusResolved {
		t.Errorf("stored alert %+v, %v; want resolved", al.Status, err)
	}

	var created struct {
		Key    tenant.APIKey `json:"key"`
		Secret string        `json:"secret"`
	}
	want(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "read"}), http.StatusCreated, &created)
	f.secrets["new"] = created.Secret
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "new", nil), http.StatusOK, nil)
	want(t, f.do(http.MethodDelete, "/api/v1/keys/"+created.Key.ID, "a-admin", nil), http.StatusNoContent, nil)
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "new", nil), http.StatusUnauthorized, nil)
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "", nil), http.StatusUnauthorized, nil)

	var log struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit", "a-admin", nil), http.StatusOK, &log)
	actions := map[string]int{}
	for _, e := range log.Entries {
		actions[e.Action]++
	}
	if actions["alert.status"] != 1 || actions["key.create"] != 1 || actions["key.revoke"] != 1 || actions["auth.refused"] != 1 {
		t.Errorf("a's audit actions %v, want one each of alert.status, key.create, key.revoke, auth.refused (the revoked key)", actions)
	}
	// The refusal without a key names no workspace: it is kept under "".
	all, _, err := db.AuditLog(ctx, "", store.AuditQuery{})
	if err != nil || len(all) != 1 || all[0].Action != "auth.refused" || all[0].Actor == "" {
		t.Errorf("workspace-less audit entries %+v, %v; want the missing-key refusal", all, err)
	}
}

// Entity filters ignore the case of host names, accounts and the like
// (issue 8): the embedded store folds the value, the API passes it as
// given.
func TestEntityFilterIgnoresCaseSQLite(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db)
	for _, entity := range []string{"a-user1", "A-USER1", "A-User1"} {
		var p eventPage
		want(t, f.do(http.MethodGet, "/api/v1/events?entity="+entity, "a-read", nil), http.StatusOK, &p)
		if len(p.Events) != 1 || p.Events[0]["user.name"] != "a-user1" {
			t.Errorf("events of entity %s: %v, want the one of a-user1", entity, p.Events)
		}
		var a alertPage
		want(t, f.do(http.MethodGet, "/api/v1/alerts?entity="+entity, "a-read", nil), http.StatusOK, &a)
		if len(a.Alerts) != 1 || a.Alerts[0].Entities[0].Value != "a-user1" {
			t.Errorf("alerts of entity %s: %v, want the one about a-user1", entity, a.Alerts)
		}
	}
}

// TestStoreErrorsSaidOnce: an invalid input the store refuses is answered
// with the store's words, which name what was asked ("alerts of a: …"),
// without the API's own prefix before them again.
func TestStoreErrorsSaidOnce(t *testing.T) {
	f := newFixture(t, openStore[store.Store](t))
	for _, c := range []struct{ path, key, want string }{
		{"/api/v1/alerts?cursor=nope", "a-read", `alerts of a: cursor "nope": invalid (not one this store gave for alert-priority paging)`},
		{"/api/v1/alerts?sort=last_seen&cursor=nope", "a-read", `alerts of a: cursor "nope": invalid (not one this store gave for alert paging)`},
		{"/api/v1/events?cursor=nope", "a-read", `events of a: cursor "nope": invalid (not one this store gave for event paging)`},
		{"/api/v1/audit?cursor=nope", "a-admin", `audit log of a: cursor "nope": invalid (not one this store gave for audit paging)`},
		{"/api/v1/quarantine?cursor=nope", "a-read", `quarantine of a: cursor "nope": invalid (not one this store gave for quarantine paging)`},
	} {
		p := wantProblem(t, f.do(http.MethodGet, c.path, c.key, nil), http.StatusUnprocessableEntity)
		if p.Detail != c.want {
			t.Errorf("%s: detail %q\nwant %q", c.path, p.Detail, c.want)
		}
	}
}

// TestKeyLookupErrorSaidOnce: a store failure while checking a key is
// logged in the store's words ("key by hash: …"), once.
func TestKeyLookupErrorSaidOnce(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixture(t, db)
	var logged bytes.Buffer
	a, err := New(Config{Store: db, Registry: f.reg, Logger: slog.New(slog.NewTextHandler(&logged, nil)), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.api = a
	db.Close()
	wantProblem(t, f.do(http.MethodGet, "/api/v1/alerts", "a-read", nil), http.StatusServiceUnavailable)
	// The closed store's own words differ (SQLite: "sql: database is
	// closed"; PostgreSQL: "closed pool"): what counts is that they come
	// once, after what was asked.
	if n := strings.Count(logged.String(), `err="key by hash: `); n != 1 || strings.Count(logged.String(), "key by hash") != 1 {
		t.Errorf("log %q\nwant `err=\"key by hash: ` once, and no other \"key by hash\"", logged.String())
	}
}
