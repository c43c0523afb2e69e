package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/decode"
)

// runVigil runs a command of the CLI in-process and returns its standard
// output, its standard error (with the message main would print) and the
// exit status main would give.
func runVigil(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case err != nil:
		errOut.WriteString("vigil: " + err.Error() + "\n")
		code = exitSetup
	}
	return out.String(), errOut.String(), code
}

func slogTo(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A record of the windows format, and one that is not.
const (
	goodWindowsLine = `{"EventID":1102,"Channel":"Security","Computer":"dc1","TimeCreated":"2026-03-04T10:00:00Z"}`
	badWindowsLine  = `{"EventID":4625,"Channel":`
)

// TestRulesPathMustHoldRules: a rules path that does not exist, or holds no
// rule, stops scan, rules validate and rules test with a message naming it.
func TestRulesPathMustHoldRules(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent", "rules")
	empty := filepath.Join(dir, "empty")
	notes := filepath.Join(dir, "notes")
	onlyTests := filepath.Join(dir, "only-tests")
	os.MkdirAll(empty, 0o750)
	writeFile(t, filepath.Join(notes, "README.txt"), "no rules here\n")
	writeFile(t, filepath.Join(onlyTests, "x.tests.yml"), "tests: []\n")
	events := filepath.Join(dir, "events.jsonl")
	writeFile(t, events, goodWindowsLine+"\n")
	for _, p := range []string{missing, empty, notes, onlyTests} {
		for _, args := range [][]string{
			{"scan", "--format", "windows", "--rules", p, events},
			{"rules", "validate", p},
			{"rules", "test", p},
		} {
			_, stderr, code := runVigil(t, args...)
			if code != exitSetup || !strings.Contains(stderr, p+":") {
				t.Errorf("vigil %s: exit %d, want %d and a message naming %s:\n%s", strings.Join(args, " "), code, exitSetup, p, stderr)
			}
		}
	}
	_, stderr, _ := runVigil(t, "scan", "--format", "windows", "--rules", missing, events)
	if !strings.Contains(stderr, "--rules "+missing+": no such file or directory") {
		t.Errorf("scan does not say what is wrong with the path:\n%s", stderr)
	}
	_, stderr, _ = runVigil(t, "scan", "--format", "windows", "--rules", empty, events)
	if !strings.Contains(stderr, "no rule files") {
		t.Errorf("scan does not say the directory holds no rules:\n%s", stderr)
	}
}

const brokenRule = "title: broken\ndetection:\n  sel:\n    Image|endwith: x\n  condition: sel\n"

// TestRulesNotLoadedCountAndStrict: a rule that does not load is a warning
// with a count, and an error under --strict; rules validate and rules test
// are strict unless told --strict=false.
func TestRulesNotLoadedCountAndStrict(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "a.yml"), testRule)
	writeFile(t, filepath.Join(rules, "b.yml"), brokenRule)
	writeFile(t, filepath.Join(rules, "a.tests.yml"), `tests:
  - format: windows
    match:
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\Windows\whoami.exe'}
`)
	events := filepath.Join(dir, "events.jsonl")
	writeFile(t, events, goodWindowsLine+"\n")

	_, stderr, code := runVigil(t, "scan", "--format", "windows", "--rules", rules, events)
	if code != exitOK || !strings.Contains(stderr, "b.yml:4:11: unknown modifier") || !strings.Contains(stderr, "1 rule not loaded") {
		t.Errorf("scan: exit %d, want 0 with the reason and the count:\n%s", code, stderr)
	}
	_, stderr, code = runVigil(t, "scan", "--strict", "--format", "windows", "--rules", rules, events)
	if code != exitSetup || !strings.Contains(stderr, "1 rule not loaded") {
		t.Errorf("scan --strict: exit %d, want %d:\n%s", code, exitSetup, stderr)
	}

	out, _, code := runVigil(t, "rules", "validate", rules)
	if code != exitSetup || !strings.Contains(out, "1 rule not loaded") {
		t.Errorf("rules validate: exit %d, want %d:\n%s", code, exitSetup, out)
	}
	out, _, code = runVigil(t, "rules", "validate", "--strict=false", rules)
	if code != exitOK || !strings.Contains(out, "1 rule not loaded") {
		t.Errorf("rules validate --strict=false: exit %d, want 0:\n%s", code, out)
	}

	// b.yml has no tests: only a.yml's rules are tested. Its broken sibling
	// in a file of its own does not matter; a broken rule beside a.yml's
	// rule does.
	writeFile(t, filepath.Join(rules, "a.yml"), testRule+"---\n"+brokenRule)
	out, _, code = runVigil(t, "rules", "test", rules)
	if code != exitSetup || !strings.Contains(out, "a.yml:13:11: unknown modifier") {
		t.Errorf("rules test: exit %d, want %d and the rule that did not load:\n%s", code, exitSetup, out)
	}
	out, _, code = runVigil(t, "rules", "test", "--strict=false", rules)
	if code != exitOK || !strings.Contains(out, "1 passed, 0 failed") || !strings.Contains(out, "1 rule not loaded") {
		t.Errorf("rules test --strict=false: exit %d, want 0, the loaded rule tested and the count:\n%s", code, out)
	}
}

