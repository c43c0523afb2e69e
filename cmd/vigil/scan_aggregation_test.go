package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanAggregation: scan gathers a rule's alerts by its aggregation's
// fields and splits them past its window, as the store does.
func TestScanAggregation(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "agg.yml")
	writeFile(t, rules, `title: bad action
id: 7d1f0c52-1111-4000-8000-000000000001
level: low
aggregation: {window: 10m, by: [client]}
detection:
  sel: {action: bad}
  condition: sel
`)
	logf := filepath.Join(dir, "app.json")
	var lines []string
	for _, r := range []struct{ at, client, user string }{
		{"10:00", "c1", "ann"}, {"10:05", "c1", "bob"}, {"10:30", "c1", "ann"}, {"10:01", "c2", "ann"},
	} {
		lines = append(lines, fmt.Sprintf(`{"@timestamp":"2026-01-02T%s:00Z","action":"bad","client":%q,"user":%q}`, r.at, r.client, r.user))
	}
	writeFile(t, logf, strings.Join(lines, "\n")+"\n")
	out, errOut, code := runVigil(t, "scan", "--no-builtin-rules", "--rules", rules, "--format", "json", "-o", "json", "--progress=false", logf)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var alerts []struct {
		Count    int    `json:"count"`
		DedupKey string `json:"dedup_key"`
	}
	if err := json.Unmarshal([]byte(out), &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, a := range alerts {
		got = append(got, fmt.Sprintf("%s:%d", a.DedupKey[strings.LastIndex(a.DedupKey, "=")+1:], a.Count))
	}
	slices.Sort(got)
	// c1: 10:00 and 10:05 in one alert, 10:30 (25 minutes on) in a new
	// one; c2 its own, whatever the user.
	if want := "c1:1,c1:2,c2:1"; strings.Join(got, ",") != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}
