package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/tenant"
)

// runWithInput runs vigil with stdin and returns its output and error.
func runWithInput(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(vigilBin, args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUsersCLI: users are made with a password from standard input and
// roles per workspace, listed without their hash, given new passwords,
// roles and disabled; every change is audited in its workspace; bad input
// is refused with a reason.
func TestUsersCLI(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, "workspaces", "create", "acme", "--data-dir", dir)
	if out, err := runWithInput(t, "correct horse battery\n", "users", "create", "alice", "--role", "acme=responder", "--data-dir", dir); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	for _, c := range []struct {
		input string
		args  []string
		want  string
	}{
		{"short\n", []string{"users", "create", "bob", "--role", "acme=reader"}, "at least 12 characters"},
		{"correct horse battery\n", []string{"users", "create", "bob", "--role", "acme=root"}, "reader, responder or admin"},
		{"correct horse battery\n", []string{"users", "create", "bob"}, "needs a role"},
		{"correct horse battery\n", []string{"users", "create", "bob", "--role", "nowhere=reader"}, "not found"},
		{"correct horse battery\n", []string{"users", "create", "alice", "--role", "acme=reader"}, "exists"},
		{"", []string{"users", "passwd", "alice"}, "no password"},
	} {
		out, err := runWithInput(t, c.input, append(c.args, "--data-dir", dir)...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("vigil %s: %v, %q; want a refusal saying %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	if out, err := runWithInput(t, "another long password\n", "users", "passwd", "alice", "--data-dir", dir); err != nil {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	runCLI(t, "users", "role", "alice", "acme", "admin", "--data-dir", dir)
	runCLI(t, "users", "disable", "alice", "--data-dir", dir)
	out := runCLI(t, "users", "list", "--json", "--data-dir", dir)
	var u struct {
		Name     string `json:"name"`
		Disabled bool   `json:"disabled"`
		Roles    []struct{ Workspace, Role string }
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &u); err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if u.Name != "alice" || !u.Disabled || len(u.Roles) != 1 || u.Roles[0].Role != "admin" || strings.Contains(out, "argon2") ||
		!strings.Contains(out, `"sign_in":"password"`) {
		t.Errorf("list: %s", out)
	}
	audit := runCLI(t, "audit", "export", "--workspace", "acme", "--data-dir", dir)
	for _, a := range []string{"user.create", "user.password", "user.role", "user.disable"} {
		if !strings.Contains(audit, `"action":"`+a+`"`) || !strings.Contains(audit, `"target":"user:alice"`) {
			t.Errorf("audit log lacks %s of user:alice:\n%s", a, audit)
		}
	}
}

// TestSignInOf: a user made by single sign-on lists as sso, one with a
// password as password.
func TestSignInOf(t *testing.T) {
	if got := signInOf(tenant.User{PasswordHash: tenant.ExternalPassword("https://sso.example", "sub-1")}); got != "sso" {
		t.Errorf("single sign-on user: %q", got)
	}
	if got := signInOf(tenant.User{PasswordHash: "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"}); got != "password" {
		t.Errorf("local user: %q", got)
	}
}
