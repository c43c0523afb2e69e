package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIsolation walks every route with workspace A's admin key against
// workspace B's data: A finds nothing of B's and changes nothing.
func TestIsolation(t *testing.T) {
	dir := t.TempDir()
	keyA, _ := newKey(t, dir, "alpha", "admin")
	keyB, keyBID := newKey(t, dir, "bravo", "admin")
	srv := startServe(t, dir)
	defer srv.stop()

	evA, _ := windowsEvents(20, 0)
	evB := []byte(strings.ReplaceAll(string(evA), "CRASH-HOST", "BRAVO-HOST"))
	if r := ingestBody(t, srv.url, keyA, "alpha-dc", "windows", "application/x-ndjson", evA); r.status != 202 {
		t.Fatalf("ingest A: %d %s", r.status, r.body)
	}
	if r := ingestBody(t, srv.url, keyB, "bravo-dc", "windows", "application/x-ndjson", evB); r.status != 202 {
		t.Fatalf("ingest B: %d %s", r.status, r.body)
	}
	poll(t, "B's alert", func() bool { return len(listAlerts(t, srv.url, keyB)) > 0 })
	poll(t, "A's alert", func() bool { return len(listAlerts(t, srv.url, keyA)) > 0 })
	alertB := listAlerts(t, srv.url, keyB)[0]
	eventB := alertB.Evidence[0].EventID

	bravoMarks := []string{"BRAVO-HOST", "bravo", alertB.ID, eventB, keyBID}
	noBravo := func(route string, r reply, asked ...string) {
		t.Helper()
		for _, m := range bravoMarks {
			if contains(asked, m) { // a 404 may repeat the id it was asked for
				continue
			}
			if strings.Contains(string(r.body), m) {
				t.Errorf("%s with A's key shows B's %q: %s", route, m, r.body)
			}
		}
	}
	for _, route := range []string{
		"/api/v1/alerts", "/api/v1/alerts?entity=BRAVO-HOST", "/api/v1/events", "/api/v1/events?entity=BRAVO-HOST",
		"/api/v1/sources", "/api/v1/keys", "/api/v1/audit", "/api/v1/workspace",
	} {
		r := do(t, "GET", srv.url+route, keyA, "", nil)
		if r.status != 200 {
			t.Errorf("GET %s: %d %s", route, r.status, r.body)
		}
		noBravo("GET "+route, r)
	}
	for _, c := range []struct{ method, route, body, id string }{
		{"GET", "/api/v1/alerts/" + alertB.ID, "", alertB.ID},
		{"PATCH", "/api/v1/alerts/" + alertB.ID, `{"status":"dismissed"}`, alertB.ID},
		{"GET", "/api/v1/events/" + eventB, "", eventB},
		{"DELETE", "/api/v1/keys/" + keyBID, "", keyBID},
	} {
		var body *strings.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		var r reply
		if body != nil {
			r = do(t, c.method, srv.url+c.route, keyA, "application/json", body)
		} else {
			r = do(t, c.method, srv.url+c.route, keyA, "", nil)
		}
		if r.status != 404 {
			t.Errorf("%s %s with A's key: %d, want 404 (%s)", c.method, c.route, r.status, r.body)
		}
		noBravo(c.method+" "+c.route, r, c.id)
	}
	// A's source of the same name as B's stays A's.
	if r := do(t, "PUT", srv.url+"/api/v1/sources/bravo-dc", keyA, "application/json", strings.NewReader(`{"format":"json"}`)); r.status >= 300 {
		t.Errorf("PUT A's own source: %d %s", r.status, r.body)
	}
	// Nothing of B's changed: its alert is still new, its key still works,
	// its source keeps its format.
	r := do(t, "GET", srv.url+"/api/v1/alerts/"+alertB.ID, keyB, "", nil)
	var a apiAlert
	r.json(t, &a)
	if r.status != 200 || a.Status != "new" {
		t.Errorf("B's alert after A's attempts: %d %+v", r.status, a)
	}
	for _, s := range listSources(t, srv.url, keyB) {
		if s.Name == "bravo-dc" && s.Format != "windows" {
			t.Errorf("B's source changed: %+v", s)
		}
	}
	var ws map[string]any
	r = do(t, "GET", srv.url+"/api/v1/workspace", keyB, "", nil)
	if r.status != 200 || json.Unmarshal(r.body, &ws) != nil || !strings.Contains(string(r.body), "bravo") {
		t.Errorf("B's key after A's revoke attempt: %d %s", r.status, r.body)
	}
}
