package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/api"
)

// TestConfigOIDC: single sign-on is off without oidc-issuer; with it, the
// settings it needs are required, the secret comes from its file (first
// line) or the setting but not both, and the roles are read.
func TestConfigOIDC(t *testing.T) {
	dir := t.TempDir()
	load := func(yaml string, env map[string]string) (*Config, error) {
		t.Helper()
		file := filepath.Join(dir, "vigil.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		cmd := newServeCmd()
		if err := cmd.Flags().Parse([]string{"--config", file}); err != nil {
			t.Fatal(err)
		}
		return loadConfig(cmd.Flags())
	}
	cfg, err := load("listen: 127.0.0.1:1\n", nil)
	if err != nil || cfg.oidc != nil {
		t.Fatalf("no oidc-issuer: %+v, %v", cfg.oidc, err)
	}
	if _, err := load("oidc-issuer: https://sso.example\noidc-client-id: vigil\n", nil); err == nil ||
		!strings.Contains(err.Error(), "oidc-redirect-url") || !strings.Contains(err.Error(), "oidc-roles") {
		t.Errorf("missing settings: %v", err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noRoles := "oidc-issuer: https://sso.example\noidc-client-id: vigil\noidc-redirect-url: https://vigil.example/api/v1/session/oidc/callback\n"
	base := noRoles + "oidc-roles: [soc=acme:responder, leads=acme:admin]\n"
	cfg, err = load(base+"oidc-client-secret-file: "+secret+"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.oidc
	if o == nil || o.ClientSecret != "s3cret" || len(o.Roles) != 2 || o.Roles[1] != (api.OIDCRole{Group: "leads", Workspace: "acme", Role: "admin"}) ||
		o.GroupsClaim != "groups" || o.UserClaim != "preferred_username" || o.Name != "SSO" || strings.Join(o.Scopes, " ") != "openid profile email" {
		t.Errorf("single sign-on settings: %+v", o)
	}
	if _, err := load(base+"oidc-client-secret-file: "+secret+"\n", map[string]string{"VIGIL_OIDC_CLIENT_SECRET": "other"}); err == nil {
		t.Error("both a secret and a secret file accepted")
	}
	if _, err := load(noRoles+"oidc-roles: [soc=acme:root]\n", nil); err == nil || !strings.Contains(err.Error(), "root") {
		t.Error("a role that is none accepted")
	}
}
