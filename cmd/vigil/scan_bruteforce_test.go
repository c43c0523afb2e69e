package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// scanAlertsByIP runs vigil scan (built-in rules) over files and returns,
// per source address, the alerts that name it as an entity.
func scanAlertsByIP(t *testing.T, args ...string) map[string][]alert.Alert {
	t.Helper()
	out, err := exec.Command(vigilBin, append([]string{"scan", "-o", "json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("scan %v: %v\n%s", args, err, out)
	}
	var alerts []alert.Alert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	by := map[string][]alert.Alert{}
	for _, a := range alerts {
		for _, e := range a.Entities {
			if e.Type == "ip" {
				by[e.Value] = append(by[e.Value], a)
			}
		}
	}
	return by
}

// bruteForce reports whether an alert is of the brute-force family
// (ATT&CK T1110 or a sub-technique).
func bruteForce(a alert.Alert) bool {
	return slices.ContainsFunc(a.Techniques, func(t string) bool { return strings.HasPrefix(t, "T1110") })
}

func titles(as []alert.Alert) []string {
	var out []string
	for _, a := range as {
		if !slices.Contains(out, a.Rule.Title) {
			out = append(out, a.Rule.Title)
		}
	}
	slices.Sort(out)
	return out
}

func has(as []alert.Alert, title string) bool {
	return slices.ContainsFunc(as, func(a alert.Alert) bool { return a.Rule.Title == title })
}

// readSummary reads a derived_per_source_summary.csv into rows by header.
func readSummary(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func num(t *testing.T, row map[string]string, col string) int {
	t.Helper()
	n, err := strconv.Atoi(row[col])
	if err != nil {
		t.Fatalf("%s of %s: %v", col, row["source"], err)
	}
	return n
}

// Every source of the Loghub sshd sample that failed a login (or asked
// for a user that does not exist) gets a brute-force alert (T1110) that
// names it; the fast ones (10 failures in 10 minutes by the summary) get
// "SSH Brute Force"; the source that only logged in gets no alert at all.
func TestScanLoghubSSHBruteForce(t *testing.T) {
	dir := sharedData(t, "ssh_auth/loghub_openssh")
	by := scanAlertsByIP(t, filepath.Join(dir, "OpenSSH_2k.log"))
	rows := readSummary(t, filepath.Join(dir, "derived_per_source_summary.csv"))
	attackers, successOnly := 0, 0
	for _, r := range rows {
		ip, as := r["source"], by[r["source"]]
		failed := num(t, r, "auth_failures") + num(t, r, "invalid_user_lines")
		switch {
		case failed > 0:
			attackers++
			if !slices.ContainsFunc(as, bruteForce) {
				t.Errorf("attacker %s (%s failures, %s invalid-user lines): no brute-force alert; got %v", ip, r["auth_failures"], r["invalid_user_lines"], titles(as))
			}
			if r["bruteforce_candidate"] == "1" && !has(as, "SSH Brute Force") {
				t.Errorf("%s: %s failures in 10 minutes and no SSH Brute Force alert; got %v", ip, r["max_failures_in_10min"], titles(as))
			}
		case num(t, r, "accepted_logins") > 0:
			successOnly++
			if len(as) > 0 {
				t.Errorf("%s only logged in, and got alerts %v", ip, titles(as))
			}
		}
	}
	if attackers != 24 || successOnly != 1 {
		t.Errorf("summary has %d attackers and %d success-only sources, want 24 and 1", attackers, successOnly)
	}
}

// Every source of the Cowrie logs that tried a password is alerted; the
// slow ones — 20 failures or more but never more than two in ten minutes,
// over hours or days — get "SSH Low-and-Slow Brute Force", which no fixed window gives
// them; a source that only logged in gets no brute-force alert, and none at
// all unless it then used the honeypot (commands, downloads, proxying).
func TestScanCowrieBruteForce(t *testing.T) {
	dir := sharedData(t, "ssh_auth/cowrie_honeypot")
	files, _ := filepath.Glob(filepath.Join(dir, "cowrie.json.*.gz"))
	if len(files) == 0 {
		t.Skipf("no cowrie.json.*.gz in %s", dir)
	}
	by := scanAlertsByIP(t, files...)
	rows := readSummary(t, filepath.Join(dir, "derived_per_source_summary.csv"))
	attackers, slow, successOnly := 0, 0, 0
	for _, r := range rows {
		ip, as := r["source"], by[r["source"]]
		failed := num(t, r, "login_failed")
		switch {
		case failed > 0:
			attackers++
			if !slices.ContainsFunc(as, bruteForce) {
				t.Errorf("attacker %s (%d failures): no brute-force alert; got %v", ip, failed, titles(as))
			}
			if failed >= 20 && num(t, r, "max_failures_in_10min") <= 2 {
				slow++
				if !has(as, "SSH Low-and-Slow Brute Force") {
					t.Errorf("slow attacker %s (%d failures, at most %s in 10 minutes): no low-and-slow alert; got %v", ip, failed, r["max_failures_in_10min"], titles(as))
				}
			}
			if r["bruteforce_candidate"] == "1" && !has(as, "SSH Brute Force") {
				t.Errorf("%s: %s failures in 10 minutes and no SSH Brute Force alert; got %v", ip, r["max_failures_in_10min"], titles(as))
			}
		case num(t, r, "login_success") > 0:
			successOnly++
			if slices.ContainsFunc(as, bruteForce) {
				t.Errorf("%s only logged in, and got brute-force alerts %v", ip, titles(as))
			}
			for _, a := range as {
				if !slices.Contains([]string{"Command Run on a Honeypot", "File Downloaded to a Honeypot", "Honeypot Used as a Proxy"}, a.Rule.Title) {
					t.Errorf("%s only logged in, and got %q", ip, a.Rule.Title)
				}
			}
		}
	}
	if attackers != 180 || slow != 4 || successOnly != 44 {
		t.Errorf("summary: %d attackers, %d slow, %d success-only; want 180, 4, 44", attackers, slow, successOnly)
	}
}

// RDP-style Windows logon failures, written from the 4625/4624 schema:
// each kind of attacker is alerted by its analytic, a user who mistyped
// twice and logged on gets nothing, a source that only logged on gets
// nothing.
func TestScanWindowsLogonBruteForce(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	var lines []string
	ev := func(at time.Duration, id int, user, ip string, logonType int) {
		rec := map[string]any{"EventID": id, "Channel": "Security", "Computer": "rdp-01.corp.example",
			"TimeCreated": t0.Add(at).Format(time.RFC3339), "TargetUserName": user, "TargetDomainName": "CORP",
			"LogonType": logonType, "IpAddress": ip, "IpPort": "50123", "WorkstationName": "ATTACKER"}
		if id == 4625 {
			rec["Status"], rec["SubStatus"] = "0xC000006D", "0xC000006A"
		}
		b, _ := json.Marshal(rec)
		lines = append(lines, string(b))
	}
	const (
		fast, slow, spray, win, admin = "203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13", "203.0.113.14"
		typo, onlyOK                  = "10.1.2.3", "10.1.2.4"
	)
	for i := range 30 { // 30 in 3 minutes
		ev(time.Duration(i)*6*time.Second, 4625, "alice", fast, 3)
	}
	for i := range 48 { // two every 20 minutes for 8 hours
		ev(time.Duration(i/2)*20*time.Minute+time.Duration(i%2)*time.Second, 4625, "svc_backup", slow, 3)
	}
	for i, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		ev(time.Duration(i)*4*time.Minute, 4625, u, spray, 3)
	}
	for i := range 6 {
		ev(2*time.Hour+time.Duration(i)*time.Minute, 4625, "bob", win, 3)
	}
	ev(2*time.Hour+10*time.Minute, 4624, "bob", win, 10)
	for i := range 3 {
		ev(3*time.Hour+time.Duration(i)*5*time.Minute, 4625, "Administrator", admin, 3)
	}
	ev(4*time.Hour, 4625, "carol", typo, 10)
	ev(4*time.Hour+time.Minute, 4625, "carol", typo, 10)
	ev(4*time.Hour+2*time.Minute, 4624, "carol", typo, 10)
	for i := range 20 {
		ev(5*time.Hour+time.Duration(i)*time.Minute, 4624, "dave", onlyOK, 10)
	}
	path := filepath.Join(t.TempDir(), "security.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	by := scanAlertsByIP(t, "--format", "windows", path)
	for ip, want := range map[string]string{
		fast: "RDP/Windows Logon Brute Force", slow: "RDP/Windows Low-and-Slow Logon Brute Force",
		spray: "RDP/Windows Password Spraying", win: "Windows Logon After Brute Force",
		admin: "Windows Administrator Password Guessing",
	} {
		if !has(by[ip], want) {
			t.Errorf("%s: no %q alert; got %v", ip, want, titles(by[ip]))
		}
	}
	if has(by[slow], "RDP/Windows Logon Brute Force") {
		t.Errorf("the slow source made the ten-minute rule fire: the test is not slow enough")
	}
	for _, a := range by[win] {
		if a.Rule.Title == "Windows Logon After Brute Force" {
			if a.Severity != alert.High || a.Rule.Remediation == "" || !slices.Contains(a.Entities, alert.Entity{Type: "account", Value: "bob"}) {
				t.Errorf("success after failures: severity %v, remediation %q, entities %v", a.Severity, a.Rule.Remediation, a.Entities)
			}
			// high 45 + confidence high 10 + outcome success 15; the
			// compromised account comes first.
			if a.Rule.Outcome != "success" || a.Priority != 70 || len(a.PriorityReasons) != 3 ||
				a.Compromised == nil || *a.Compromised != (alert.Entity{Type: "account", Value: "bob"}) {
				t.Errorf("success after failures: outcome %q priority %d reasons %+v compromised %+v; want success, 70, account bob",
					a.Rule.Outcome, a.Priority, a.PriorityReasons, a.Compromised)
			}
		}
	}
	for _, a := range by[fast] {
		if a.Rule.Title == "RDP/Windows Logon Brute Force" && (a.Rule.Outcome != "attempt" || a.Priority != 40) {
			t.Errorf("fast brute force: outcome %q priority %d, want attempt and 40 (medium 30 + confidence high 10)", a.Rule.Outcome, a.Priority)
		}
		// A correlation's origin is the address it is grouped by.
		if a.Type == "correlation" && (a.Origin == nil || a.Origin.IP != fast || a.Origin.Scope != "documentation") {
			t.Errorf("fast brute force %q: origin %+v, want %s (documentation range)", a.Rule.Title, a.Origin, fast)
		}
	}
	// The user who mistyped twice still has the per-event "Windows Logon
	// Failure" (low) signals, but no brute-force correlation.
	for _, a := range by[typo] {
		if a.Type == "correlation" {
			t.Errorf("%s: correlation alert %q", typo, a.Rule.Title)
		}
	}
	if len(by[onlyOK]) > 0 {
		t.Errorf("%s only logged on, and got %v", onlyOK, titles(by[onlyOK]))
	}
	if t.Failed() {
		fmt.Println(strings.Join(lines[:3], "\n"))
	}
}
