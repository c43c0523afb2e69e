package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseServeRoles(t *testing.T) {
	for _, c := range []struct {
		in          []string
		want        string
		partitioned bool
	}{
		{nil, "all", false},
		{[]string{"all"}, "all", false},
		{[]string{"ingest,api"}, "ingest,api", false},
		{[]string{"detect"}, "detect", true},
		{[]string{"API", "detect"}, "detect,api", true},
		{[]string{"ingest", "detect", "api"}, "all", false},
	} {
		r, err := parseServeRoles(c.in)
		if err != nil || r.String() != c.want || r.partitioned() != c.partitioned {
			t.Errorf("%q: %v (partitioned %v), %v; want %s (partitioned %v)", c.in, r, r.partitioned(), err, c.want, c.partitioned)
		}
	}
	if _, err := parseServeRoles([]string{"ingest,worker"}); err == nil || !strings.Contains(err.Error(), `"worker"`) {
		t.Errorf("an unknown role: %v", err)
	}
}

// TestRoleHandler: a process serves its roles' routes and the operations
// endpoints, and answers 404 naming its role for the rest.
func TestRoleHandler(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, c := range []struct {
		role   string
		path   string
		served bool
	}{
		{"detect", "/healthz", true}, {"detect", "/readyz", true}, {"detect", "/metrics", true},
		{"detect", "/api/v1/ingest", false}, {"detect", "/api/v1/alerts", false}, {"detect", "/", false},
		{"ingest", "/api/v1/ingest", true}, {"ingest", "/api/v1/alerts", false},
		{"api", "/api/v1/alerts", true}, {"api", "/", true},
	} {
		r, _ := parseServeRoles([]string{c.role})
		rec := httptest.NewRecorder()
		roleHandler(r, inner).ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		if got := rec.Code == http.StatusTeapot; got != c.served {
			t.Errorf("role %s, %s: status %d, served %v; want served %v", c.role, c.path, rec.Code, got, c.served)
		}
		if !c.served && (rec.Code != 404 || !strings.Contains(rec.Body.String(), "role "+c.role)) {
			t.Errorf("role %s, %s: %d %s; want a 404 naming the role", c.role, c.path, rec.Code, rec.Body)
		}
	}
}
