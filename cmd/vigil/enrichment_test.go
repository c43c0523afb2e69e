package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// A mixed list as scan --intel reads it: every kind by its form, comments
// of both styles, a bad line reported with its file and line; matching
// then finds addresses in ranges and subdomains, not expired indicators.
func TestLoadScanIntel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mixed.txt")
	writeFile(t, p, `# a plain list
; Spamhaus-style comment
45.9.148.7
185.220.100.0/22 ; SBL123
185.220.101.0/24
2001:db8:aa::/48
Evil.Example.
http://x.test/a.exe
0123456789ABCDEF0123456789ABCDEF
not a value at all
boss@evil.example
`)
	var problems []intel.Problem
	set, n, err := loadScanIntel([]string{p}, func(pr intel.Problem) { problems = append(problems, pr) })
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("%d indicators, want 8", n)
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0].Where, p+": line 10") {
		t.Errorf("problems %+v, want one at line 10 of the file", problems)
	}
	now := time.Now()
	if got := set.MatchIP(netip.MustParseAddr("185.220.101.9"), now, nil); len(got) != 2 {
		t.Errorf("address in two ranges: %d matches", len(got))
	}
	if got := set.MatchIP(netip.MustParseAddr("185.220.104.1"), now, nil); len(got) != 0 {
		t.Errorf("address outside: %d matches", len(got))
	}
	if got := set.Match(intel.KindDomain, "a.b.evil.example", now, nil); len(got) != 1 || got[0].Feed != "mixed.txt" {
		t.Errorf("subdomain: %+v, want one match of feed mixed.txt", got)
	}
	if got := set.Match(intel.KindDomain, "notevil.example", now, nil); len(got) != 0 {
		t.Error("a different domain with the same suffix matched")
	}
	if got := set.Match(intel.KindMD5, "0123456789abcdef0123456789abcdef", now, nil); len(got) != 1 {
		t.Error("hash did not match")
	}
}

// TestScanIntelGeoIPAssets: the alerts of a scan with --intel are exactly
// those of the listed addresses, and carry origin and assets.
func TestScanIntelGeoIPAssets(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "bad.ipset")
	writeFile(t, list, "# test\n45.9.148.7\n185.220.101.0/24\n")
	assetsFile := filepath.Join(dir, "assets.yaml")
	writeFile(t, assetsFile, "assets:\n  - {name: web1, type: host, criticality: high, owner: web-team}\n")
	logf := filepath.Join(dir, "auth.log")
	var lines []string
	for _, ip := range []string{"45.9.148.7", "8.8.8.8", "185.220.101.33", "10.0.0.7", "185.220.102.1"} {
		lines = append(lines, fmt.Sprintf("Dec  6 10:00:01 web1 sshd[1]: Accepted password for bob from %s port 22 ssh2", ip))
	}
	writeFile(t, logf, strings.Join(lines, "\n")+"\n")
	out, errOut, code := runVigil(t, "scan", "--intel", list, "--geoip", "embedded", "--assets", assetsFile, "--format", "sshd", "-o", "json", "--progress=false", logf)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "loaded 2 indicators from 1 file") {
		t.Errorf("stderr does not report the indicators:\n%s", errOut)
	}
	var alerts []struct {
		Type   string `json:"type"`
		Rule   struct{ ID string }
		Origin *struct {
			IP, Country, Scope string
			Indicators         []struct{ Value, Feed string }
		}
		Assets   []struct{ Name, Criticality string }
		Evidence []struct{ Line int }
	}
	if err := json.Unmarshal([]byte(out), &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var intelIPs []string
	for _, a := range alerts {
		if a.Type != "intel" {
			continue
		}
		if a.Origin == nil || len(a.Origin.Indicators) == 0 || a.Origin.Indicators[0].Feed != "bad.ipset" || a.Rule.ID != "intel:unknown" {
			t.Errorf("intel alert %+v", a)
			continue
		}
		intelIPs = append(intelIPs, a.Origin.IP)
		if a.Origin.Country == "" || a.Origin.Scope != "public" {
			t.Errorf("origin of %s without country: %+v", a.Origin.IP, a.Origin)
		}
		if len(a.Assets) != 1 || a.Assets[0].Name != "web1" || a.Assets[0].Criticality != "high" {
			t.Errorf("assets %+v", a.Assets)
		}
	}
	slices.Sort(intelIPs)
	if got := strings.Join(intelIPs, ","); got != "185.220.101.33,45.9.148.7" {
		t.Errorf("intel alerts on %q, want exactly the listed address and the one inside the range", got)
	}
}

func TestScanIntelFileErrors(t *testing.T) {
	logf := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, logf, "Dec  6 10:00:01 web1 sshd[1]: Accepted password for bob from 8.8.8.8 port 22 ssh2\n")
	_, errOut, code := runVigil(t, "scan", "--intel", filepath.Join(t.TempDir(), "missing.txt"), logf)
	if code == 0 || !strings.Contains(errOut, "--intel") {
		t.Errorf("missing intel file: exit %d, %s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	writeFile(t, bad, "not a database")
	_, errOut, code = runVigil(t, "scan", "--geoip", bad, logf)
	if code == 0 || !strings.Contains(errOut, "--geoip") || !strings.Contains(errOut, bad) {
		t.Errorf("broken GeoIP file: exit %d, %s", code, errOut)
	}
}