// TestServeRefusesBadRules: serve does not start on a rules path that is
// missing or empty, nor, with rules-strict, on a rule that does not load.
func TestServeRefusesBadRules(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent")
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o750)
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "a.yml"), testRule)
	writeFile(t, filepath.Join(rules, "b.yml"), brokenRule)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rules", missing}, "setting rules: " + missing + ": no such file or directory"},
		{[]string{"--rules", empty}, "setting rules: " + empty + ": no rule files"},
		{[]string{"--rules", rules, "--rules-strict"}, "1 rule not loaded"},
	} {
		args := append([]string{"serve", "--listen", freePort(t), "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn"}, c.args...)
		cmd := exec.Command(vigilBin, args...)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitSetup || !strings.Contains(out.String(), c.want) {
				t.Errorf("serve %v: %v, want exit %d and %q:\n%s", c.args, err, exitSetup, c.want, out.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("serve %v started; want a refusal naming the rules:\n%s", c.args, out.String())
		}
	}
	// Without rules-strict the broken rule is a warning, counted.
	srv := startServe(t, filepath.Join(dir, "data"), "--rules", rules)
	srv.stop()
	if !strings.Contains(srv.stderr.String(), "b.yml:4:11") {
		t.Errorf("serve does not name the rule that did not load:\n%s", srv.stderr.String())
	}
}

// TestServeReloadKeepsRulesOfAGonePath: serve, finding its rules path gone
// at a reload, logs an error and goes on detecting with the last rules.
func TestServeReloadKeepsRulesOfAGonePath(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "cleared.yml"), `title: Log cleared (from a path that went away)
id: 33333333-0000-4000-8000-000000000020
level: high
logsource: {product: windows}
detection:
  sel: {EventID: 1102}
  condition: sel
`)
	data := filepath.Join(dir, "data")
	key, _ := newKey(t, data, "acme", "admin")
	srv := startServe(t, data, "--rules", rules, "--no-builtin-rules", "--rules-reload", "100ms")
	defer srv.stop()
	if err := os.RemoveAll(rules); err != nil {
		t.Fatal(err)
	}
	poll(t, "an error about the gone rules path", func() bool {
		return strings.Contains(srv.stderr.String(), "level=ERROR") && strings.Contains(srv.stderr.String(), rules)
	})
	if r := ingestBody(t, srv.url, key, "dc1", "windows", "application/x-ndjson", []byte(goodWindowsLine+"\n")); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "an alert of the kept rule", func() bool {
		for _, a := range listAlerts(t, srv.url, key) {
			if a.Rule.Title == "Log cleared (from a path that went away)" {
				return true
			}
		}
		return false
	})
}

// TestRuleReloadKeepsRulesOfAGonePath: a reload that finds a rules path
// gone keeps its last rules and logs an error.
func TestRuleReloadKeepsRulesOfAGonePath(t *testing.T) {
	for _, gone := range []string{"removed", "emptied"} {
		t.Run(gone, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rules")
			writeFile(t, filepath.Join(dir, "a.yml"), testRule)
			var logs syncBuffer
			log := slogTo(&logs)
			l := newRuleLoader(&Config{Rules: []string{dir}, NoBuiltin: true}, log, 0)
			l.refresh()
			if _, rep := l.build(); rep.loaded != 1 || len(rep.pathErrs) != 0 {
				t.Fatalf("first load: %+v", rep)
			}
			if gone == "removed" {
				os.RemoveAll(dir)
			} else {
				os.Remove(filepath.Join(dir, "a.yml"))
			}
			l.refresh()
			rs, rep := l.build()
			if rep.loaded != 1 || rs.Engine.Len() != 1 {
				t.Errorf("the rules of the gone path were dropped: %+v", rep)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), dir) {
				t.Errorf("no error logged naming %s:\n%s", dir, logs.String())
			}
			// Back again: loaded as usual, and said once.
			writeFile(t, filepath.Join(dir, "a.yml"), strings.ReplaceAll(testRule, "Whoami", "Back"))
			l.refresh()
			rs, rep = l.build()
			if rep.loaded != 1 || rs.Engine.Rules()[0].Title != "Back" {
				t.Errorf("the path's new rules did not load: %+v", rep)
			}
		})
	}
}

