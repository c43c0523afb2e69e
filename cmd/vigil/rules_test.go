package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/content"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

func runRulesCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"rules"}, args...))
	err := root.Execute()
	return out.String(), err
}

// Every built-in rule carries tests and passes them.
func TestBuiltinRuleTests(t *testing.T) {
	dir := filepath.Join("..", "..", "content", "rules")
	out, err := runRulesCmd(t, "test", "--require-tests", dir)
	if err != nil {
		t.Fatalf("vigil rules test %s: %v\n%s", dir, err, out)
	}
	if !strings.Contains(out, " 0 failed, 0 rule files without tests") {
		t.Errorf("output %q", out)
	}
}

const testRule = `title: Whoami
id: 33333333-0000-4000-8000-000000000001
status: test
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
`

func TestRulesTestReportsFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("whoami.yml", testRule)
	write("whoami.tests.yml", `tests:
  - format: windows
    match:
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\Windows\whoami.exe'}
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\Windows\hostname.exe'}
    nomatch:
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\x\WHOAMI.EXE'}
`)
	out, err := runRulesCmd(t, "test", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{
		"whoami.tests.yml:5: rule \"Whoami\" did not match an event it must match",
		"whoami.tests.yml:7: rule \"Whoami\" matched an event it must not match",
		"1 passed, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The tests file is not read as a rule file.
	out, err = runRulesCmd(t, "validate", dir)
	if err != nil || !strings.Contains(out, "1 rule, 0 correlation rules and 0 filters loaded\n") {
		t.Errorf("validate: %v\n%s", err, out)
	}
}

func TestRulesValidate(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yml"), []byte(testRule), 0o600)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte("title: b\ndetection:\n  sel:\n    Image|endwith: x\n  condition: sel\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "c.yml"), []byte("title: c\ndetection:\n  sel:\n    User|expand: '%admins%'\n  condition: sel\n"), 0o600)
	out, err := runRulesCmd(t, "validate", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	for _, want := range []string{
		filepath.Join(dir, "b.yml") + `:4:11: unknown modifier "endwith"`,
		filepath.Join(dir, "c.yml") + `:4:18: placeholder %admins% is not defined`,
		"1 rule, 0 correlation rules and 0 filters loaded; 2 rules not loaded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	ph := filepath.Join(dir, "placeholders.yaml.txt")
	os.WriteFile(ph, []byte("admins: [root, 'adm_*']\n"), 0o600)
	out, _ = runRulesCmd(t, "validate", "--rule-placeholders", ph, dir)
	if !strings.Contains(out, "2 rules, 0 correlation rules and 0 filters loaded; 1 rule not loaded") {
		t.Errorf("with placeholders:\n%s", out)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRuleSelectionAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	second := strings.ReplaceAll(strings.ReplaceAll(testRule, "Whoami", "Second"), "0001", "0002")
	write(testRule + "---\n" + strings.ReplaceAll(second, "status: test", "status: deprecated") + "---\n" +
		strings.ReplaceAll(strings.ReplaceAll(second, "Second", "Third"), "0002", "0003"))
	cfg := &Config{Rules: []string{dir}, NoBuiltin: true, RulesDisabled: []string{"33333333-0000-4000-8000-000000000003"}}
	l := newRuleLoader(cfg, quietLog(), 0)
	if !l.refresh() {
		t.Fatal("first refresh saw no change")
	}
	rs, rep := l.build()
	if rep.loaded != 1 || rep.byStatus != 1 || rep.disabled != 1 || len(rep.errs) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rs.Engine.Rules()[0].Title != "Whoami" {
		t.Errorf("loaded %q", rs.Engine.Rules()[0].Title)
	}
	if l.refresh() {
		t.Error("refresh without a change reported one")
	}

	// A broken edit keeps the previous rules and reports the errors.
	write("title: broken\ndetection: [\n")
	bump(t, path)
	if !l.refresh() {
		t.Fatal("edit not seen")
	}
	rs, rep = l.build()
	if rep.loaded != 1 || len(rep.errs) != 1 || !strings.Contains(rep.errs[0].Error(), "r.yml:") {
		t.Fatalf("broken file: %+v", rep)
	}
	// A good edit replaces them.
	write(strings.ReplaceAll(testRule, "whoami.exe", "hostname.exe"))
	bump(t, path)
	l.refresh()
	rs, rep = l.build()
	if rep.loaded != 1 || len(rep.errs) != 0 {
		t.Fatalf("fixed file: %+v", rep)
	}
	ev := &event.Event{Logsource: event.Logsource{Product: "windows", Category: "process_creation"}}
	ev.Fields.Bind(rs.Engine.Dict())
	ev.Fields.SetName([]byte("Image"), `C:\hostname.exe`)
	if len(rs.Engine.Match(ev, nil)) != 1 {
		t.Error("reloaded rule does not match")
	}
	// A swap builds the new engine's routes for the logsources the old
	// one saw, before any event reaches it.
	srv := &server{}
	srv.rules.Store(rs)
	write(strings.ReplaceAll(testRule, "whoami.exe", "hostname2.exe"))
	bump(t, path)
	l.refresh()
	srv.swapRules(l)
	if got := srv.rules.Load(); got == rs || !slices.Contains(got.Engine.Logsources(), ev.Logsource) {
		t.Errorf("after the swap the new engine has routes for %v, want %v", got.Engine.Logsources(), ev.Logsource)
	}
	// A removed file takes its rules along (while the directory holds
	// others: one that holds none keeps its last rules, cli_test.go).
	other := filepath.Join(dir, "other.yml")
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(strings.ReplaceAll(testRule, "Whoami", "Other"), "0001", "0004")), 0o600); err != nil {
		t.Fatal(err)
	}
	l.refresh()
	os.Remove(path)
	if !l.refresh() {
		t.Fatal("removal not seen")
	}
	if rs, rep = l.build(); rep.loaded != 1 || rs.Engine.Rules()[0].Title != "Other" {
		t.Errorf("removed file still loaded: %+v", rep)
	}
}

