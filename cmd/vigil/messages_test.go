package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/tenant"
)

// Each layer of a message adds only what it knows: these check the exact
// text of errors that used to say a prefix twice.

// TestDecodeRejectionSaysFormatOnce: `vigil decode` names the file and
// line, the decoder names its format, once.
func TestDecodeRejectionSaysFormatOnce(t *testing.T) {
	f := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(f, []byte("{\"EventID\":4625,\"Channel\":\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"decode", "--format", "windows", f})
	root.Execute()
	want := f + ":1: windows: invalid JSON: unexpected end of record, want a value at byte 26\n"
	if first, _, _ := strings.Cut(stderr.String(), "0 events"); first != want {
		t.Errorf("stderr %q\nwant   %q", first, want)
	}
}

// TestKeyForMissingWorkspaceSaidOnce: the store names the workspace; the
// CLI adds how to make it.
func TestKeyForMissingWorkspaceSaidOnce(t *testing.T) {
	db := openTestStore(t, t.TempDir())
	_, _, err := createKey(context.Background(), db, "demo", tenant.ScopeRead, "", "cli")
	want := "workspace demo: not found (create it with: vigil workspaces create demo)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

// TestProvisionErrorsSaidOnce: a config source in a missing workspace, and
// a config workspace of an unknown tier.
func TestProvisionErrorsSaidOnce(t *testing.T) {
	db := openTestStore(t, t.TempDir())
	ctx := context.Background()
	err := provision(ctx, db, &Config{Sources: []SourceConfig{{Name: "fw01", Workspace: "demo", Format: "syslog"}}}, slog.New(slog.DiscardHandler))
	if want := `config source "fw01": workspace demo: not found`; err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
	err = provision(ctx, db, &Config{Workspaces: []WorkspaceConfig{{Name: "acme", Tier: "gold"}}}, slog.New(slog.DiscardHandler))
	if want := `config file: workspace acme: tier "gold": invalid (want free or standard)`; err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

// TestServeListenErrorSaidOnce: an address in use is the network
// package's error, once.
func TestServeListenErrorSaidOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testServeConfig(t, "--data-dir", t.TempDir(), "--listen", ln.Addr().String())
	s, err := startServer(context.Background(), cfg, quietLog())
	if err == nil {
		s.shutdown(0)
		t.Fatal("serve started on an address in use")
	}
	if want := "listen tcp " + ln.Addr().String() + ": bind: address already in use"; err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

// TestServeStoreErrorSaidOnce: the store says "open store", once.
func TestServeStoreErrorSaidOnce(t *testing.T) {
	sqliteOnly(t, "the error is of SQLite's file; TestOpenBackendPostgres has PostgreSQL's")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "vigil.db"), 0o750); err != nil { // a directory where the file goes
		t.Fatal(err)
	}
	_, err := startServer(context.Background(), testServeConfig(t, "--data-dir", dir, "--listen", "127.0.0.1:0"), quietLog())
	if err == nil || !strings.HasPrefix(err.Error(), "open store "+filepath.Join(dir, "vigil.db")) || strings.Count(err.Error(), "open store") != 1 {
		t.Errorf("error %v: want one \"open store PATH\" prefix", err)
	}
}

// TestRulesTestUnknownFormatSaidOnce: a test case of a format the build
// does not know is reported in the decode registry's words, once.
func TestRulesTestUnknownFormatSaidOnce(t *testing.T) {
	dir := t.TempDir()
	for name, s := range map[string]string{
		"whoami.yml": testRule,
		"whoami.tests.yml": `tests:
  - format: nosuch
    match:
      - {EventID: 1}
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := runRulesCmd(t, "test", dir)
	if want := `whoami.tests.yml:2: unknown format "nosuch" (known: [`; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}