// TestRejectedRecordsExitStatus: scan and decode share one exit status for
// records they refused, and --allow-rejected turns it off; both helps say so.
func TestRejectedRecordsExitStatus(t *testing.T) {
	f := filepath.Join(t.TempDir(), "events.jsonl")
	writeFile(t, f, goodWindowsLine+"\n"+badWindowsLine+"\n")
	for _, c := range []string{"scan", "decode"} {
		_, stderr, code := runVigil(t, c, "--format", "windows", f)
		if code != exitRejected || !strings.Contains(stderr, f+":2:") {
			t.Errorf("%s with a refused record: exit %d, want %d and the record named:\n%s", c, code, exitRejected, stderr)
		}
		if _, stderr, code = runVigil(t, c, "--format", "windows", "--allow-rejected", f); code != exitOK {
			t.Errorf("%s --allow-rejected: exit %d, want 0:\n%s", c, code, stderr)
		}
		out, _, _ := runVigil(t, c, "--help")
		if !strings.Contains(out, exitStatusHelp) {
			t.Errorf("%s --help does not give the exit statuses:\n%s", c, out)
		}
	}
	good := filepath.Join(t.TempDir(), "good.jsonl")
	writeFile(t, good, goodWindowsLine+"\n")
	for _, c := range []string{"scan", "decode"} {
		if _, stderr, code := runVigil(t, c, "--format", "windows", good); code != exitOK {
			t.Errorf("%s of good records: exit %d:\n%s", c, code, stderr)
		}
	}
}

// TestCLIDoc ties docs/cli.md to the commands: the exit statuses and every
// flag of the commands it documents.
func TestCLIDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{exitOK, exitSetup, exitRejected} {
		if !regexp.MustCompile(`(?m)^\| ` + string(rune('0'+code)) + ` \|`).Match(doc) {
			t.Errorf("docs/cli.md does not document exit status %d", code)
		}
	}
	root := newRoot()
	for _, path := range [][]string{{"scan"}, {"decode"}, {"rules", "validate"}, {"rules", "test"}, {"workspaces", "create"}, {"workspaces", "list"}, {"keys", "create"}, {"keys", "list"}, {"keys", "revoke"}, {"store", "copy"}} {
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, []byte("vigil "+strings.Join(path, " "))) {
			t.Errorf("docs/cli.md does not mention vigil %s", strings.Join(path, " "))
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			if !bytes.Contains(doc, []byte("--"+f.Name)) {
				t.Errorf("docs/cli.md does not document %s's --%s", cmd.CommandPath(), f.Name)
			}
		})
	}
}