// bump moves a file's mtime forward: two writes within the file system's
// time granularity would otherwise look alike.
func bump(t *testing.T, path string) {
	t.Helper()
	at := time.Now().Add(time.Duration(time.Now().UnixNano()%1000+1) * time.Second)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestRuleSettings(t *testing.T) {
	dir := t.TempDir()
	tax := filepath.Join(dir, "tax.yml")
	os.WriteFile(tax, []byte("logsources:\n  - rule: {product: acme}\n    events: [{product: acme-fw}]\n"), 0o600)
	ph := filepath.Join(dir, "ph.yml")
	os.WriteFile(ph, []byte("admins: [root]\nsingle: x\n"), 0o600)
	c := &Config{Taxonomy: tax, RulePlaceholders: ph, RuleStatus: []string{"stable,test"},
		Placeholders: map[string]any{"admins": []any{"adm_*"}, "n": 5}}
	if err := c.parseRuleSettings(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.placeholders["admins"], ","); got != "adm_*,root" {
		t.Errorf("admins %q", got)
	}
	if c.placeholders["single"][0] != "x" || c.placeholders["n"][0] != "5" {
		t.Errorf("placeholders %v", c.placeholders)
	}
	if c.taxonomy == nil || len(c.taxonomy.Expand(event.Logsource{Product: "acme"})) != 2 {
		t.Errorf("taxonomy not loaded")
	}
	for _, bad := range []*Config{
		{RuleStatus: []string{"stabel"}},
		{Taxonomy: filepath.Join(dir, "missing.yml")},
		{Placeholders: map[string]any{"x": map[string]any{"a": 1}}},
	} {
		if err := bad.parseRuleSettings(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestRulesTestLearn: a case's learn events train the baselines each of
// its events is judged against, and only those (not the case's other
// events): a principal learnt is known, one in a match event is not.
func TestRulesTestLearn(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p.yml", `title: New principal
logsource: {category: database}
detection:
  s: {baseline.first_seen: sql.principal}
  condition: s
`)
	login := func(user string) string {
		return `{event_time: "2026-12-06T10:00:00.0000000", action_id: LGIS, succeeded: true, server_instance_name: db1, client_ip: 10.0.0.5, server_principal_name: ` + user + `}`
	}
	write("p.tests.yml", "tests:\n  - format: mssql-audit\n    learn:\n      - "+login("webapp")+`
    match:
      - `+login("mallory")+`
      - `+login("webapp")+`
    nomatch:
      - `+login("webapp")+`
      - `+login("mallory")+`
`)
	out, err := runRulesCmd(t, "test", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{
		"p.tests.yml:7: rule \"New principal\" did not match an event it must match",
		"p.tests.yml:10: rule \"New principal\" matched an event it must not match",
		"2 passed, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The built-in rules leave the .tests.yml files out (loadBuiltin): they
// must hold test cases only, or a rule written in one would be lost.
func TestBuiltinTestsFilesHoldNoRules(t *testing.T) {
	names, err := fs.Glob(content.Rules, "rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := 0
	for _, n := range names {
		if !isTestsFile(n) {
			continue
		}
		tests++
		data, err := content.Rules.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		s, errs := (*rule.Options)(nil).ParseSet(n, data)
		if len(s.Rules)+len(s.Correlations)+len(s.Filters)+len(errs) != 0 {
			t.Errorf("%s: %d rules, %d correlations, %d filters, %d errors: a tests file must hold only tests",
				n, len(s.Rules), len(s.Correlations), len(s.Filters), len(errs))
		}
	}
	if tests == 0 {
		t.Fatal("no built-in tests files found")
	}
}

// The built-in rules on site lists load only where the site has set the
// list: without it they are left out, without an error, and named once in
// the start's log; with it they run. A user's rule on an unset placeholder
// stays an error.
func TestBuiltinSiteListRules(t *testing.T) {
	const blocked = "AWS Role on the Site's Blocked List Assumed"
	loaded := func(placeholders map[string][]string, rulesDir string) (titles []string, rep ruleReport, log string) {
		var buf bytes.Buffer
		cfg := &Config{placeholders: placeholders}
		if rulesDir != "" {
			cfg.Rules = []string{rulesDir}
		}
		l := newRuleLoader(cfg, slog.New(slog.NewTextHandler(&buf, nil)), 0)
		l.refresh()
		rs, rep := l.build()
		for _, r := range rs.Engine.Rules() {
			titles = append(titles, r.Title)
		}
		return titles, rep, buf.String()
	}
	titles, rep, log := loaded(nil, "")
	if slices.Contains(titles, blocked) || len(rep.errs) != 0 {
		t.Errorf("without the list: %q loaded %v, errors %v", blocked, slices.Contains(titles, blocked), rep.errs)
	}
	if strings.Count(log, "built-in rules not loaded") != 1 || !strings.Contains(log, "aws_blocked_role_names") || !strings.Contains(log, "Blocked List Assumed") {
		t.Errorf("start log does not name the rules waiting for lists once:\n%s", log)
	}
	titles, rep, log = loaded(map[string][]string{"aws_blocked_role_names": {"BreakGlassAdmin"}}, "")
	if !slices.Contains(titles, blocked) || len(rep.errs) != 0 {
		t.Errorf("with the list: %q loaded %v, errors %v", blocked, slices.Contains(titles, blocked), rep.errs)
	}
	if strings.Contains(log, "aws_blocked_role_names") {
		t.Errorf("a set list is still reported missing:\n%s", log)
	}
	// A rule of the site's own on a list nobody set is an error, as before.
	dir := t.TempDir()
	own := strings.ReplaceAll(testRule, `Image|endswith: '\whoami.exe'`, `Image|expand: '%my_tools%'`)
	if err := os.WriteFile(filepath.Join(dir, "own.yml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	_, rep, _ = loaded(nil, dir)
	if len(rep.errs) != 1 || !strings.Contains(rep.errs[0].Error(), "placeholder %my_tools% is not defined") {
		t.Errorf("own rule on an unset placeholder: errors %v", rep.errs)
	}
}

// A tests file states the placeholders its cases are written for;
// --rule-placeholders wins for the names it sets.
func TestRulesTestPlaceholders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rf := write("r.yml", strings.ReplaceAll(testRule, `Image|endswith: '\whoami.exe'`, `Image|expand|endswith: '%tools%'`))
	write("r.tests.yml", `placeholders:
  tools: ['\whoami.exe']
tests:
  - format: windows
    match:
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\Temp\whoami.exe'}
    nomatch:
      - {EventID: 1, Channel: Microsoft-Windows-Sysmon/Operational, Image: 'C:\Temp\hostname.exe'}
`)
	out, err := runRulesCmd(t, "test", rf)
	if err != nil || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("with the tests file's placeholders: %v\n%s", err, out)
	}
	// The command line's value replaces the file's: the cases now fail.
	ph := write("ph.yml", "tools: ['\\hostname.exe']\n")
	out, err = runRulesCmd(t, "test", "--rule-placeholders", ph, rf)
	if err == nil || !strings.Contains(out, "0 passed, 2 failed") {
		t.Errorf("--rule-placeholders did not win: %v\n%s", err, out)
	}
}
