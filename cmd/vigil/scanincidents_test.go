package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenarioIncident is an incident as `vigil scan --incidents -o json`
// prints it: the fields these tests read.
type scenarioIncident struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Severity   string `json:"severity"`
	Priority   int    `json:"priority"`
	Stage      string `json:"stage"`
	Tactics    []string
	Techniques []string
	Entities   []struct{ Type, Value string }
	AlertCount int       `json:"alert_count"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Assessment struct {
		Nature struct {
			Tactics []string `json:"tactics"`
		} `json:"nature"`
		Origin struct {
			Addresses []string `json:"addresses"`
		} `json:"origin"`
		Intent struct {
			Estimate string   `json:"estimate"`
			Reasons  []string `json:"reasons"`
		} `json:"intent"`
		Compromised []struct {
			Entity struct{ Type, Value string } `json:"entity"`
			Reason string                       `json:"reason"`
		} `json:"compromised"`
		DataAccessed []struct {
			Kind, Name, Container, Action, Sensitivity string
		} `json:"data_accessed"`
	} `json:"assessment"`
	Alerts []struct {
		ID        string    `json:"id"`
		FirstSeen time.Time `json:"first_seen"`
		Rule      struct{ Title string }
		Evidence  []struct {
			File string
			Line int
		}
	} `json:"alerts"`
	Timeline []struct {
		Time    time.Time `json:"time"`
		Kind    string    `json:"kind"`
		Summary string    `json:"summary"`
		AlertID string    `json:"alert_id"`
	} `json:"timeline"`
}

func (inc scenarioIncident) has(typ, value string) bool {
	for _, e := range inc.Entities {
		if e.Type == typ && strings.EqualFold(e.Value, value) {
			return true
		}
	}
	return false
}

func (inc scenarioIncident) rules() []string {
	var out []string
	for _, a := range inc.Alerts {
		out = append(out, a.Rule.Title)
	}
	return out
}

func scanIncidentsJSON(t *testing.T, args ...string) []scenarioIncident {
	t.Helper()
	stdout, stderr, code := runVigil(t, append([]string{"scan", "--incidents", "-o", "json", "--progress=false"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var incs []scenarioIncident
	if err := json.Unmarshal([]byte(stdout), &incs); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	return incs
}

var (
	attackChain = filepath.Join("testdata", "attack", "chain")
	attackNAT   = filepath.Join("testdata", "attack", "nat")
)

// The shared address of the NAT scenario (testdata/attack/README.md).
const natAddress = "198.51.100.25"

// TestScanIncidentsAttackChain replays a multi-stage attack in raw logs of
// four sources (flow logs, an auth log, CloudTrail, SQL Server audit) and
// expects one incident that holds every stage, with the attacker's and the
// victims' entities, the tactics in kill-chain order and its timeline in
// time order.
func TestScanIncidentsAttackChain(t *testing.T) {
	incs := scanIncidentsJSON(t, "--incident-shared-addresses", natAddress, attackChain)
	if len(incs) != 1 {
		for _, inc := range incs {
			t.Logf("incident %q: %v", inc.Title, inc.rules())
		}
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	// every stage is in it, one rule for each
	for _, r := range []string{
		"Vertical Port Scan",                           // the scan (flow logs)
		"SSH Brute Force",                              // the guessing (auth.log)
		"SSH Login After Brute Force",                  // the successful login
		"Root Shell Opened through sudo",               // privilege use
		"AWS Administrator Policy Attached",            // the cloud role change
		"AWS Access Key Created for Another User",      // and a key for later
		"Potential SQL Injection",                      // UNION SELECT on the database
		"Large Result Set Sent to an Internet Address", // the bulk SELECT
	} {
		if !slices.Contains(inc.rules(), r) {
			t.Errorf("no %q alert in the incident: %v", r, inc.rules())
		}
	}
	if inc.AlertCount != len(inc.Alerts) {
		t.Errorf("alert_count %d, %d alerts listed", inc.AlertCount, len(inc.Alerts))
	}
	// the attacker, the hosts, the account, the database, the cloud account
	for _, e := range [][2]string{
		{"ip", "203.0.113.45"}, {"host", "web-01"}, {"account", "deploy"},
		{"host", "SQL-SHOP-01"}, {"database", "shop"}, {"account", "shop_app"},
		{"cloud_resource", "111122223333"},
	} {
		if !inc.has(e[0], e[1]) {
			t.Errorf("entity %s=%s missing: %v", e[0], e[1], inc.Entities)
		}
	}
	// the tactics of its alerts, in kill-chain order
	want := []string{"reconnaissance", "initial-access", "persistence", "privilege-escalation",
		"credential-access", "discovery", "lateral-movement", "collection", "exfiltration"}
	if !slices.Equal(inc.Tactics, want) {
		t.Errorf("tactics %v, want %v", inc.Tactics, want)
	}
	// high alerts across the chain: raised to critical
	if inc.Severity != "critical" {
		t.Errorf("severity %s, want critical (high alerts forming a chain)", inc.Severity)
	}
	if inc.Stage != "detect" {
		t.Errorf("stage %s, want detect", inc.Stage)
	}
	if got, want := inc.FirstSeen.UTC().Format(time.RFC3339), "2026-11-30T09:58:00Z"; got != want {
		t.Errorf("first seen %s, want %s (the scan)", got, want)
	}
	// the assessment: where from, targeted, what was taken over, what
	// was read and how sensitive it is
	if !slices.Contains(inc.Assessment.Origin.Addresses, "203.0.113.45") {
		t.Errorf("origin %v lacks the attacker", inc.Assessment.Origin.Addresses)
	}
	if inc.Assessment.Intent.Estimate != "targeted" {
		t.Errorf("intent %+v, want targeted", inc.Assessment.Intent)
	}
	deploy := false
	for _, c := range inc.Assessment.Compromised {
		if c.Entity.Type == "account" && c.Entity.Value == "deploy" {
			deploy = strings.Contains(c.Reason, "SSH Login After Brute Force")
		}
		if c.Entity.Type == "ip" && c.Entity.Value == "203.0.113.45" {
			t.Errorf("the attacker's address is listed as compromised: %+v", c)
		}
	}
	if !deploy {
		t.Errorf("compromised %+v: want account deploy, for the login after the brute force", inc.Assessment.Compromised)
	}
	tables := map[string]string{}
	for _, d := range inc.Assessment.DataAccessed {
		if d.Kind == "table" {
			tables[d.Name] = d.Sensitivity
			if d.Action != "read" {
				t.Errorf("table %s: action %q, want read", d.Name, d.Action)
			}
		}
	}
	if tables["dbo.payment_cards"] != "restricted" || tables["dbo.customers"] != "confidential" {
		t.Errorf("tables read %v: want dbo.payment_cards restricted and dbo.customers confidential", tables)
	}
	if len(inc.Assessment.DataAccessed) > 0 && inc.Assessment.DataAccessed[0].Sensitivity != "restricted" {
		t.Errorf("data accessed not most sensitive first: %+v", inc.Assessment.DataAccessed[0])
	}

	// the timeline: created, then each alert, in time order
	if len(inc.Timeline) != len(inc.Alerts)+1 {
		t.Errorf("%d timeline entries, want %d (created and one an alert)", len(inc.Timeline), len(inc.Alerts)+1)
	}
	kinds := map[string]int{}
	for i, e := range inc.Timeline {
		kinds[e.Kind]++
		if i > 0 && e.Time.Before(inc.Timeline[i-1].Time) {
			t.Errorf("timeline out of order at %d: %s after %s", i, e.Time, inc.Timeline[i-1].Time)
		}
	}
	if kinds["created"] != 1 || kinds["alert"] != len(inc.Alerts) {
		t.Errorf("timeline kinds %v", kinds)
	}
}

// TestScanIncidentsNATStaysApart scans the chain and two unrelated attacks
// through one NAT address: with the address declared shared, the NAT pair
// stays two incidents, apart from the chain; without, the address glues
// them into one — the setting is what keeps them apart.
func TestScanIncidentsNATStaysApart(t *testing.T) {
	incs := scanIncidentsJSON(t, "--incident-shared-addresses", natAddress+"/32", attackChain, attackNAT)
	if len(incs) != 3 {
		for _, inc := range incs {
			t.Logf("incident %q: %v", inc.Title, inc.rules())
		}
		t.Fatalf("%d incidents, want 3 (the chain, and the two attacks through the NAT)", len(incs))
	}
	var nat []scenarioIncident
	for _, inc := range incs {
		switch {
		case inc.has("ip", "203.0.113.45"):
			if inc.has("ip", natAddress) {
				t.Errorf("the chain's incident holds the NAT address: %v", inc.Entities)
			}
		case inc.has("ip", natAddress):
			nat = append(nat, inc)
		default:
			t.Errorf("incident %q holds neither address", inc.Title)
		}
	}
	if len(nat) != 2 {
		t.Fatalf("%d incidents with the NAT address, want 2", len(nat))
	}
	web, db := nat[0], nat[1]
	if web.has("host", "crm-db-01") {
		web, db = db, web
	}
	if !slices.Equal(web.rules(), []string{"Path Traversal in a Web Request"}) || !slices.Equal(db.rules(), []string{"Potential SQL Injection"}) {
		t.Errorf("NAT incidents hold %v and %v", web.rules(), db.rules())
	}
	if !db.has("database", "crm") || web.has("database", "crm") {
		t.Errorf("the SQL injection's database is in the wrong incident: %v / %v", web.Entities, db.Entities)
	}

	incs = scanIncidentsJSON(t, attackNAT)
	if len(incs) != 1 || incs[0].AlertCount != 2 {
		t.Errorf("without the shared address: %d incidents, want 1 of 2 alerts (the public address is a strong identifier)", len(incs))
	}
}

// TestScanIncidentsOutputs checks the table and NDJSON forms against the
// JSON one, and that a bad setting stops the scan.
func TestScanIncidentsOutputs(t *testing.T) {
	incs := scanIncidentsJSON(t, "--incident-shared-addresses", natAddress, attackChain, attackNAT)
	stdout, stderr, code := runVigil(t, "scan", "--incidents", "-o", "ndjson", "--incident-shared-addresses", natAddress, attackChain, attackNAT)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(incs) {
		t.Errorf("%d NDJSON lines, %d incidents in JSON", len(lines), len(incs))
	}
	for i, l := range lines {
		var inc scenarioIncident
		if err := json.Unmarshal([]byte(l), &inc); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i < len(incs) && (inc.Title != incs[i].Title || inc.AlertCount != incs[i].AlertCount) {
			t.Errorf("line %d: %q (%d alerts), JSON has %q (%d)", i+1, inc.Title, inc.AlertCount, incs[i].Title, incs[i].AlertCount)
		}
	}
	if !strings.Contains(stderr, "3 incidents from ") {
		t.Errorf("stderr does not count the incidents: %s", stderr)
	}

	stdout, _, code = runVigil(t, "scan", "--incidents", "--incident-shared-addresses", natAddress, attackChain, attackNAT)
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	if n := strings.Count(stdout, "INCIDENT "); n != 3 {
		t.Errorf("%d incident headings in the table, want 3:\n%s", n, stdout)
	}
	for _, want := range []string{incs[0].Title, "reconnaissance → initial-access", "Root Shell Opened through sudo", "web-01.auth.log:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}

	for _, bad := range [][]string{
		{"--incident-shared-addresses", "not-an-address"},
		{"--incident-shared-addresses", "198.51.100.0/33"},
		{"--incident-window", "-1h"},
	} {
		_, stderr, code := runVigil(t, append(append([]string{"scan", "--incidents"}, bad...), attackNAT)...)
		if code != exitSetup || !strings.Contains(stderr, strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: exit %d, %s", bad, code, stderr)
		}
	}
}

// TestScanIncidentsSensitivityFile labels the chain's data by a file of
// rules instead of the built-in ones, and refuses a bad one.
func TestScanIncidentsSensitivityFile(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "sensitivity.yaml")
	writeFile(t, rules, `# the server's config file would do too
