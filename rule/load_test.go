package rule

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const fullRule = `title: Suspicious Whoami
id: 7b0f9c1e-0000-4000-8000-000000000001
status: test
description: Detects whoami run by an unusual parent.
author: vigil tests
date: 2026-01-02
modified: 2026-02-03
references:
    - https://example.org/a---b
tags:
    - attack.discovery
    - attack.t1033
    - attack.credential_access
    - attack.t1059.001
    - attack.g0007
    - cve.2021-1234
logsource:
    product: Windows
    category: process_creation
    definition: ignored
detection:
    selection_img:
        - Image|endswith: '\whoami.exe'
        - OriginalFileName: 'whoami.exe'
    selection_parent:
        ParentImage|contains|all:
            - 'Temp'
            - 'x'
        EventID: 1
    keywords:
        - 'evil'
        - 'bad*thing'
    filter:
        User: null
    condition: all of selection_* and not filter or keywords
fields:
    - CommandLine
falsepositives:
    - Admins
level: high
`

func parseOne(t *testing.T, src string) *Rule {
	t.Helper()
	rules, errs := Parse("r.yml", []byte(src))
	for _, err := range errs {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(rules))
	}
	return rules[0]
}

func TestParseFullRule(t *testing.T) {
	r := parseOne(t, fullRule)
	if r.Title != "Suspicious Whoami" || r.ID != "7b0f9c1e-0000-4000-8000-000000000001" || r.Status != "test" ||
		r.Author != "vigil tests" || r.Date != "2026-01-02" || r.Modified != "2026-02-03" || r.Level != "high" ||
		!strings.HasPrefix(r.Description, "Detects whoami") {
		t.Errorf("metadata: %+v", r)
	}
	if r.File != "r.yml" || r.Line != 1 {
		t.Errorf("place %s:%d", r.File, r.Line)
	}
	if len(r.References) != 1 || len(r.Fields) != 1 || len(r.FalsePositives) != 1 || len(r.Tags) != 6 {
		t.Errorf("lists: %q %q %q %q", r.References, r.Fields, r.FalsePositives, r.Tags)
	}
	if r.Logsource.Product != "windows" || r.Logsource.Category != "process_creation" || r.Logsource.Service != "" {
		t.Errorf("logsource %+v (product is lowered)", r.Logsource)
	}
	if got := strings.Join(r.Tactics(), ","); got != "discovery,credential-access" {
		t.Errorf("tactics %s", got)
	}
	if got := strings.Join(r.Techniques(), ","); got != "T1033,T1059.001" {
		t.Errorf("techniques %s", got)
	}
	d := r.Detection
	if len(d.Searches) != 4 {
		t.Fatalf("searches: %d", len(d.Searches))
	}
	img := d.Search("selection_img")
	if len(img.Groups) != 2 || img.Groups[0][0].Field != "Image" || img.Groups[0][0].Values[0].Patterns[0].String() != `*\\whoami.exe` {
		t.Errorf("selection_img: %+v", img.Groups)
	}
	if img.Pos != (Pos{22, 5}) {
		t.Errorf("selection_img at %v", img.Pos)
	}
	par := d.Search("selection_parent").Groups[0]
	if len(par) != 2 || !par[0].All || len(par[0].Values) != 2 || par[0].Values[0].Patterns[0].String() != "*temp*" {
		t.Errorf("selection_parent: %+v", par[0])
	}
	if par[1].Values[0].Raw != "1" {
		t.Errorf("numbers keep their text: %q", par[1].Values[0].Raw)
	}
	kw := d.Search("keywords").Groups[0][0]
	if kw.Field != "" || len(kw.Values) != 2 || kw.Values[1].Patterns[0].String() != "*bad*thing*" {
		t.Errorf("keywords: %+v", kw)
	}
	if f := d.Search("filter").Groups[0][0]; f.Op != OpNull {
		t.Errorf("filter op %v", f.Op)
	}
	if got := d.Condition.String(); got != "((all of selection_* and not filter) or keywords)" {
		t.Errorf("condition %s", got)
	}
}

