package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
)

// The specification's example shape: several failed logons (a correlation)
// followed by a successful one for the same account, written for this test.
const scanCorrelationRules = `title: Failed logons then success
id: 22222222-0000-4000-8000-000000000001
level: high
correlation:
  type: temporal_ordered
  rules: [many_failed_logons, logon_success]
  group-by: [TargetUserName]
  timespan: 10m
---
title: Many failed logons
id: 22222222-0000-4000-8000-000000000002
name: many_failed_logons
correlation:
  type: event_count
  rules: [logon_failed]
  group-by: [TargetUserName]
  timespan: 10m
  condition:
    gte: 5
---
title: Logon failed
id: 22222222-0000-4000-8000-000000000003
name: logon_failed
logsource:
  product: windows
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Logon success
id: 22222222-0000-4000-8000-000000000004
name: logon_success
logsource:
  product: windows
detection:
  sel:
    EventID: 4624
  condition: sel
`

func winLogon(id, minute int, user string) string {
	return fmt.Sprintf(`{"EventID":%d,"Channel":"Security","Computer":"dc1","TargetUserName":%q,"TimeCreated":"2026-03-04T10:%02d:00Z"}`, id, user, minute)
}

// TestScanCorrelationAcrossInterleavedFiles scans two files whose events
// interleave in time: the failures alternate between them and the success
// is in the first file, before (in the file) the failures of the second.
// Only merging by event time sees five failures and then the success.
func TestScanCorrelationAcrossInterleavedFiles(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "mr_failed_then_success.yml")
	a := filepath.Join(dir, "dc1.jsonl")
	b := filepath.Join(dir, "dc2.jsonl")
	write := func(path string, lines ...string) {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(rules, scanCorrelationRules)
	write(a, winLogon(4625, 0, "alice"), winLogon(4625, 2, "alice"), winLogon(4625, 4, "alice"), winLogon(4624, 6, "alice"), winLogon(4625, 1, "bob"))
	write(b, winLogon(4625, 1, "alice"), winLogon(4625, 3, "alice"), winLogon(4624, 5, "bob"))

	out, err := exec.Command(vigilBin, "scan", "--no-builtin-rules", "--rules", rules, "--format", "windows", "-o", "json", a, b).Output()
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	var alerts []alert.Alert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(alerts) != 1 {
		t.Fatalf("want only the correlation alert (base rules and the inner correlation raise none), got %d:\n%s", len(alerts), out)
	}
	al := alerts[0]
	if al.Type != "correlation" || al.Rule.Title != "Failed logons then success" || al.Severity != alert.High {
		t.Fatalf("alert %+v", al)
	}
	if len(al.Entities) != 1 || al.Entities[0] != (alert.Entity{Type: "account", Value: "alice"}) {
		t.Fatalf("entities %+v", al.Entities)
	}
	var got []string
	for _, e := range al.Evidence {
		got = append(got, fmt.Sprintf("%s:%d", filepath.Base(e.File), e.Line))
	}
	want := "dc1.jsonl:1 dc2.jsonl:1 dc1.jsonl:2 dc2.jsonl:2 dc1.jsonl:3 dc1.jsonl:4"
	if strings.Join(got, " ") != want {
		t.Fatalf("evidence %v, want %s", got, want)
	}

	table, err := exec.Command(vigilBin, "scan", "--no-builtin-rules", "--rules", rules, "--format", "windows", a, b).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(table), "dc1.jsonl:1, ") || !strings.Contains(string(table), "dc1.jsonl:4") {
		t.Fatalf("the table does not list the contributing events:\n%s", table)
	}
}

// TestScanSameOnEveryCore: a scan on several cores, whose chunks are
// processed in parallel, gives the alerts, evidence and correlations of a
// scan on one.
func TestScanSameOnEveryCore(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(scanCorrelationRules), 0o644); err != nil {
		t.Fatal(err)
	}
	var files []string
	for f := range 2 {
		var lines []string
		for i := range 5000 { // five chunks a file
			user := fmt.Sprintf("user%d", (i*7+f)%13)
			id := 4625
			if i%9 == 0 {
				id = 4624
			}
			lines = append(lines, winLogon(id, (i+f)/100, user))
		}
		path := filepath.Join(dir, fmt.Sprintf("dc%d.jsonl", f))
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	scan := func(procs string) string {
		cmd := exec.Command(vigilBin, append([]string{"scan", "--no-builtin-rules", "--rules", rules, "--format", "windows", "-o", "ndjson"}, files...)...)
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scan on %s cores: %v", procs, err)
		}
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var a alert.Alert
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %d %v", a.Rule.Title, a.Severity, a.Count, a.Entities)
			for _, e := range a.Evidence {
				fmt.Fprintf(&b, " %s:%d", filepath.Base(e.File), e.Line)
			}
			b.WriteByte('\n')
		}
		return b.String()
	}
	one, four := scan("1"), scan("4")
	if one != four {
		t.Errorf("one core:\n%s\nfour cores:\n%s", one, four)
	}
	if !strings.Contains(one, "Failed logons then success") {
		t.Errorf("no correlation alert:\n%s", one)
	}
}
