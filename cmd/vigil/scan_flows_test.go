package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
)

// vpcLine is one default-format (version 2) VPC flow log record: a probe
// (one packet) when it carries under 100 bytes, else ten packets.
func vpcLine(src, dst string, sport, dport int, start int64, bytes int64, action string) string {
	packets := 10
	if bytes < 100 {
		packets = 1
	}
	return fmt.Sprintf("2 123456789010 eni-0a1b2c3d4e5f60718 %s %s %d %d 6 %d %d %d %d %s OK",
		src, dst, sport, dport, packets, bytes, start, start+10, action)
}

// TestScanVPCFlowDetections scans an hour of VPC flow records with the
// built-in pack, through the taxonomy's firewall mapping: a port scan from
// the internet, an SSH session let in from the internet, a host that
// uploads 1.2 GB, and the ordinary traffic around them (a busy web server's
// replies, internal database traffic, outbound HTTPS to many sites), which
// must raise nothing.
func TestScanVPCFlowDetections(t *testing.T) {
	const t0 = int64(1764990000)
	var lines []string
	// Vertical scan: 25 ports of 10.0.1.5 in 50 seconds, refused but two.
	for i := range 25 {
		action := "REJECT"
		if i == 3 || i == 10 {
			action = "ACCEPT"
		}
		lines = append(lines, vpcLine("198.51.100.23", "10.0.1.5", 41000+i, 20+i*37, t0+int64(2*i), 40, action))
	}
	// SSH let in from the internet.
	lines = append(lines, vpcLine("203.0.113.77", "10.0.1.8", 52311, 22, t0+300, 5120, "ACCEPT"))
	// Exfiltration: 12 × 100 MB to one address in an hour.
	for i := range 12 {
		lines = append(lines, vpcLine("10.0.1.9", "192.0.2.200", 44000+i, 443, t0+int64(280*i), 100_000_000, "ACCEPT"))
	}
	// Benign: the web server 10.0.1.20 answers 200 clients from port 443
	// (replies go to their ephemeral ports), the application talks to its
	// database, and a host browses 40 sites.
	for i := range 200 {
		client := fmt.Sprintf("10.0.%d.%d", 2+i/100, 10+i%100)
		lines = append(lines,
			vpcLine(client, "10.0.1.20", 33000+i*13, 443, t0+int64(i*10), 900, "ACCEPT"),
			vpcLine("10.0.1.20", client, 443, 33000+i*13, t0+int64(i*10), 40_000, "ACCEPT"),
			vpcLine("10.0.1.30", "10.0.1.31", 35000+i*7, 5432, t0+int64(i*10), 2_000_000, "ACCEPT"),
			vpcLine("10.0.1.31", "10.0.1.30", 5432, 35000+i*7, t0+int64(i*10), 20_000_000, "ACCEPT"))
	}
	for i := range 40 {
		lines = append(lines, vpcLine("10.0.3.4", fmt.Sprintf("93.184.%d.34", i), 50000+i, 443, t0+int64(i*30), 30_000, "ACCEPT"))
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "vpc.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(vigilBin, "scan", "--format", "vpcflow", "-o", "json", p).Output()
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	var alerts []alert.Alert
	if err := json.Unmarshal(out, &alerts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string][]alert.Alert{}
	for _, a := range alerts {
		got[a.Rule.Title] = append(got[a.Rule.Title], a)
	}
	// Every alert of each title must name its attacker or victim: an alert
	// of the same title on the benign hosts is a false alarm.
	for title, entity := range map[string]string{
		"Vertical Port Scan":                        "198.51.100.23",
		"Management Port Reached from the Internet": "203.0.113.77",
		"Unusual Egress Volume from a Host":         "10.0.1.9",
	} {
		as, ok := got[title]
		if !ok {
			t.Errorf("no %q alert; alerts: %v", title, slices.Sorted(maps.Keys(got)))
			continue
		}
		for _, a := range as {
			if !slices.ContainsFunc(a.Entities, func(e alert.Entity) bool { return e.Value == entity }) {
				t.Errorf("%q alert names %+v, not %s", title, a.Entities, entity)
			}
		}
	}
	if len(got) != 3 {
		t.Errorf("want exactly the three alerts above, got %v", slices.Sorted(maps.Keys(got)))
	}
}

// TestScanFlowIntel: traffic to or from an intelligence address needs no
// rule of its own — the intelligence step checks source.ip and
// destination.ip of every flow, VPC records and NSG tuples alike.
func TestScanFlowIntel(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "c2.ipset")
	writeFile(t, list, "45.9.148.7\n185.220.101.0/24\n")
	vpc := filepath.Join(dir, "vpc.log")
	const t0 = int64(1764990000)
	writeFile(t, vpc, strings.Join([]string{
		vpcLine("10.0.1.5", "45.9.148.7", 40000, 443, t0, 5000, "ACCEPT"),      // 1: to a listed address
		vpcLine("10.0.1.5", "8.8.8.8", 40001, 53, t0+1, 80, "ACCEPT"),          // 2
		vpcLine("185.220.101.33", "10.0.1.5", 51000, 8443, t0+2, 60, "REJECT"), // 3: from a listed range
		vpcLine("10.0.1.5", "185.220.102.1", 40002, 443, t0+3, 900, "ACCEPT"),  // 4: next to the range
	}, "\n")+"\n")
	nsg := filepath.Join(dir, "nsg.json")
	writeFile(t, nsg, `{"time":"2026-12-06T10:00:00Z","properties":{"Version":2,"flows":[{"rule":"DefaultRule_AllowInternetOutBound","flows":[{"mac":"000D3AF87856","flowTuples":["1764990000,10.5.16.4,13.67.143.118,59831,443,T,O,A,B,,,,","1764990001,10.5.16.4,45.9.148.7,59832,443,T,O,A,B,,,,"]}]}]}}`+"\n")
	for _, c := range []struct {
		file, format string
		want         []int // evidence lines of the intel alerts
	}{
		{vpc, "vpcflow", []int{1, 3}},
		{nsg, "nsgflow", []int{1}},
	} {
		out, errOut, code := runVigil(t, "scan", "--intel", list, "--format", c.format, "-o", "json", "--progress=false", c.file)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", c.format, code, errOut)
		}
		var alerts []alert.Alert
		if err := json.Unmarshal([]byte(out), &alerts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var lines []int
		for _, a := range alerts {
			if a.Type != "intel" {
				continue
			}
			for _, e := range a.Evidence {
				lines = append(lines, e.Line)
			}
		}
		slices.Sort(lines)
		if !slices.Equal(lines, c.want) {
			t.Errorf("%s: intel alerts on lines %v, want %v\n%s", c.format, lines, c.want, out)
		}
	}
}

