package api

import (
	"os"
	"strings"
	"testing"
)

// TestAPIDocNamesEveryRoute ties docs/api.md to the routes: each one the
// API serves is written there as "`METHOD PATH".
func TestAPIDocNamesEveryRoute(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range allRoutes {
		if !strings.Contains(string(doc), "`"+rt.method+" "+rt.path) {
			t.Errorf("docs/api.md does not describe %s %s", rt.method, rt.path)
		}
	}
}
