package main

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestScanInvalidUserOncePerAttempt scans the loghub OpenSSH sample, whose
// OpenSSH logs each request for a user that does not exist twice: "Invalid
// user U from IP" (the monitor) and "input_userauth_request: invalid user
// U [preauth]" (the unprivileged child, without the address). Each attempt
// must be one signal of the nonexistent-user rule, with its address: the
// alerts (one a host, account and address) count exactly the "Invalid
// user" lines, and every one names the source IP.
func TestScanInvalidUserOncePerAttempt(t *testing.T) {
	log := sharedData(t, "ssh_auth/loghub_openssh/OpenSSH_2k.log")
	out, err := exec.Command(vigilBin, "scan", "-o", "json", log).Output()
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	var alerts []apiAlert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, log)
	attempt := regexp.MustCompile(`sshd\[\d+\]: Invalid user (.*) from (\S+)$`)
	attempts, pairs := 0, map[string]bool{}
	for _, l := range lines {
		if m := attempt.FindStringSubmatch(l); m != nil {
			attempts++
			pairs[m[1]+"|"+m[2]] = true
		}
	}
	if attempts == 0 {
		t.Fatal("no Invalid user line in the sample")
	}
	signals, n := 0, 0
	for _, a := range alerts {
		if a.Rule.Title != "SSH Login Attempt for a Nonexistent User" {
			continue
		}
		n++
		signals += a.Count
		ip := ""
		for _, e := range a.Entities {
			if e.Type == "ip" {
				ip = e.Value
			}
		}
		if ip == "" {
			t.Errorf("alert %s has no source address: %+v", a.ID, a.Entities)
		}
		for _, e := range a.Evidence {
			if l := lines[e.Line-1]; !attempt.MatchString(l) || !strings.HasSuffix(l, " from "+ip) {
				t.Errorf("alert for %s: evidence line %d %q is not an attempt from it", ip, e.Line, l)
			}
		}
	}
	t.Logf("%d attempts from %d user/address pairs; %d alerts with %d signals", attempts, len(pairs), n, signals)
	if signals != attempts || n != len(pairs) {
		t.Errorf("%d alerts with %d signals, want %d alerts (one a user and address) with %d signals (one an attempt)", n, signals, len(pairs), attempts)
	}
}
