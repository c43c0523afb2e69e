package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/suppress"
)

// TestSuppressionsCommands adds, imports, lists and deletes suppressions
// in a data directory; every change is in the audit log as cli's.
func TestSuppressionsCommands(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runVigil(t, "workspaces", "create", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("workspaces create: %d %s", code, errOut)
	}
	out, errOut, code := runVigil(t, "suppressions", "add", "--workspace", "acme", "--data-dir", dir,
		"--entity", "account:svc_backup", "--rule", "r1", "--reason", "backup job", "--expires", "720h")
	if code != 0 || !strings.Contains(out, "rule=r1 account=svc_backup") {
		t.Fatalf("add: %d %q %s", code, out, errOut)
	}
	if _, errOut, code := runVigil(t, "suppressions", "add", "--workspace", "acme", "--data-dir", dir, "--cidr", "10.0.0.0/8", "--reason", " "); code == 0 || !strings.Contains(errOut, "reason is required") {
		t.Errorf("add without a reason: %d %s", code, errOut)
	}
	if _, errOut, code := runVigil(t, "suppressions", "add", "--workspace", "nope", "--data-dir", dir, "--cidr", "10.0.0.0/8", "--reason", "x"); code == 0 {
		t.Errorf("add to a missing workspace: %d %s", code, errOut)
	}
	file := filepath.Join(dir, "noise.yml")
	writeFile(t, file, "suppressions:\n  - cidr: 198.51.100.0/24\n    reason: scanner\n  - field: user.name\n    value: nagios\n    reason: monitoring\n")
	if out, errOut, code := runVigil(t, "suppressions", "import", file, "--workspace", "acme", "--data-dir", dir); code != 0 || !strings.Contains(out, "2 suppressions added") {
		t.Fatalf("import: %d %q %s", code, out, errOut)
	}
	out, _, code = runVigil(t, "suppressions", "list", "--workspace", "acme", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatal(code)
	}
	var got []suppress.Suppression
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var s suppress.Suppression
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		got = append(got, s)
	}
	if len(got) != 3 || got[0].Expires == nil || got[0].Author != "cli" || got[1].CIDR != "198.51.100.0/24" || got[2].Value != "nagios" {
		t.Fatalf("listed %+v", got)
	}
	if out, _, _ := runVigil(t, "suppressions", "list", "--workspace", "acme", "--data-dir", dir); !strings.Contains(out, "user.name=nagios") || !strings.Contains(out, "HITS") {
		t.Errorf("table:\n%s", out)
	}
	if _, errOut, code := runVigil(t, "suppressions", "delete", got[0].ID, "--workspace", "acme", "--data-dir", dir); code != 0 {
		t.Fatalf("delete: %d %s", code, errOut)
	}
	if _, _, code := runVigil(t, "suppressions", "delete", got[0].ID, "--workspace", "acme", "--data-dir", dir); code == 0 {
		t.Error("deleting it again succeeded")
	}
	audit, _, _ := runVigil(t, "audit", "export", "--workspace", "acme", "--data-dir", dir)
	if strings.Count(audit, `"suppression.create"`) != 3 || strings.Count(audit, `"suppression.delete"`) != 1 || !strings.Contains(audit, `"actor":"cli"`) {
		t.Errorf("audit:\n%s", audit)
	}
}