func TestModifierAST(t *testing.T) {
	cases := []struct {
		sel   string
		op    Op
		check func(*Matcher) bool
	}{
		{"F|startswith: Ab", OpMatch, func(m *Matcher) bool { return m.Values[0].Patterns[0].String() == "ab*" }},
		{"F|cased|endswith: Ab", OpMatch, func(m *Matcher) bool { return m.Cased && m.Values[0].Patterns[0].String() == "*Ab" }},
		{"F|windash|contains: ' -a '", OpMatch, func(m *Matcher) bool { return len(m.Values[0].Patterns) == 5 }},
		{"F|contains|windash: ' -a /b'", OpMatch, func(m *Matcher) bool { return len(m.Values[0].Patterns) == 25 }},
		{"F|re|i|m: '^a'", OpRegexp, func(m *Matcher) bool { return m.Values[0].Regexp.String() == "(?im)^a" }},
		{"F|cidr: 10.1.2.3/8", OpCIDR, func(m *Matcher) bool { return m.Values[0].Prefix.String() == "10.0.0.0/8" }},
		{"F|gte: 2.5", OpGTE, func(m *Matcher) bool { return m.Values[0].Number == 2.5 }},
		{"F|exists: false", OpExists, func(m *Matcher) bool { return !m.Values[0].Exists }},
		{"F|neq: x", OpMatch, func(m *Matcher) bool { return m.Neq }},
		{"F: ~", OpNull, func(m *Matcher) bool { return true }},
		{"'|all': [a, b]", OpMatch, func(m *Matcher) bool { return m.Field == "" && m.All && m.Values[0].Patterns[0].String() == "*a*" }},
	}
	for _, c := range cases {
		r := parseOne(t, "title: t\ndetection:\n  s:\n    "+c.sel+"\n  condition: s\n")
		m := r.Detection.Searches[0].Groups[0][0]
		if m.Op != c.op || !c.check(m) {
			t.Errorf("%s: got %+v", c.sel, m)
		}
	}
}

// errorAt parses src and wants exactly one error at line:col mentioning
// reason.
func errorAt(t *testing.T, src string, line, col int, reason string) {
	t.Helper()
	_, errs := Parse("bad.yml", []byte(src))
	if len(errs) != 1 {
		t.Fatalf("got errors %v, want one", errs)
	}
	var e *Error
	if !errors.As(errs[0], &e) {
		t.Fatalf("error %T is not a *rule.Error", errs[0])
	}
	if e.File != "bad.yml" || e.Line != line || e.Col != col || !strings.Contains(e.Reason, reason) {
		t.Errorf("got %q, want bad.yml:%d:%d: …%s…", e.Error(), line, col, reason)
	}
	if want := fmt.Sprintf("bad.yml:%d:%d: ", line, col); line > 0 && col > 0 && !strings.HasPrefix(e.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", e.Error(), want)
	}
}

