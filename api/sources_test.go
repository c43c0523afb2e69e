package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func TestSources(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	ctx := context.Background()

	var list struct {
		Sources []tenant.Source `json:"sources"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/sources", "a-read", nil), http.StatusOK, &list)
	if len(list.Sources) != 1 || list.Sources[0].Name != "a-src" || list.Sources[0].Workspace != "a" {
		t.Fatalf("sources %+v, want a's one", list.Sources)
	}

	// Create.
	f.clock.Advance(time.Hour)
	var got tenant.Source
	body := map[string]any{"format": testFormat, "logsource": map[string]string{"product": "linux", "service": "sshd"}, "timezone": "Europe/Paris"}
	want(t, f.do(http.MethodPut, "/api/v1/sources/edge-fw", "a-admin", body), http.StatusOK, &got)
	stored, err := st.Source(ctx, "a", "edge-fw")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Format != testFormat || stored.Logsource.Product != "linux" || stored.Logsource.Service != "sshd" || stored.TimeZone != "Europe/Paris" || !stored.Created.Equal(t0.Add(time.Hour)) {
		t.Errorf("stored source %+v", stored)
	}
	if got.Name != "edge-fw" || got.Format != testFormat {
		t.Errorf("answered %+v", got)
	}
	if e := st.auditOf("source.put"); len(e) != 1 || e[0].Target != "source:edge-fw" || e[0].Workspace != "a" {
		t.Errorf("source.put audit %+v", e)
	}

	// Change keeps counters and creation time.
	stored.Events, stored.Rejected = 42, 2
	if err := st.PutSource(ctx, stored); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	want(t, f.do(http.MethodPut, "/api/v1/sources/edge-fw", "a-admin", map[string]any{"format": testFormat}), http.StatusOK, &got)
	stored, _ = st.Source(ctx, "a", "edge-fw")
	if stored.Events != 42 || stored.Rejected != 2 || !stored.Created.Equal(t0.Add(time.Hour)) || !stored.Logsource.IsZero() || stored.TimeZone != "" {
		t.Errorf("after change: %+v", stored)
	}
	want(t, f.do(http.MethodGet, "/api/v1/sources/edge-fw", "a-read", nil), http.StatusOK, &got)
	if got.Events != 42 {
		t.Errorf("get source: %+v", got)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/sources/nope", "a-read", nil), http.StatusNotFound, "source nope not found")

	// A name with a slash, as ingest allows, travels as %2F.
	want(t, f.do(http.MethodPut, "/api/v1/sources/dc1%2Ffw:01", "a-admin", map[string]any{"format": testFormat}), http.StatusOK, &got)
	if got.Name != "dc1/fw:01" {
		t.Errorf("source name %q, want dc1/fw:01", got.Name)
	}
	want(t, f.do(http.MethodGet, "/api/v1/sources/dc1%2Ffw:01", "a-read", nil), http.StatusOK, &got)

	// Bad input.
	wantProblem(t, f.do(http.MethodPut, "/api/v1/sources/x", "a-admin", map[string]any{"format": "klingon"}), http.StatusUnprocessableEntity, "body.format", "unknown format", testFormat)
	wantProblem(t, f.do(http.MethodPut, "/api/v1/sources/x", "a-admin", map[string]any{"format": testFormat, "timezone": "Mars/Olympus"}), http.StatusUnprocessableEntity, "body.timezone")
	wantProblem(t, f.do(http.MethodPut, "/api/v1/sources/x", "a-admin", map[string]any{}), http.StatusUnprocessableEntity, "format")
	wantProblem(t, f.do(http.MethodPut, "/api/v1/sources/a%20b", "a-admin", map[string]any{"format": testFormat}), http.StatusUnprocessableEntity, "path.name")
	wantProblem(t, f.do(http.MethodPut, "/api/v1/sources/a;b", "a-admin", map[string]any{"format": testFormat}), http.StatusUnprocessableEntity, "path.name")
	if _, err := st.Source(ctx, "a", "x"); err == nil {
		t.Errorf("a refused PUT stored source x")
	}
}

func TestWorkspaceAndAudit(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	var ws struct {
		Workspace, Tier, Scope string
		KeyID                  string `json:"key_id"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "a-read", nil), http.StatusOK, &ws)
	if ws.Workspace != "a" || ws.Tier != tenant.TierStandard || ws.Scope != "read" || ws.KeyID != f.keyIDs["a-read"] {
		t.Errorf("workspace %+v", ws)
	}
	want(t, f.do(http.MethodGet, "/api/v1/workspace", "b-admin", nil), http.StatusOK, &ws)
	if ws.Workspace != "b" || ws.Tier != tenant.TierFree || ws.Scope != "admin" {
		t.Errorf("workspace %+v", ws)
	}

	// Make audit entries in both workspaces, then read a's.
	want(t, f.do(http.MethodPost, "/api/v1/keys", "a-admin", map[string]string{"scope": "read"}), http.StatusCreated, nil)
	want(t, f.do(http.MethodPost, "/api/v1/keys", "b-admin", map[string]string{"scope": "read"}), http.StatusCreated, nil)
	wantProblem(t, f.do(http.MethodGet, "/api/v1/audit", "a-read", nil), http.StatusForbidden)
	var log struct {
		Entries []store.AuditEntry `json:"entries"`
		Next    string             `json:"next"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit?limit=1", "a-admin", nil), http.StatusOK, &log)
	if len(log.Entries) != 1 || log.Next == "" {
		t.Fatalf("audit page of 1: %+v", log)
	}
	if e := log.Entries[0]; e.Action != "auth.refused" || e.Workspace != "a" {
		t.Errorf("newest entry %+v, want a's refused audit read", e)
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit?cursor="+log.Next, "a-admin", nil), http.StatusOK, &log)
	if len(log.Entries) != 1 || log.Entries[0].Action != "key.create" || log.Entries[0].Workspace != "a" {
		t.Errorf("second page %+v, want a's key.create only", log.Entries)
	}
}

// GET /api/v1/sources pages like the other lists, against both stores.
func TestSourcesPaged(t *testing.T) {
	for _, c := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"fake", func(*testing.T) store.Store { return newFakeStore() }},
		{"sqlite", func(t *testing.T) store.Store { return openStore[store.Store](t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.st(t))
			for i := range 4 {
				want(t, f.do(http.MethodPut, fmt.Sprintf("/api/v1/sources/s%d", i), "a-admin", map[string]any{"format": testFormat}), http.StatusOK, nil)
			}
			var names []string
			path := "/api/v1/sources?limit=2"
			for pages := 1; ; pages++ {
				var list struct {
					Sources []tenant.Source `json:"sources"`
					Next    string          `json:"next"`
				}
				want(t, f.do(http.MethodGet, path, "a-read", nil), http.StatusOK, &list)
				for _, s := range list.Sources {
					names = append(names, s.Name)
				}
				if list.Next == "" {
					if pages != 3 {
						t.Errorf("%d pages of 2 for 5 sources, want 3", pages)
					}
					break
				}
				path = "/api/v1/sources?limit=2&cursor=" + url.QueryEscape(list.Next)
			}
			if fmt.Sprint(names) != "[a-src s0 s1 s2 s3]" {
				t.Errorf("paged sources %v", names)
			}
			wantProblem(t, f.do(http.MethodGet, "/api/v1/sources?limit=0", "a-read", nil), http.StatusUnprocessableEntity, "limit")
		})
	}
}
