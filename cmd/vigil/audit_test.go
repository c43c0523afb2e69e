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
