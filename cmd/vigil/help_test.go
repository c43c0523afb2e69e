package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpTexts returns every command's short and long help and every flag's
// usage, named by where they are.
func helpTexts() map[string]string {
	out := map[string]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		out[c.CommandPath()] = c.Short + "\n" + c.Long
		c.Flags().VisitAll(func(f *pflag.Flag) { out[c.CommandPath()+" --"+f.Name] = f.Usage })
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRoot())
	return out
}

// TestHelpNamesDashboard: help says what a server has: the API, its
// OpenAPI document and the dashboard with its sign-in.
func TestHelpNamesDashboard(t *testing.T) {
	root := newRoot().Long
	for _, want := range []string{"/api/v1", "/api/v1/openapi.json", "dashboard at /", "vigil users create"} {
		if !strings.Contains(root, want) {
			t.Errorf("vigil --help does not say what a server has (%q):\n%s", want, root)
		}
	}
}

// TestServeDashboardRoot: serve's root sends a visitor without a session to
// the sign-in page, which is a form under a policy that allows no inline
// script and no framing, and shows no server detail.
func TestServeDashboardRoot(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.url + "/alerts?severity=high")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Falerts%3Fseverity%3Dhigh" {
		t.Fatalf("GET /alerts without a session: %d Location %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	r := do(t, "GET", srv.url+"/signin", "", "", nil)
	page := string(r.body)
	for _, want := range []string{`<form method="post" action="/signin"`, `name="password"`, "/static/app.js"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, dir) {
		t.Errorf("sign-in page shows the data directory %s", dir)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("page CSP %q allows inline code", csp)
	}
}
