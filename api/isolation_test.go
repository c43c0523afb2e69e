package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// allRoutes is every operation the API serves, with the body a request
// needs. TestOpenAPI checks that the document lists exactly these.
var allRoutes = []struct {
	method, path string
	body         any
}{
	{http.MethodGet, "/api/v1/alerts", nil},
	{http.MethodGet, "/api/v1/alerts/{id}", nil},
	{http.MethodPost, "/api/v1/session", map[string]string{"user": "b-user0", "password": "a long password here", "workspace": "b"}},
	{http.MethodGet, "/api/v1/session", nil},
	{http.MethodDelete, "/api/v1/session", nil},
	{http.MethodDelete, "/api/v1/sessions", nil},
	{http.MethodGet, "/api/v1/session/oidc", nil},
	{http.MethodGet, "/api/v1/session/oidc/callback", nil},
	{http.MethodGet, "/api/v1/databases", nil},
	{http.MethodGet, "/api/v1/databases/{server}/{database}/alerts", nil},
	{http.MethodPatch, "/api/v1/alerts/{id}", map[string]string{"status": "dismissed"}},
	{http.MethodPatch, "/api/v1/alerts", map[string]any{"ids": []string{"no-such-alert"}, "status": "dismissed"}},
	{http.MethodGet, "/api/v1/events", nil},
	{http.MethodGet, "/api/v1/events/{id}", nil},
	{http.MethodGet, "/api/v1/sources", nil},
	{http.MethodGet, "/api/v1/sources/{name}", nil},
	{http.MethodPut, "/api/v1/sources/{name}", map[string]string{"format": testFormat}},
	{http.MethodPatch, "/api/v1/sources/{name}", map[string]any{"quarantined": true}},
	{http.MethodGet, "/api/v1/keys", nil},
	{http.MethodPost, "/api/v1/keys", map[string]string{"scope": "admin"}},
	{http.MethodDelete, "/api/v1/keys/{id}", nil},
	{http.MethodPost, "/api/v1/keys/{id}/rotate", nil},
	{http.MethodGet, "/api/v1/audit", nil},
	{http.MethodGet, "/api/v1/quarantine", nil},
	{http.MethodGet, "/api/v1/workspace", nil},
	{http.MethodPatch, "/api/v1/workspace", map[string]string{"tier": "standard"}}, // b is free
	{http.MethodGet, "/api/v1/geoip", nil},
	{http.MethodPost, "/api/v1/ingest", nil},
	{http.MethodGet, "/api/v1/intel/feeds", nil},
	{http.MethodPost, "/api/v1/intel/feeds/{name}/refresh", nil},
	{http.MethodGet, "/api/v1/intel/indicators", nil},
	{http.MethodPost, "/api/v1/intel/indicators", map[string]any{"indicators": []map[string]any{{"value": "192.0.2.200"}}}},
	{http.MethodGet, "/api/v1/threats/types", nil},
	{http.MethodGet, "/api/v1/threats/origins", nil},
	{http.MethodGet, "/api/v1/threats/map", nil},
	{http.MethodGet, "/api/v1/assets", nil},
	{http.MethodPost, "/api/v1/assets", map[string]any{"name": "asset-of-a", "type": "host"}},
	{http.MethodPut, "/api/v1/assets", map[string]any{"assets": []map[string]any{{"name": "asset-of-a", "type": "host"}}}},
	{http.MethodGet, "/api/v1/assets/{name}", nil},
	{http.MethodPut, "/api/v1/assets/{name}", map[string]any{"type": "host"}},
	{http.MethodDelete, "/api/v1/assets/{name}", nil},
	{http.MethodGet, "/api/v1/suppressions", nil},
	{http.MethodPost, "/api/v1/suppressions", map[string]any{"cidr": "192.0.2.0/24", "reason": "lab scanner"}},
	{http.MethodGet, "/api/v1/suppressions/{id}", nil},
	{http.MethodPut, "/api/v1/suppressions/{id}", map[string]any{"cidr": "192.0.2.0/24", "reason": "lab scanner"}},
	{http.MethodDelete, "/api/v1/suppressions/{id}", nil},
	{http.MethodGet, "/api/v1/rules/stats", nil},
	{http.MethodGet, "/api/v1/rules", nil},
	{http.MethodPatch, "/api/v1/rules/{id}", map[string]any{"enabled": false}},
	{http.MethodPost, "/api/v1/rules/{id}/test", map[string]any{"format": "json", "records": []string{`{"a":1}`}}},
	{http.MethodGet, "/api/v1/incidents/{id}/events", nil},
	{http.MethodGet, "/api/v1/decisions", nil},
	{http.MethodPost, "/api/v1/decisions", map[string]any{"kind": "ip", "value": "192.0.2.99", "duration": "1h", "reason": "scanner"}},
	{http.MethodGet, "/api/v1/decisions/stream", nil},
	{http.MethodGet, "/api/v1/decisions/{id}", nil},
	{http.MethodDelete, "/api/v1/decisions/{id}", nil},
	{http.MethodGet, "/api/v1/automation", nil},
	{http.MethodGet, "/api/v1/incidents", nil},
	{http.MethodPost, "/api/v1/incidents", map[string]any{"title": "by hand", "alert_ids": []string{"x"}}},
	{http.MethodGet, "/api/v1/incidents/{id}", nil},
	{http.MethodPatch, "/api/v1/incidents/{id}", map[string]any{"stage": "assess", "comment": "looking"}},
	{http.MethodGet, "/api/v1/incidents/{id}/alerts", nil},
	{http.MethodPost, "/api/v1/incidents/{id}/alerts", map[string]any{"alert_ids": []string{"x"}}},
	{http.MethodGet, "/api/v1/incidents/{id}/timeline", nil},
	{http.MethodGet, "/api/v1/incidents/{id}/similar", nil},
	{http.MethodPost, "/api/v1/incidents/{id}/merge", map[string]any{"from": []string{"x"}}},
	{http.MethodPost, "/api/v1/incidents/{id}/split", map[string]any{"alert_ids": []string{"x"}}},
	{http.MethodGet, "/api/v1/incident-task-templates", nil},
	{http.MethodPut, "/api/v1/incident-task-templates", map[string]any{"templates": []map[string]any{{"stage": "assess", "tasks": []string{"a's task"}}}}},
	{http.MethodGet, "/api/v1/stream", nil},
	{http.MethodGet, "/api/v1/users", nil},
	{http.MethodPost, "/api/v1/users", map[string]any{"name": "b-person", "password": "taken over password", "role": "admin"}},
	{http.MethodPatch, "/api/v1/users/{name}", map[string]any{"role": "admin"}},
	{http.MethodDelete, "/api/v1/users/{name}", nil},
}

