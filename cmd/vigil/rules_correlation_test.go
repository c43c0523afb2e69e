package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const decayTestRules = `title: Logon failed
name: fail
logsource: {product: windows}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: Slow guessing
correlation:
  type: decayed_count
  rules: [fail]
  group-by: [TargetUserName]
  half-life: 1h
  condition:
    gte: 3
`

func failAt(user, hhmm string) string {
	return `{EventID: 4625, Channel: Security, TargetUserName: ` + user + `, TimeCreated: "2026-03-04T` + hhmm + `:00Z"}`
}

// A correlation test case feeds each sequence in order through the file's
// rules and a fresh correlator; a sequence under fires must make the named
// correlation alert, one under quiet must not, and failures name the
// sequence's line.
func TestRulesTestCorrelationSequences(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("slow.yml", decayTestRules)
	seq := func(evs ...string) string {
		return "      - - " + strings.Join(evs, "\n        - ") + "\n"
	}
	// Sequence lines: fires at 5 and 8, quiet at 12 and 15.
	// Scores: ≈ 2.8 (does not alert); 3 (alerts); 1 for each of three
	// users (quiet); ≈ 3.95, four in two minutes (alerts).
	write("slow.tests.yml", "tests:\n  - format: windows\n    correlation: Slow guessing\n    fires:\n"+
		seq(failAt("a", "10:00"), failAt("a", "10:10"), failAt("a", "10:20"))+
		seq(failAt("a", "10:00"), failAt("a", "10:00"), failAt("a", "10:00"))+
		"    quiet:\n"+
		seq(failAt("a", "10:00"), failAt("b", "10:00"), failAt("c", "10:00"))+
		seq(failAt("a", "10:00"), failAt("a", "10:01"), failAt("a", "10:02"), failAt("a", "10:02")))
	out, err := runRulesCmd(t, "test", dir)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{
		`slow.tests.yml:5: correlation "Slow guessing" did not alert on a sequence that must make it alert`,
		`slow.tests.yml:15: correlation "Slow guessing" alerted on a sequence that must not make it alert`,
		"2 passed, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	write("slow.tests.yml", "tests:\n  - format: windows\n    correlation: nosuch\n    fires:\n"+seq(failAt("a", "10:00")))
	if out, _ := runRulesCmd(t, "test", dir); !strings.Contains(out, `slow.tests.yml:2: correlation "nosuch" is not in`) {
		t.Errorf("unknown correlation: %s", out)
	}
	write("slow.tests.yml", "tests:\n  - format: windows\n    fires:\n"+seq(failAt("a", "10:00")))
	if out, _ := runRulesCmd(t, "test", dir); !strings.Contains(out, "fires and quiet need correlation") {
		t.Errorf("fires without correlation: %s", out)
	}
}
