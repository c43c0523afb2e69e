package main

import (
	"regexp"
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

// TestHelpPromisesNoDashboard: the dashboard is not built yet, so help may
// name it only to say so; what a server has today is the API, its OpenAPI
// document and a landing page.
func TestHelpPromisesNoDashboard(t *testing.T) {
	sentence := regexp.MustCompile(`[^.;]*dashboard[^.;]*`)
	notYet := regexp.MustCompile(`\bnot\b.*\byet\b`)
	for where, text := range helpTexts() {
		for _, s := range sentence.FindAllString(strings.ToLower(text), -1) {
			if !notYet.MatchString(s) {
				t.Errorf("%s promises a dashboard: %q", where, strings.TrimSpace(s))
			}
		}
	}
	root := newRoot().Long
	for _, want := range []string{"/api/v1", "/api/v1/openapi.json", "landing page"} {
		if !strings.Contains(root, want) {
			t.Errorf("vigil --help does not say what a server has (%q):\n%s", want, root)
		}
	}
}

// TestServeLandingPage: serve's root page says what is there (the API, its
// OpenAPI document, no dashboard yet) and how to make a key, without
// showing visitors the server's data directory.
func TestServeLandingPage(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir)
	r := do(t, "GET", srv.url+"/", "", "", nil)
	page := string(r.body)
	for _, want := range []string{"/api/v1/openapi.json", "no web dashboard yet", "vigil keys create --data-dir DATA_DIR", "/api/v1/keys", "vigil send"} {
		if !strings.Contains(page, want) {
			t.Errorf("landing page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, dir) {
		t.Errorf("landing page shows the data directory %s", dir)
	}
}
