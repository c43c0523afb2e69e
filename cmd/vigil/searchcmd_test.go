package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// seedSearchEvents commits n JSON events to workspace acme of a data
// directory: user u<i%4>, action login (even i) or logout, n=i,
// source.ip 10.0.<i%2>.<i>, a minute apart from at.
func seedSearchEvents(t *testing.T, dir string, at time.Time, n int) []event.ID {
	t.Helper()
	if _, errOut, code := runVigil(t, "workspaces", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("workspaces create: %s", errOut)
	}
	ctx := context.Background()
	db := openDataStore(t, dir)
	if err := db.PutSource(ctx, tenant.Source{Workspace: "acme", Name: "app", Format: "json", Created: at}); err != nil {
		t.Fatal(err)
	}
	ids := event.NewIDSource()
	b := &store.Batch{ID: ids.New(at), Workspace: "acme", Source: "app", Format: "json", Received: at}
	var out []event.ID
	for i := range n {
		action := "login"
		if i%2 == 1 {
			action = "logout"
		}
		e := store.StoredEvent{ID: ids.New(at), Workspace: "acme", Source: "app", Format: "json",
			Time: at.Add(time.Duration(i) * time.Minute), Received: at,
			Raw: fmt.Appendf(nil, `{"action":%q,"n":%d,"detail":{"path":"C:\\data\\file%d.txt"}}`, action, i, i)}
		e.Common[event.UserName] = fmt.Sprintf("u%d", i%4)
		e.Common[event.SourceIP] = fmt.Sprintf("10.0.%d.%d", i%2, i)
		b.Events = append(b.Events, e)
		out = append(out, e.ID)
	}
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEventsSearchCommand(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ids := seedSearchEvents(t, dir, at, 40)

	// NDJSON: the events the query keeps, newest first, in vigil decode's form.
	out, errOut, code := runVigil(t, "events", "search", `action:login AND source.ip:10.0.0.0/24 AND n:[10 TO 20}`,
		"--workspace", "acme", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("search: %d %s", code, errOut)
	}
	var ns []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		fs, _ := e["fields"].(map[string]any)
		ns = append(ns, fmt.Sprint(fs["n"]))
		if e["workspace"] != "acme" || e["source.ip"] == nil {
			t.Errorf("event %v", e)
		}
	}
	if strings.Join(ns, ",") != "18,16,14,12,10" {
		t.Errorf("found n = %v, want 18,16,14,12,10", ns)
	}
	if !strings.Contains(errOut, "5 events printed, 40 scanned") {
		t.Errorf("stderr %q", errOut)
	}

	// The table, a limit, a time range, a wildcard on a nested own field.
	from := at.Add(30 * time.Minute).Format(time.RFC3339)
	out, errOut, code = runVigil(t, "events", "search", `detail.path:c\:\\data\\file3*`, "--workspace", "acme",
		"--data-dir", dir, "--from", from, "--limit", "2", "--explain")
	if code != 0 {
		t.Fatalf("search: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], ids[39].String()) ||
		!strings.Contains(lines[2], ids[38].String()) || !strings.Contains(lines[1], "user.name=u3") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(errOut, `query: detail.path:c:\\data\\file3*`) || !strings.Contains(errOut, "2 events printed") {
		t.Errorf("stderr %q", errOut)
	}

	// An empty query keeps everything; --source narrows.
	if out, _, _ := runVigil(t, "events", "search", "", "--workspace", "acme", "--data-dir", dir, "--limit", "0", "--json"); strings.Count(out, "\n") != 40 {
		t.Errorf("empty query: %d lines", strings.Count(out, "\n"))
	}
	if out, _, _ := runVigil(t, "events", "search", "", "--workspace", "acme", "--data-dir", dir, "--source", "other", "--json"); out != "" {
		t.Errorf("another source: %q", out)
	}

	// Errors: a bad query says where; bad flags and workspaces are named.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"user.name:(a OR"}, "column 16"},
		{[]string{"x", "--from", "yesterday"}, "--from"},
		{[]string{"x", "--limit", "-1"}, "--limit"},
		{[]string{"x", "--from", "1h", "--to", "2h"}, "not after"},
		{[]string{"x", "--workspace", "nope"}, "nope"},
		{[]string{"x", "--incident", "inc-1"}, "inc-1"},
	} {
		args := append([]string{"events", "search"}, c.args...)
		if !strings.Contains(strings.Join(c.args, " "), "--workspace") {
			args = append(args, "--workspace", "acme")
		}
		_, errOut, code := runVigil(t, append(args, "--data-dir", dir)...)
		if code != exitSetup || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, %q; want 1 and %q", c.args, code, errOut, c.want)
		}
	}
}

// --incident: the events of the incident's entities, an hour either side
// of its activity.
func TestEventsSearchIncident(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ids := seedSearchEvents(t, dir, at, 240) // four hours
	ctx := context.Background()
	db := openDataStore(t, dir)
	var err error
	err = db.ApplyIncidents(ctx, "test", 1, []store.IncidentUpdate{{New: true, Incident: incident.Incident{
		ID: "inc-1", Workspace: "acme", Title: "t", Stage: incident.StageDetect, Status: incident.StatusNew,
		FirstSeen: at.Add(2 * time.Hour), LastSeen: at.Add(2*time.Hour + 10*time.Minute),
		Entities: []alert.Entity{{Type: alert.EntityIP, Value: "10.0.1.99"}, {Type: alert.EntityAccount, Value: "U2"}}}}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runVigil(t, "events", "search", "action:login", "--workspace", "acme", "--data-dir", dir,
		"--incident", "inc-1", "--limit", "0")
	if code != 0 {
		t.Fatalf("search: %d %s", code, errOut)
	}
	// u2 logs in at even i with i%4 == 2; 10.0.1.99 is i=99, a logout.
	var want []string
	for i := 189; i >= 60; i-- { // 11:00 to 13:10, the end excluded
		if i%4 == 2 {
			want = append(want, ids[i].String())
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
	if len(lines) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if !strings.Contains(l, want[i]) {
			t.Fatalf("line %d %q, want event %s", i, l, want[i])
		}
	}
	// An explicit range wins; an unknown incident is an error.
	out, _, _ = runVigil(t, "events", "search", "", "--workspace", "acme", "--data-dir", dir, "--incident", "inc-1",
		"--from", at.Add(99*time.Minute).Format(time.RFC3339), "--to", at.Add(100*time.Minute).Format(time.RFC3339), "--json")
	if !strings.Contains(out, ids[99].String()) || strings.Count(out, "\n") != 1 {
		t.Errorf("the address's one event: %q", out)
	}
	if _, errOut, code := runVigil(t, "events", "search", "", "--workspace", "acme", "--data-dir", dir, "--incident", "nope"); code != exitSetup || !strings.Contains(errOut, "nope") {
		t.Errorf("unknown incident: %d %q", code, errOut)
	}
}