func TestErrorPositions(t *testing.T) {
	t.Run("broken YAML", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  s: [a, b\n  condition: s\n", 4, 12, "YAML")
	})
	t.Run("unknown modifier", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    Image|endswith|bogus: x\n  condition: sel\n", 4, 20, `unknown modifier "bogus"`)
	})
	t.Run("unknown modifier in a quoted key", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    'Image|bogus': x\n  condition: sel\n", 4, 12, `unknown modifier "bogus"`)
	})
	t.Run("base64offset without contains", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    CommandLine|base64offset: x\n  condition: sel\n", 4, 5, `'base64offset' needs 'contains'`)
	})
	t.Run("undefined placeholder", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    User|expand: '%admins%'\n  condition: sel\n", 4, 18, `placeholder %admins% is not defined`)
	})
	t.Run("bad condition reference", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  condition: sel and not filter\n", 5, 26, `unknown search identifier "filter"`)
	})
	t.Run("bad condition reference, quoted", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  condition: 'sel or nope'\n", 5, 22, `unknown search identifier "nope"`)
	})
	t.Run("condition in a block", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  condition: |\n    sel and\n    nope\n", 7, 0, `unknown search identifier "nope"`)
	})
	t.Run("bad regexp", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|re: 'a(b'\n  condition: sel\n", 4, 11, "bad regular expression")
	})
	t.Run("bad cidr", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|cidr: [10.0.0.0/8, 300.1.1.1/8]\n  condition: sel\n", 4, 26, "bad CIDR")
	})
	t.Run("lt needs a number", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|lt: ten\n  condition: sel\n", 4, 11, `needs a number`)
	})
	t.Run("missing title", func(t *testing.T) {
		errorAt(t, "detection:\n  sel:\n    A: x\n  condition: sel\n", 1, 1, "no title")
	})
	t.Run("missing condition", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n", 2, 1, "no condition")
	})
	t.Run("missing detection", func(t *testing.T) {
		errorAt(t, "title: t\nlogsource: {product: x}\n", 1, 1, "no detection")
	})
	t.Run("duplicate search", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  sel:\n    B: y\n  condition: sel\n", 5, 3, `duplicate key "sel"`)
	})
	t.Run("null in a list", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: ['', null]\n  condition: sel\n", 4, 13, "null cannot be part of a list")
	})
	t.Run("all with one value", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|contains|all: x\n  condition: sel\n", 4, 5, "at least two values")
	})
	t.Run("conflicting modifiers", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|contains|startswith: x\n  condition: sel\n", 4, 16, `"startswith" cannot follow "contains"`)
	})
	t.Run("re flag without re", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A|contains|i: x\n  condition: sel\n", 4, 16, "only after 're'")
	})
	t.Run("nested map value", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A:\n      B: x\n  condition: sel\n", 5, 7, `value of "A"`)
	})
	t.Run("search as a scalar", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel: x\n  condition: sel\n", 3, 8, `search "sel" must be`)
	})
	t.Run("bad level", func(t *testing.T) {
		errorAt(t, "title: t\nlevel: severe\ndetection:\n  sel:\n    A: x\n  condition: sel\n", 2, 8, `level "severe"`)
	})
	t.Run("correlation rule", func(t *testing.T) {
		errorAt(t, "title: many\ncorrelation:\n  type: event_count\n  rules: [x]\n", 2, 1, `correlation has no "timespan"`)
	})
	t.Run("filter rule", func(t *testing.T) {
		errorAt(t, "title: f\nlogsource: {product: windows}\nfilter:\n  rules: [x]\n  selection:\n    User: a\n  condition: not selection\n", 4, 11, `filter "f": no loaded rule has the id or name "x"`)
	})
	t.Run("aggregation", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  condition: sel | count() > 5\n", 5, 18, "aggregations")
	})
	t.Run("timeframe", func(t *testing.T) {
		errorAt(t, "title: t\ndetection:\n  sel:\n    A: x\n  timeframe: 5m\n  condition: sel\n", 5, 3, "timeframe")
	})
}

func TestMultiDocument(t *testing.T) {
	src := `---
title: one
references: ['https://x.org/a---b']
detection: {s: {A: 1}, condition: s}
---
---
title: two has a bad modifier
detection: {s: {A|nope: 1}, condition: s}
---
# only a comment
---
title: three
detection: {s: {A: 3}, condition: s}
`
	rules, errs := Parse("multi.yml", []byte(src))
	if len(rules) != 2 || rules[0].Title != "one" || rules[1].Title != "three" {
		t.Fatalf("rules %v", rules)
	}
	if rules[1].Line != 12 {
		t.Errorf("third rule at line %d, want 12", rules[1].Line)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "multi.yml:8:") {
		t.Errorf("errors %v", errs)
	}
}

