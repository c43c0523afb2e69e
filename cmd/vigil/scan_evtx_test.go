package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/evtx"
)

// TestScanEVTXSameAsJSON scans .evtx samples and their JSON renderings
// (one evtx_dump record a line, decoded as format windows) with SigmaHQ's
// Windows rules: the same rules fire the same number of times, and the
// SigmaHQ rules named fire at all.
func TestScanEVTXSameAsJSON(t *testing.T) {
	rules := sharedData(t, "sigma/rules/windows")
	for _, tc := range []struct {
		file string
		must []string // rule titles that must fire
	}{
		{"new-user-security.evtx", []string{"Local User Creation"}},     // win_security_user_creation.yml
		{"sysmon.evtx", []string{"Sysmon Configuration Change"}},        // sysmon_config_modification.yml
		{"system.evtx", []string{"Important Windows Eventlog Cleared"}}, // win_system_eventlog_cleared.yml
		{"Security_with_size_t.evtx", []string{"Unauthorized System Time Modification"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := sharedData(t, "events/evtx_samples/"+tc.file)
			jsonl := filepath.Join(t.TempDir(), "records.jsonl")
			renderJSONLines(t, file, jsonl)
			fromEVTX := scanTitles(t, rules, file)
			fromJSON := scanTitles(t, rules, jsonl)
			if fromEVTX != fromJSON {
				t.Errorf("alerts differ\n.evtx: %s\n JSON: %s", fromEVTX, fromJSON)
			}
			for _, m := range tc.must {
				if !strings.Contains(fromEVTX, m+"=") {
					t.Errorf("rule %q did not fire on %s: %s", m, tc.file, fromEVTX)
				}
			}
		})
	}
}

// renderJSONLines writes the records of the .evtx file in to out, one
// JSON record a line.
func renderJSONLines(t *testing.T, in, out string) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := evtx.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var p *evtx.Problem
		if errors.As(err, &p) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Write(r.JSON)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scanTitles scans file with the rules only, and lists the alerts' rule
// titles with their counts, sorted.
func scanTitles(t *testing.T, rules, file string) string {
	t.Helper()
	cmd := exec.Command(vigilBin, "scan", "--no-builtin-rules", "--rules", rules, "-o", "json", file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scan %s: %v", file, err)
	}
	var alerts []apiAlert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, a := range alerts {
		counts[a.Rule.Title] += a.Count
	}
	var s []string
	for k, v := range counts {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return strings.Join(s, "; ")
}