// snapshot is everything a workspace holds, as the store answers.
type snapshot struct {
	alerts  any
	events  any
	sources any
	keys    any
	audit   any
	sups    any
	decs    any
	inc     any // incidentSnapshot
}

func takeSnapshot(t *testing.T, st store.Store, ws string) snapshot {
	t.Helper()
	ctx := context.Background()
	als, _, err1 := st.Alerts(ctx, ws, store.AlertQuery{Limit: 1000})
	evs, _, err2 := st.Events(ctx, ws, store.EventQuery{Limit: 1000})
	srcs, err3 := st.Sources(ctx, ws)
	keys, err4 := st.Keys(ctx, ws)
	audit, _, err5 := st.AuditLog(ctx, ws, store.AuditQuery{Limit: 1000})
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var sups any
	if n, ok := st.(store.Noise); ok {
		list, err := n.Suppressions(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		sups = list
	}
	var decs any
	if d, ok := st.(store.Decisions); ok {
		list, _, err := d.ListDecisions(ctx, ws, store.DecisionQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		decs = list
	}
	return snapshot{als, evs, srcs, keys, audit, sups, decs, incidentSnapshot(t, st, ws)}
}

// testIsolation walks every route with workspace a's admin key against
// workspace b's ids and names: nothing of b is seen or changed.
func testIsolation(t *testing.T, f *fixture) {
	b := f.seeds["b"]
	// Each workspace has a suppression: b's is neither seen nor changed.
	supB := ""
	for _, ws := range []string{"a", "b"} {
		sp, err := f.st.(store.Noise).CreateSuppression(context.Background(), suppress.Suppression{Workspace: ws,
			CIDR: "198.51.100.0/24", Reason: "scanner of " + ws}, "test")
		if err != nil {
			t.Fatalf("create suppression of %s: %v", ws, err)
		}
		if ws == "b" {
			supB = sp.ID
		}
	}
	// And a block decision: neither seen, revoked nor streamed.
	decB, err := f.st.(store.Decisions).CreateDecision(context.Background(), store.Decision{Workspace: "b", Kind: "ip",
		Value: "192.0.2.250", Reason: "block of b", CreatedBy: "test", Created: t0, Expires: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("decision of b: %v", err)
	}
	// And a user of b's only, whose role and password a's admin must not
	// change (TestUsers covers the routes themselves).
	usB, hasUsers := f.st.(store.Users)
	if hasUsers {
		h, err := tenant.HashPassword("b-person's password")
		if err != nil {
			t.Fatal(err)
		}
		if err := usB.CreateUser(context.Background(), tenant.User{Name: "b-person", PasswordHash: h,
			Roles: []tenant.Membership{{Workspace: "b", Role: tenant.RoleReader}}}); err != nil {
			t.Fatalf("user of b: %v", err)
		}
	}
	incB := seedIncidents(t, f) // "" when the store keeps no incidents
	before := takeSnapshot(t, f.st, "b")
	wsB, err := f.st.Workspace(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	tierB := wsB.Tier
	// b's source name is left out: the PUT below makes a source of that
	// name in a, legitimately; "workspace":"b" catches b's own.
	bIDs := []string{b.alertIDs[0], b.eventIDs[0].String(), f.keyIDs["b-admin"], f.keyIDs["b-read"], "b-user0", supB, "scanner of b", decB.ID, "192.0.2.250", "block of b", "b-person"}
	if incB != "" {
		bIDs = append(bIDs, incB)
	}

	for _, rt := range allRoutes {
		if incidentsUnserved(t, f, rt.method, rt.path, rt.body) {
			continue
		}
		body := rt.body
		var paths []string
		switch {
		case strings.HasPrefix(rt.path, "/api/v1/incidents/{id}"):
			paths = []string{strings.Replace(rt.path, "{id}", incB, 1)}
		case rt.path == "/api/v1/incidents" && rt.method == http.MethodPost:
			// b's alert is no alert of a's: refused, b's incident stays.
			paths, body = []string{rt.path}, map[string]any{"title": "stolen", "alert_ids": []string{b.alertIDs[0]}}
		case rt.path == "/api/v1/incidents":
			paths = []string{rt.path, rt.path + "?entity=b-user0", rt.path + "?stage=detect&sort=priority"}
		case strings.Contains(rt.path, "/alerts/{id}"):
			paths = []string{"/api/v1/alerts/" + b.alertIDs[0]}
		case strings.Contains(rt.path, "/events/{id}"):
			paths = []string{"/api/v1/events/" + b.eventIDs[0].String()}
		case rt.path == "/api/v1/keys/{id}/rotate":
			paths = []string{"/api/v1/keys/" + f.keyIDs["b-admin"] + "/rotate", "/api/v1/keys/" + f.keyIDs["b-read"] + "/rotate"}
		case strings.Contains(rt.path, "/keys/{id}"):
			paths = []string{"/api/v1/keys/" + f.keyIDs["b-admin"], "/api/v1/keys/" + f.keyIDs["b-read"]}
		case rt.path == "/api/v1/sources/{name}" && rt.method == http.MethodGet:
			paths = []string{"/api/v1/sources/" + b.source}
		case rt.path == "/api/v1/sources/{name}":
			// PUT creates in the caller's workspace: it must not touch b's.
			paths = []string{"/api/v1/sources/" + b.source}
		case rt.path == "/api/v1/rules/{id}", rt.path == "/api/v1/rules/{id}/test":
			// Rules are the server's, not a workspace's: a's change is
			// its own (b's rules stay on, checked below).
			paths = []string{strings.Replace(rt.path, "{id}", "rule-0", 1)}
		case rt.path == "/api/v1/intel/feeds/{name}/refresh":
			paths = []string{"/api/v1/intel/feeds/feed-b/refresh"}
		case rt.path == "/api/v1/assets/{name}" && rt.method == http.MethodPut:
			// PUT creates in the caller's workspace: b's stays.
			paths = []string{"/api/v1/assets/asset-of-b-put"}
		case rt.path == "/api/v1/assets/{name}":
			paths = []string{"/api/v1/assets/asset-of-b"}
		case rt.path == "/api/v1/decisions/{id}":
			paths = []string{"/api/v1/decisions/" + decB.ID}
		case rt.path == "/api/v1/users/{name}":
			paths = []string{"/api/v1/users/b-person"}
		case rt.path == "/api/v1/suppressions/{id}":
			paths = []string{"/api/v1/suppressions/" + supB}
		case rt.path == "/api/v1/intel/indicators" && rt.method == http.MethodGet:
			paths = []string{rt.path + "?value=" + fakeIntelValue("b")}
		case rt.path == "/api/v1/databases/{server}/{database}/alerts":
			paths = []string{"/api/v1/databases/" + b.source + "/-/alerts"}
		case rt.path == "/api/v1/alerts" && rt.method == http.MethodPatch:
			// b's alert is no alert of a's: refused, and it stays new.
			paths, body = []string{rt.path}, map[string]any{"ids": []string{b.alertIDs[0]}, "status": "dismissed"}
		case rt.path == "/api/v1/alerts":
			paths = []string{rt.path, rt.path + "?entity=b-user0", rt.path + "?rule=rule-0&status=new"}
		case rt.path == "/api/v1/events":
			paths = []string{rt.path, rt.path + "?entity=b-user0", rt.path + "?source=" + b.source}
		default:
			paths = []string{rt.path}
		}
		for _, p := range paths {
			do := f.do
			if rt.path == streamPath { // a stream never ends by itself: what it sent in a moment
				do = func(_, p, key string, _ any) *httptest.ResponseRecorder {
					return f.follow(p, key, 200*time.Millisecond)
				}
			}
			w := do(rt.method, p, "a-admin", body)
			t.Logf("%s %s -> %d", rt.method, p, w.Code)
			switch {
			case rt.path == "/api/v1/incidents" && rt.method == http.MethodPost:
				if w.Code != http.StatusUnprocessableEntity {
					t.Errorf("%s %s with a's key and b's alert: %d, want 422; body %s", rt.method, p, w.Code, w.Body)
				}
			case rt.path == "/api/v1/rules/{id}/test":
				// The fixture's server tests no rules.
				if w.Code != http.StatusNotImplemented {
					t.Errorf("%s %s: %d, want 501; body %s", rt.method, p, w.Code, w.Body)
				}
			case rt.path == "/api/v1/rules/{id}":
				if w.Code != http.StatusOK {
					t.Errorf("%s %s with a's key: %d; body %s", rt.method, p, w.Code, w.Body)
				}
			case strings.Contains(rt.path, "{id}"), rt.method == http.MethodGet && rt.path == "/api/v1/sources/{name}",
				rt.method == http.MethodPatch && rt.path == "/api/v1/alerts",
				rt.path == "/api/v1/intel/feeds/{name}/refresh",
				rt.path == "/api/v1/assets/{name}" && rt.method != http.MethodPut:
				if w.Code != http.StatusNotFound {
					t.Errorf("%s %s with a's key: %d, want 404; body %s", rt.method, p, w.Code, w.Body)
				}
			case strings.HasPrefix(rt.path, "/api/v1/users") && !hasUsers:
				if w.Code != http.StatusServiceUnavailable {
					t.Errorf("%s %s with a store without users: %d, want 503; body %s", rt.method, p, w.Code, w.Body)
				}
			case rt.path == "/api/v1/users" && rt.method == http.MethodPost:
				// b's user exists: a's admin may not set its password.
				if w.Code != http.StatusConflict {
					t.Errorf("%s %s with a's key and b's user: %d, want 409; body %s", rt.method, p, w.Code, w.Body)
				}
			case rt.path == "/api/v1/users/{name}":
				if w.Code != http.StatusNotFound {
					t.Errorf("%s %s with a's key: %d, want 404; body %s", rt.method, p, w.Code, w.Body)
				}
			case strings.HasPrefix(rt.path, "/api/v1/session/oidc"):
				// Single sign-on is not configured here (TestOIDC).
				if w.Code != http.StatusNotFound {
					t.Errorf("%s %s without single sign-on: %d; body %s", rt.method, p, w.Code, w.Body)
				}
			case rt.path == "/api/v1/session" && rt.method != http.MethodGet, rt.path == "/api/v1/sessions":
				// Signing in takes b's user's password, which a's key
				// is not; signing out takes a session, which a key is
				// not (TestSessions).
				if w.Code != http.StatusUnauthorized && w.Code != http.StatusBadRequest && w.Code != http.StatusServiceUnavailable {
					t.Errorf("%s %s with a's key: %d; body %s", rt.method, p, w.Code, w.Body)
				}
			case w.Code >= 300:
				t.Errorf("%s %s with a's key: %d; body %s", rt.method, p, w.Code, w.Body)
			}
			if w.Code < 300 {
				for _, id := range bIDs {
					if strings.Contains(w.Body.String(), id) {
						t.Errorf("%s %s with a's key shows b's %q: %s", rt.method, p, id, w.Body)
					}
				}
				if strings.Contains(w.Body.String(), "threat-of-b") || strings.Contains(w.Body.String(), "feed-b") || strings.Contains(w.Body.String(), "owner-of-b") {
					t.Errorf("%s %s with a's key shows b's intelligence: %s", rt.method, p, w.Body)
				}
				if strings.Contains(w.Body.String(), `"workspace":"b"`) {
					t.Errorf("%s %s with a's key shows workspace b: %s", rt.method, p, w.Body)
				}
			}
		}
	}
	if rs, ok := f.st.(ruleSwitch); ok {
		if off, err := rs.DisabledRules(context.Background(), "b"); err != nil || len(off) != 0 {
			t.Errorf("a's rule change turned off b's rules: %+v, %v", off, err)
		}
	}
	// The PUT made a's own source of that name; b's is untouched.
	if s, err := f.st.Source(context.Background(), "a", b.source); err != nil || s.Workspace != "a" {
		t.Errorf("PUT source %s with a's key: a's copy %+v, %v", b.source, s, err)
	}
	if got := f.intel.state("b"); got != "feed-b:1 refreshes:0" {
		t.Errorf("b's intelligence changed through a's key: %s", got)
	}
	if as, err := f.api.assets.Asset(context.Background(), "b", "asset-of-b"); err != nil || as.Owner != "owner-of-b" {
		t.Errorf("b's asset after a's key went through the asset routes: %+v, %v", as, err)
	}
	if list, _ := f.api.assets.Assets(context.Background(), "b"); len(list) != 1 {
		t.Errorf("b's inventory changed through a's key: %+v", list)
	}
	if hasUsers {
		u, err := usB.User(context.Background(), "b-person")
		if err != nil || u.RoleIn("b") != tenant.RoleReader || u.RoleIn("a") != "" || !tenant.CheckPassword(u.PasswordHash, "b-person's password") {
			t.Errorf("b's user after a's key went through the users routes: %+v, %v", u, err)
		}
	}
	after := takeSnapshot(t, f.st, "b")
	if w, err := f.st.Workspace(context.Background(), "b"); err != nil || w.Tier != tierB {
		t.Errorf("workspace b is %+v, %v after a's key set a tier; want tier %s", w, err, tierB)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("workspace b changed through a's key:\nbefore %+v\nafter  %+v", before, after)
	}
	// The lists were empty of b, not empty: a's own items are there.
	var als alertPage
	want(t, f.do(http.MethodGet, "/api/v1/alerts", "a-admin", nil), http.StatusOK, &als)
	var evs eventPage
	want(t, f.do(http.MethodGet, "/api/v1/events", "a-admin", nil), http.StatusOK, &evs)
	if len(als.Alerts) != len(f.seeds["a"].alertIDs) || len(evs.Events) != len(f.seeds["a"].eventIDs) {
		t.Errorf("a sees %d alerts and %d events, want its own %d and %d",
			len(als.Alerts), len(evs.Events), len(f.seeds["a"].alertIDs), len(f.seeds["a"].eventIDs))
	}
	// b's keys still work.
	want(t, f.do(http.MethodGet, "/api/v1/alerts/"+b.alertIDs[0], "b-read", nil), http.StatusOK, nil)
}

func TestIsolation(t *testing.T) {
	testIsolation(t, newFixture(t, newFakeStore()))
}

// TestQuarantineRoute lists a workspace's refused records, never another's.
func TestQuarantineRoute(t *testing.T) {
	st := newFakeStore()
	st.workspaces["qa"] = tenant.Workspace{Name: "qa", Tier: tenant.TierFree}
	st.workspaces["qb"] = tenant.Workspace{Name: "qb", Tier: tenant.TierFree}
	for _, ws := range []string{"qa", "qb"} {
		b := &store.Batch{ID: event.NewID(), Workspace: ws, Source: ws + "-src", Format: "json", Received: time.Now(), Rejected: 1,
			Quarantined: []store.Quarantined{{ID: event.NewID(), Line: 3, Reason: "json: invalid JSON at byte 1", Raw: []byte("{" + ws)}}}
		if _, err := st.Commit(context.Background(), []*store.Batch{b}); err != nil {
			t.Fatal(err)
		}
	}
	secret, k, err := NewKey("qa", tenant.ScopeRead, "q", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.CreateKey(context.Background(), k)
	a, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/quarantine", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET quarantine: %d %s", rec.Code, rec.Body)
	}
	var out struct {
		Records []store.QuarantineEntry `json:"records"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || out.Records[0].Raw != "{qa" || out.Records[0].Line != 3 || out.Records[0].Reason == "" {
		t.Fatalf("records: %+v", out.Records)
	}
}