func TestDerivedID(t *testing.T) {
	a := parseOne(t, "title: no id\ndetection: {s: {A: 1}, condition: s}\n")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a.ID) {
		t.Errorf("derived id %q is not a version 8 UUID", a.ID)
	}
	if b := DerivedID("/elsewhere/r.yml", "no id"); b != a.ID {
		t.Errorf("id depends on the directory: %s vs %s", a.ID, b)
	}
	if c := DerivedID("r.yml", "other title"); c == a.ID {
		t.Error("id does not depend on the title")
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yml", "title: b\ndetection: {s: {A: 1}, condition: s}\n")
	write("a/z.yaml", "title: az\ndetection: {s: {A: 1}, condition: s}\n")
	write("a/broken.yml", "title: [\n")
	write("c.txt", "title: not a rule file\n")
	write(".git/x.yml", "title: hidden\ndetection: {s: {A: 1}, condition: s}\n")
	rules, errs := Load(dir, filepath.Join(dir, "missing"))
	var titles []string
	for _, r := range rules {
		titles = append(titles, r.Title)
	}
	if strings.Join(titles, ",") != "az,b" {
		t.Errorf("loaded %v, want az,b in path order", titles)
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "broken.yml:2:1:") || !strings.Contains(errs[1].Error(), "missing") {
		t.Errorf("errors %v", errs)
	}
}

// TestSigmaHQ loads every SigmaHQ rule and reports what is not supported
// yet, grouped by reason.
func TestSigmaHQ(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "sigma")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SigmaHQ rules not found at %s: %v", dir, err)
	}
	rules, errs := Load(dir)
	reasons := map[string]int{}
	for _, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T is not a *rule.Error: %v", err, err)
		}
		if e.Line == 0 {
			t.Errorf("error without a line: %v", e)
		}
		reasons[e.Reason]++
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	t.Logf("SigmaHQ: %d rules loaded, %d rejected", len(rules), len(errs))
	for _, k := range keys {
		t.Logf("%5d  %s", reasons[k], k)
	}
	// Every rule of the Sigma 2.1 language loads; only rules whose
	// placeholders no configuration defines (expand) are rejected.
	for _, err := range errs {
		var e *Error
		errors.As(err, &e)
		if !undefinedPlaceholder.MatchString(e.Reason) {
			t.Errorf("rejected for another reason than an undefined placeholder: %v", err)
		}
	}
	if total := len(rules) + len(errs); total < 3780 {
		t.Errorf("only %d rule documents found, want the 3,780 of the SigmaHQ set", total)
	}
}

var undefinedPlaceholder = regexp.MustCompile(`^placeholder %[^%]+% is not defined`)

func FuzzParse(f *testing.F) {
	f.Add([]byte(fullRule))
	f.Add([]byte("title: t\ndetection:\n  s: [a, b]\n  condition: 1 of them\n---\ntitle: u\n"))
	f.Add([]byte("title: t\ndetection:\n  s:\n    A|re|i: '(?P<x>a)'\n    B|cidr: ::1/128\n    C|windash|contains: -a-b-c-d\n  condition: [s, not s]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("title: t\ndetection:\n  s:\n    A|wide|base64offset|contains: x\n    B|hour|gte: 3\n    C|fieldref|neq: D\n    E|utf16be|base64: '\\*'\n  condition: all of s*\n"))
	f.Add([]byte("title: f\nlogsource: {product: w}\nfilter:\n  rules: [a]\n  s: {U|expand: '%x%'}\n  condition: s\n---\ntitle: r\nid: a\nlogsource: {product: w}\ndetection: {s: {A: 1}, condition: s}\n"))
	f.Add([]byte("tests:\n  - format: windows\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := Parse("f.yml", data)
		for _, err := range errs {
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yml" || e.Reason == "" {
				t.Fatalf("bad error %#v", err)
			}
		}
		for _, r := range rules {
			if r.Title == "" || r.ID == "" || r.Detection == nil || r.Detection.Condition == nil {
				t.Fatalf("incomplete rule %+v", r)
			}
		}
	})
}

// TestLoadErrorsNameThePathOnce: a path that cannot be read is named once,
// by the Error, not again by the operating system's message.
func TestLoadErrorsNameThePathOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-rules")
	_, errs := (&Options{}).LoadSet(missing)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	msg := errs[0].Error()
	if strings.Count(msg, missing) != 1 || !strings.Contains(msg, "no such file or directory") {
		t.Errorf("error %q: want the path once and the reason", msg)
	}
	_, errs = ParseFileSet(missing + ".yml")
	if len(errs) != 1 || strings.Count(errs[0].Error(), missing) != 1 {
		t.Errorf("errors %v: want the file named once", errs)
	}
}
