package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func runWorkspacesCmd(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"workspaces"}, args...))
	err := root.Execute()
	return out.String(), err
}

// tierAudit returns the workspace.tier entries of ws's audit log.
func tierAudit(t *testing.T, db store.Store, ws string) []store.AuditEntry {
	t.Helper()
	entries, _, err := db.AuditLog(context.Background(), ws, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range entries {
		if e.Action == "workspace.tier" {
			out = append(out, e)
		}
	}
	return out
}

func openTestStore(t *testing.T, dir string) backend { return openDataStore(t, dir) }

// TestWorkspacesSetTier: `vigil workspaces set-tier` changes a workspace's
// tier, says from what to what, and is audited as the CLI; a bad tier or
// an unknown workspace is an error naming it.
func TestWorkspacesSetTier(t *testing.T) {
	dir := t.TempDir()
	if out, err := runWorkspacesCmd("create", "acme", "--tier", "free", "--data-dir", dir); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	out, err := runWorkspacesCmd("set-tier", "acme", "standard", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "acme") || !strings.Contains(out, "free -> standard") {
		t.Fatalf("set-tier: %v\n%s", err, out)
	}
	out, err = runWorkspacesCmd("set-tier", "acme", "standard", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "already") {
		t.Errorf("set-tier to the same tier: %v\n%s", err, out)
	}
	if out, err := runWorkspacesCmd("set-tier", "acme", "premium", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "premium") {
		t.Errorf("bad tier: %v\n%s", err, out)
	}
	if out, err := runWorkspacesCmd("set-tier", "nope", "free", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown workspace: %v\n%s", err, out)
	}
	db := openTestStore(t, dir)
	if w, err := db.Workspace(context.Background(), "acme"); err != nil || w.Tier != tenant.TierStandard {
		t.Fatalf("workspace %+v, %v; want tier standard", w, err)
	}
	if es := tierAudit(t, db, "acme"); len(es) != 1 || es[0].Actor != "cli" || es[0].Detail != "free -> standard" {
		t.Errorf("workspace.tier audit entries %+v, want one by cli: free -> standard", es)
	}
	if out, err := runWorkspacesCmd("list", "--data-dir", dir); err != nil || !strings.Contains(out, "standard") {
		t.Errorf("list: %v\n%s", err, out)
	}
}

// TestProvisionAppliesConfigTier: a tier in the config file applies to a
// workspace that exists already, audited as "config", once; a config
// entry without a tier leaves an existing workspace's tier alone and
// creates a new one at standard.
func TestProvisionAppliesConfigTier(t *testing.T) {
	dir := t.TempDir()
	db := openTestStore(t, dir)
	ctx := context.Background()
	for _, w := range []struct{ name, tier string }{{"acme", tenant.TierStandard}, {"beta", tenant.TierFree}} {
		if _, err := db.CreateWorkspace(ctx, w.name, w.tier); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := &Config{Workspaces: []WorkspaceConfig{{Name: "acme", Tier: "free"}, {Name: "beta"}, {Name: "gamma"}}}
	for range 2 { // a second start changes nothing
		if err := provision(ctx, db, cfg, log); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"acme": tenant.TierFree, "beta": tenant.TierFree, "gamma": tenant.TierStandard} {
		if w, err := db.Workspace(ctx, name); err != nil || w.Tier != want {
			t.Errorf("workspace %s: %+v, %v; want tier %s", name, w, err, want)
		}
	}
	if es := tierAudit(t, db, "acme"); len(es) != 1 || es[0].Actor != "config" || es[0].Detail != "standard -> free" {
		t.Errorf("acme's workspace.tier audit entries %+v, want one by config: standard -> free", es)
	}
	if es := tierAudit(t, db, "beta"); len(es) != 0 {
		t.Errorf("beta's tier was changed: %+v", es)
	}
	if !strings.Contains(logs.String(), "acme") || !strings.Contains(logs.String(), "standard -> free") {
		t.Errorf("the change is not logged:\n%s", logs.String())
	}

	cfg.Workspaces = []WorkspaceConfig{{Name: "acme", Tier: "gold"}}
	if err := provision(ctx, db, cfg, log); err == nil || !strings.Contains(err.Error(), "gold") || !strings.Contains(err.Error(), "acme") {
		t.Errorf("bad tier in the config: %v", err)
	}
}

const tierTestRules = `title: failed logon
id: 33333333-0000-4000-8000-000000000001
name: tier_failed_logon
logsource:
  product: windows
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: brute force (tier test)
id: 33333333-0000-4000-8000-000000000002
level: high
correlation:
  type: event_count
  rules: [tier_failed_logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition:
    gte: 3
`

// failedLogons is n failed logons of user, a second apart from start.
func failedLogons(user string, start time.Time, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":%q,"TimeCreated":%q}`+"\n",
			user, start.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	return b.Bytes()
}

// TestServeTierChange: in a running server, a free workspace's failed
// logons raise no correlation alert; once an admin key moves it to
// standard (PATCH /api/v1/workspace), the next ones do at once (the API
// tells the detect stage, whose cached tier would otherwise hold for 10s),
// and the change is in the audit log.
func TestServeTierChange(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(t.TempDir(), "bf.yml")
	if err := os.WriteFile(rules, []byte(tierTestRules), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "workspaces", "create", "acme", "--tier", "free", "--data-dir", dir)
	key, keyID := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir, "--rules", rules)
	defer srv.stop()

	correlations := func() int {
		n := 0
		for _, a := range listAlerts(t, srv.url, key) {
			if a.Rule.Title == "brute force (tier test)" {
				n++
			}
		}
		return n
	}
	start := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	if r := ingestBody(t, srv.url, key, "dc1", "windows", "application/x-ndjson", failedLogons("bob", start, 3)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "three events stored", func() bool { return storedEvents(t, srv.url, key) == 3 })
	time.Sleep(500 * time.Millisecond) // correlation follows the commit
	if n := correlations(); n != 0 {
		t.Fatalf("free workspace: %d correlation alerts", n)
	}

	p := do(t, "PATCH", srv.url+"/api/v1/workspace", key, "application/json", strings.NewReader(`{"tier":"standard"}`))
	if p.status != 200 || !strings.Contains(string(p.body), `"tier":"standard"`) {
		t.Fatalf("PATCH workspace: %d %s", p.status, p.body)
	}
	if r := ingestBody(t, srv.url, key, "dc1", "windows", "application/x-ndjson", failedLogons("bob", start.Add(time.Minute), 3)); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "six events stored", func() bool { return storedEvents(t, srv.url, key) == 6 })
	time.Sleep(500 * time.Millisecond)
	if n := correlations(); n != 1 {
		t.Fatalf("standard workspace: %d correlation alerts, want 1", n)
	}
	a := do(t, "GET", srv.url+"/api/v1/audit", key, "", nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"action":"workspace.tier"`) ||
		!strings.Contains(string(a.body), `"actor":"key:`+keyID+`"`) || !strings.Contains(string(a.body), `free -\u003e standard`) && !strings.Contains(string(a.body), `free -> standard`) {
		t.Errorf("audit log lacks the tier change by key %s: %d %s", keyID, a.status, a.body)
	}
}
