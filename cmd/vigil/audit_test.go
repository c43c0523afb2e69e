package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/api"
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

// A flood of unknown keys from one address against the real server is
// throttled after auth-fail-limit, and leaves a few audit lines whose
// counts add up, not a line a request.
func TestFailedAuthFloodOverHTTP(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "read")
	srv := startServe(t, dir, "--auth-fail-limit", "10", "--auth-fail-window", "10m")
	const flood = 2000
	codes := map[int]int{}
	for range flood {
		secret, _, err := api.NewKey("acme", "admin", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, "GET", srv.url+"/api/v1/alerts", secret, "", nil)
		codes[r.status]++
		if r.status == 429 && r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[401] != 10 || codes[429] != flood-10 {
		t.Errorf("answers %v, want 10 × 401 and %d × 429", codes, flood-10)
	}
	// The same address with a good key waits for the window too.
	if r := do(t, "GET", srv.url+"/api/v1/alerts", key, "", nil); r.status != 429 {
		t.Errorf("good key from the throttled address: %d, want 429", r.status)
	}
	time.Sleep(1100 * time.Millisecond)
	do(t, "GET", srv.url+"/api/v1/alerts", key, "", nil) // throttled too; writes the count
	srv.stop()

	out := strings.TrimSpace(runCLI(t, "audit", "export", "--workspace", "", "--data-dir", dir))
	lines := strings.Split(out, "\n")
	counts := map[string]int{}
	for _, l := range lines {
		var e struct {
			Action, Actor string
			Count         int
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		counts[e.Action] += e.Count
	}
	if len(lines) > 3 {
		t.Errorf("%d audit lines for a flood of %d, want at most 3:\n%s", len(lines), flood, out)
	}
	if counts["auth.refused"] != 10 || counts["auth.throttled"] != flood-10+2 {
		t.Errorf("audit counts %v, want 10 refused and %d throttled", counts, flood-10+2)
	}
}