listen: 127.0.0.1:8080
sensitivity-default: confidential
sensitivity:
  - name: catalogue
    kind: table
    pattern: products
    label: public
`)
	incs := scanIncidentsJSON(t, "--sensitivity", rules, attackChain)
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	got := map[string]string{}
	for _, d := range incs[0].Assessment.DataAccessed {
		if d.Kind == "table" {
			got[d.Name] = d.Sensitivity
		}
	}
	// the list replaces the built-in rules: cards fall to the default
	if got["dbo.products"] != "public" || got["dbo.payment_cards"] != "confidential" {
		t.Errorf("tables %v: want dbo.products public, dbo.payment_cards confidential (the file's default)", got)
	}
	incs = scanIncidentsJSON(t, "--sensitivity", rules, "--sensitivity-default", "restricted", attackChain)
	for _, d := range incs[0].Assessment.DataAccessed {
		if d.Kind == "table" && d.Name == "dbo.payment_cards" && d.Sensitivity != "restricted" {
			t.Errorf("--sensitivity-default restricted: payment_cards %s", d.Sensitivity)
		}
	}

	writeFile(t, rules, "sensitivity:\n  - {name: x, kind: table, pattern: a, label: secret}\n")
	_, stderr, code := runVigil(t, "scan", "--incidents", "--sensitivity", rules, attackChain)
	if code != exitSetup || !strings.Contains(stderr, "--sensitivity") {
		t.Errorf("a bad label: exit %d, %s", code, stderr)
	}
}