// TestAdminCommandsRefuseMissingDataDir: only serve, demo and workspaces
// create make a data directory; the other commands refuse a missing one
// (or one without a database) and name it.
func TestAdminCommandsRefuseMissingDataDir(t *testing.T) {
	sqliteOnly(t, "the refusal guards against a new, empty vigil.db made in a mistyped data dir; a PostgreSQL store is not in the data dir")
	base := t.TempDir()
	typo := filepath.Join(base, "typo", "dir")
	bare := filepath.Join(base, "bare")
	os.MkdirAll(bare, 0o750)
	for _, dir := range []string{typo, bare} {
		for _, args := range [][]string{
			{"workspaces", "list"},
			{"keys", "create", "--workspace", "acme"},
			{"keys", "list", "--workspace", "acme"},
			{"keys", "revoke", "--workspace", "acme", "01J00000000000000000000000"},
		} {
			args = append(args, "--data-dir", dir)
			_, stderr, code := runVigil(t, args...)
			if code == exitOK || !strings.Contains(stderr, dir) || !strings.Contains(stderr, "vigil workspaces create") {
				t.Errorf("vigil %s: exit %d, want a refusal naming %s with a hint:\n%s", strings.Join(args, " "), code, dir, stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(base, "typo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command made the data directory %s (%v)", typo, err)
	}
	if _, err := os.Stat(filepath.Join(bare, "vigil.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command made a database in %s (%v)", bare, err)
	}
	// workspaces create makes it, and then the others work.
	if _, stderr, code := runVigil(t, "workspaces", "create", "acme", "--data-dir", typo); code != exitOK {
		t.Fatalf("workspaces create in a new directory: exit %d:\n%s", code, stderr)
	}
	if out, stderr, code := runVigil(t, "workspaces", "list", "--data-dir", typo); code != exitOK || !strings.Contains(out, "acme") {
		t.Errorf("workspaces list after create: exit %d:\n%s%s", code, out, stderr)
	}
}

// TestKeysCreateJSONNamesTheKey: keys create --json includes the name.
func TestKeysCreateJSONNamesTheKey(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runVigil(t, "workspaces", "create", "acme", "--data-dir", dir); code != exitOK {
		t.Fatalf("workspaces create: %s", stderr)
	}
	out, stderr, code := runVigil(t, "keys", "create", "--workspace", "acme", "--scope", "ingest", "--name", "dc01 shipper", "--json", "--data-dir", dir)
	if code != exitOK {
		t.Fatalf("keys create: %s", stderr)
	}
	var k map[string]string
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if k["name"] != "dc01 shipper" || k["id"] == "" || k["secret"] == "" || k["workspace"] != "acme" || k["scope"] != "ingest" {
		t.Errorf("keys create --json: %s", out)
	}
}

// TestRulesValidateCounts: rules, correlation rules and filters are counted
// apart, in good English.
func TestRulesValidateCounts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yml"), testRule+`---
title: Many whoami
id: 33333333-0000-4000-8000-000000000010
correlation:
  type: event_count
  rules: [33333333-0000-4000-8000-000000000001]
  group-by: [Computer]
  timespan: 10m
  condition: {gte: 3}
`)
	out, _, code := runVigil(t, "rules", "validate", dir)
	if code != exitOK || !strings.Contains(out, "1 rule, 1 correlation rule and 0 filters loaded\n") {
		t.Errorf("rules validate: exit %d:\n%s", code, out)
	}
	writeFile(t, filepath.Join(dir, "f.yml"), `title: no whoami on admin hosts
logsource: {product: windows, category: process_creation}
filter:
  rules: [33333333-0000-4000-8000-000000000001]
  sel: {Computer: admin1}
  condition: sel
`)
	writeFile(t, filepath.Join(dir, "s.yml"), strings.ReplaceAll(strings.ReplaceAll(testRule, "0001", "0002"), "Whoami", "Second"))
	out, _, _ = runVigil(t, "rules", "validate", dir)
	if !strings.Contains(out, "2 rules, 1 correlation rule and 1 filter loaded\n") {
		t.Errorf("rules validate with a filter:\n%s", out)
	}
}

// TestScanHelpListsFormats: scan --help and decode --help list the formats
// of the decoder registry in their text, not by pointing at themselves.
func TestScanHelpListsFormats(t *testing.T) {
	root := newRoot()
	for _, name := range []string{"scan", "decode"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(cmd.Long, "vigil "+name+" --help") {
			t.Errorf("%s --help refers to itself:\n%s", name, cmd.Long)
		}
		for _, f := range decode.Formats() {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(f) + `\b`).MatchString(cmd.Long) {
				t.Errorf("%s --help does not list the format %s:\n%s", name, f, cmd.Long)
			}
		}
	}
}

// TestReadmeScanExample runs the README's scan line with SigmaHQ's rules
// and a Windows event corpus from ../shared in place of its clone and
// events file: it must load every rule and find alerts.
func TestReadmeScanExample(t *testing.T) {
	sigma := sharedData(t, "sigma")
	events := sharedData(t, "events/windows-mordor.jsonl.gz")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range strings.Split(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(l, "./vigil scan "); ok {
			rest, _, _ = strings.Cut(rest, "#")
			args = strings.Fields(rest)
		}
	}
	if len(args) == 0 {
		t.Fatal("README has no ./vigil scan line")
	}
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "sigma/"):
			args[i] = filepath.Join(sigma, strings.TrimPrefix(a, "sigma/"))
		case a == "events.jsonl.gz":
			args[i] = events
		}
	}
	cmd := exec.Command(vigilBin, append([]string{"scan", "-o", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vigil scan %v: %v\n%s", args, err, stderr.String())
	}
	if strings.Contains(stderr.String(), "not loaded") {
		t.Errorf("rules of the README's example did not load:\n%s", stderr.String())
	}
	var alerts []apiAlert
	if err := json.Unmarshal(stdout.Bytes(), &alerts); err != nil || len(alerts) == 0 {
		t.Errorf("README's scan found no alerts (%v):\n%s", err, stderr.String())
	}
}