// TestScanEgressBaseline: `vigil scan --baseline` learns each internal
// host's largest record to the internet over the first hours of VPC flow
// records, then flags the web server that sends one record of 400 MB (far
// above its usual 2 MB, and below the hourly 1 GiB threshold) and not the
// backup server that sends 900 MB as every night; without --baseline the
// baseline rule stays quiet.
func TestScanEgressBaseline(t *testing.T) {
	const t0, hour = int64(1764990000), int64(3600)
	var lines []string
	for h := range int64(6) {
		for i := range int64(6) {
			at := t0 + h*hour + i*600
			lines = append(lines, vpcLine("10.0.1.20", "52.95.110.1", 44000, 443, at, 2_000_000, "ACCEPT"))
		}
		lines = append(lines, vpcLine("10.0.1.40", "52.95.110.1", 45000, 443, t0+h*hour+1800, 900_000_000, "ACCEPT"))
	}
	after := t0 + 8*hour
	lines = append(lines,
		vpcLine("10.0.1.20", "185.199.108.1", 46000, 443, after, 400_000_000, "ACCEPT"),
		vpcLine("10.0.1.40", "52.95.110.1", 45000, 443, after+600, 900_000_000, "ACCEPT"),
		// the reply direction of a large download by the web server
		vpcLine("185.199.108.1", "10.0.1.20", 443, 46001, after+1200, 800_000_000, "ACCEPT"))
	p := filepath.Join(t.TempDir(), "vpc.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const title = "Egress Far Above the Host's Usual"
	scan := func(args ...string) []alert.Alert {
		t.Helper()
		cmd := exec.Command(vigilBin, append([]string{"scan", "--format", "vpcflow", "-o", "json", "--progress=false"}, append(args, p)...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("scan %v: %v\n%s", args, err, stderr.String())
		}
		var alerts []alert.Alert
		if err := json.Unmarshal(out, &alerts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []alert.Alert
		for _, a := range alerts {
			if a.Rule.Title == title {
				got = append(got, a)
			}
		}
		return got
	}
	got := scan("--baseline", "--baseline-learning", "4h")
	if len(got) != 1 || !slices.ContainsFunc(got[0].Entities, func(e alert.Entity) bool { return e.Value == "10.0.1.20" }) {
		t.Fatalf("--baseline: %q alerts %+v, want one, for 10.0.1.20", title, got)
	}
	an := got[0].Anomalies
	if len(an) != 1 || an[0].Model != "host.egress_bytes" || an[0].Value != "400000000" || an[0].Seen != 2_000_000 {
		t.Errorf("anomalies %+v, want host.egress_bytes 400000000 over 2000000", an)
	}
	if got := scan(); len(got) != 0 {
		t.Errorf("without --baseline: %+v", got)
	}
}
