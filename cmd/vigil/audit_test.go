package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// vigil audit export writes the workspace's audit log, one JSON object a
// line, newest first.
func TestAuditExport(t *testing.T) {
	dir := t.TempDir()
	_, id := newKey(t, dir, "acme", "read")
	runCLI(t, "keys", "revoke", id, "--workspace", "acme", "--data-dir", dir)
	out := runCLI(t, "audit", "export", "--workspace", "acme", "--data-dir", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var actions []string
	for _, l := range lines {
		var e struct {
			Action, Target, Actor string
			Count                 int
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if e.Count != 1 || e.Actor != "cli" {
			t.Errorf("entry %+v: want count 1, actor cli", e)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "key.revoke key.create workspace.create" {
		t.Errorf("exported actions %v, want key.revoke key.create workspace.create (newest first)", actions)
	}
}

// keys create takes an expiry and an allow-list; keys rotate issues a
// successor of the same scope and name and sets the old key's expiry.
func TestKeysRotateAndLimits(t *testing.T) {
	dir := t.TempDir()
	newKey(t, dir, "acme", "admin")
	var k struct{ ID, Secret string }
	out := runCLI(t, "keys", "create", "--workspace", "acme", "--scope", "ingest", "--name", "fw", "--expires", "720h",
		"--allow", "10.0.0.0/8,192.0.2.7", "--json", "--data-dir", dir)
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var next struct{ ID, Secret, Scope, Name, Replaces, Old_expires string }
	out = runCLI(t, "keys", "rotate", k.ID, "--workspace", "acme", "--overlap", "2h", "--json", "--data-dir", dir)
	if err := json.Unmarshal([]byte(out), &next); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if next.ID == k.ID || next.Secret == k.Secret || next.Scope != "ingest" || next.Name != "fw" || next.Replaces != k.ID || next.Old_expires == "" {
		t.Errorf("rotate: %+v", next)
	}
	list := runCLI(t, "keys", "list", "--workspace", "acme", "--data-dir", dir)
	for _, l := range strings.Split(list, "\n") {
		switch {
		case strings.HasPrefix(l, k.ID):
			if !strings.Contains(l, next.Old_expires) || !strings.Contains(l, "10.0.0.0/8,192.0.2.7/32") {
				t.Errorf("old key line %q: want its expiry %s and allow-list", l, next.Old_expires)
			}
		case strings.HasPrefix(l, next.ID):
			if !strings.Contains(l, "10.0.0.0/8,192.0.2.7/32") {
				t.Errorf("successor line %q: want the allow-list", l)
			}
		}
	}
	if !strings.Contains(runCLI(t, "audit", "export", "--workspace", "acme", "--data-dir", dir), `"action":"key.rotate"`) {
		t.Errorf("rotation not audited")
	}
}
