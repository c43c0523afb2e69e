package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanSuppress: with --suppress, the alerts about an allow-listed
// network are gone and counted, the others stay; a bad file stops the scan.
func TestScanSuppress(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "auth.log")
	var lines []string
	for i, ip := range []string{"198.51.100.7", "198.51.100.8", "203.0.113.9"} {
		lines = append(lines, fmt.Sprintf("Dec  6 10:00:%02d web1 sshd[1]: Invalid user admin%d from %s port 22", i, i, ip))
	}
	writeFile(t, logf, strings.Join(lines, "\n")+"\n")
	alertIPs := func(args ...string) (map[string]bool, string) {
		t.Helper()
		out, errOut, code := runVigil(t, append([]string{"scan", "--format", "sshd", "-o", "json", "--progress=false"}, append(args, logf)...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		var alerts []struct {
			Entities []struct{ Type, Value string }
		}
		if err := json.Unmarshal([]byte(out), &alerts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		ips := map[string]bool{}
		for _, a := range alerts {
			for _, e := range a.Entities {
				if e.Type == "ip" {
					ips[e.Value] = true
				}
			}
		}
		return ips, errOut
	}
	before, _ := alertIPs()
	if !before["198.51.100.7"] || !before["203.0.113.9"] {
		t.Fatalf("without suppressions, alerts on %v; want all three addresses", before)
	}
	sup := filepath.Join(dir, "noise.yml")
	writeFile(t, sup, "suppressions:\n  - cidr: 198.51.100.0/24\n    reason: our scanner\n  - cidr: 192.0.2.0/24\n    reason: unused\n    expires: 2020-01-01\n")
	after, errOut := alertIPs("--suppress", sup)
	if after["198.51.100.7"] || after["198.51.100.8"] || !after["203.0.113.9"] {
		t.Errorf("with the network suppressed, alerts on %v; want 203.0.113.9 only", after)
	}
	if !strings.Contains(errOut, "suppressed ") || !strings.Contains(errOut, sup+"#1 ") {
		t.Errorf("stderr does not count the suppressed signals:\n%s", errOut)
	}
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "suppressions:\n  - cidr: 198.51.100.0/24\n")
	_, errOut, code := runVigil(t, "scan", "--format", "sshd", "--progress=false", "--suppress", bad, logf)
	if code == 0 || !strings.Contains(errOut, "reason is required") {
		t.Errorf("a file without reason: exit %d\n%s", code, errOut)
	}
}
