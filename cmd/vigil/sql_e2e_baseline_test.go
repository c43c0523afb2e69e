package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The SQL alert types that compare a login with what the server saw
// before (content/rules/sql_unusual_*.yml, on the behavioural baselines)
// and the one that compares it with threat intelligence
// (sql_suspicious_ip.yml).
const (
	titleUnusualLocation = "Log On from an Unusual Location"
	titleUnusualNetwork  = "Log On from an Unusual Network"
	titleUnusualDC       = "Log On from an Unusual Data Center"
	titleUnusualApp      = "Log On by an Unusual Application"
	titleUnusualDomain   = "Login from a Domain Not Seen in 60 Days"
	titleSuspiciousIP    = "Login from a Suspicious IP"
)

// Addresses of the baseline scenario, with the country the embedded
// database gives them and the autonomous system of the test's own ASN
// database (documentation AS numbers, RFC 5398). The public test databases
// (../shared/data/geoip/testdata_mmdb) hold two networks of one made-up
// organisation and no cloud provider, so they cannot tell a data center
// from another network.
const (
	blAppServer  = "2001:980:91c0::10" // NL, AS 64496: the shop's web server
	blOffice     = "194.109.6.66"      // NL, no AS known: the office
	blAbroad     = "200.160.2.3"       // BR, no AS known
	blOtherNet   = "80.100.47.45"      // NL, AS 64497, a broadband provider
	blDataCenter = "20.50.2.1"         // NL, AS 64498, a cloud provider
	blListed     = "185.220.101.4"     // DE, in the test's feed
)

// blNetworks are the test ASN database's networks.
var blNetworks = []asnNetwork{
	{netip.MustParsePrefix("2001:980:91c0::/48"), 64496, "Example Telecom NL"},
	{netip.MustParsePrefix("80.100.44.0/22"), 64497, "Example Broadband B.V."},
	{netip.MustParsePrefix("20.50.2.0/24"), 64498, "Microsoft Corporation"},
}

// TestSQLAlertsBaselineEndToEnd drives the baseline-based SQL alert types
// and "Login from a Suspicious IP" through `vigil serve` from raw SQL
// Server audit records: a server's logins are learnt for the learning
// period (set to an hour of event time), then the same workload must raise
// nothing, and logins that differ from it in one way each must raise the
// alert of that way.
func TestSQLAlertsBaselineEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	asn := filepath.Join(dir, "asn.mmdb")
	writeASNDatabase(t, asn, blNetworks)
	key, _ := newKey(t, dir, "acme", "admin")
	feed := filepath.Join(dir, "blocklist.txt")
	if err := os.WriteFile(feed, []byte("# addresses seen brute-forcing SQL Server\n"+blListed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "intel", "import", feed, "--feed", "sql-bruteforcers", "--format", "plain", "--threat-type", "brute_force",
		"--confidence", "80", "--workspace", "acme", "--data-dir", dir)
	srv := startServe(t, dir, "--baseline-learning", "1h", "--geoip-databases", "embedded,"+asn)
	defer srv.stop()

	const ssms = "Microsoft SQL Server Management Studio - Query"
	t0 := time.Now().Add(-6 * time.Hour).Truncate(time.Second)
	workload := func(a *mssqlAudit) {
		a.login("webapp", blAppServer, mssqlClient)
		a.batch("webapp", blAppServer, mssqlClient, "SELECT id, title FROM dbo.products WHERE id = 3")
		a.login("report", blOffice, mssqlClient)
		a.login(`CORP\alice`, blOffice, ssms)
		a.batch(`CORP\alice`, blOffice, ssms, "SELECT COUNT(*) FROM dbo.orders")
	}
	// Learning: the first half hour of event time, the workload every
	// five minutes.
	learn := &mssqlAudit{at: t0}
	for i := 0; i < 6; i++ {
		learn.at = t0.Add(time.Duration(i) * 5 * time.Minute)
		workload(learn)
	}
	send := func(what string, a *mssqlAudit) int {
		t.Helper()
		r := ingestBody(t, srv.url, key, mssqlServer, "mssql-audit", "application/x-ndjson", a.ndjson(t))
		if r.status != 202 {
			t.Fatalf("ingest %s: %d %s", what, r.status, r.body)
		}
		return len(a.rows)
	}
	stored := send("learning", learn)
	poll(t, "the learning records stored", func() bool { return storedEvents(t, srv.url, key) >= int64(stored) })
	if got := listAlerts(t, srv.url, key); len(got) > 0 {
		t.Fatalf("alerts while learning: %s", alertSummary(got))
	}

	// Two hours on, after the learning period: the same workload, and one
	// mistyped login of a user the server does not know (a failed login is
	// neither learnt nor flagged).
	benign := &mssqlAudit{at: t0.Add(2 * time.Hour)}
	workload(benign)
	benign.loginFailed("guest", blOffice, ssms, 5)
	workload(benign)
	stored += send("benign", benign)
	poll(t, "the benign records stored", func() bool { return storedEvents(t, srv.url, key) >= int64(stored) })
	if got := listAlerts(t, srv.url, key); len(got) > 0 {
		t.Fatalf("the learnt workload raised alerts: %s", alertSummary(got))
	}

	// Each attack login differs from the workload in one way.
	attack := &mssqlAudit{at: t0.Add(3 * time.Hour)}
	attack.login("webapp", blAbroad, mssqlClient)      // a country the server never saw
	attack.login("webapp", blOtherNet, mssqlClient)    // another autonomous system, same country
	attack.login("webapp", blDataCenter, mssqlClient)  // a cloud provider's autonomous system, same country
	attack.login("mallory", blOffice, mssqlClient)     // a principal the server never saw
	attack.login("report", blOffice, "DBeaver 24.1.0") // an application the server never saw
	attack.login(`EVIL\bob`, blOffice, ssms)           // a Windows domain the server never saw
	attack.login("webapp", blListed, mssqlClient)      // an address a feed lists
	attack.loginFailed("sa", blListed, mssqlClient, 8) // refused: no suspicious-IP login
	send("attack", attack)
	want := []wantAlert{
		{titleUnusualLocation, "ip=" + blAbroad},
		{titleUnusualNetwork, "ip=" + blOtherNet},
		{titleUnusualDC, "ip=" + blDataCenter},
		{principalTitle, "account=mallory"},
		{titleUnusualApp, "account=report"},
		{titleUnusualDomain, `account=EVIL\bob`},
		{titleSuspiciousIP, "ip=" + blListed},
	}
	var got []apiAlert
	missing := func() []string {
		got = listAlerts(t, srv.url, key)
		var miss []string
		for _, w := range want {
			if !hasAlert(got, w.title, w.entity) {
				miss = append(miss, w.title+" "+w.entity)
			}
		}
		return miss
	}
	for deadline := time.Now().Add(60 * time.Second); len(missing()) > 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("alerts missing after 60s: %v; got %s", missing(), alertSummary(got))
		}
	}
	poll(t, "the attack records stored", func() bool { return storedEvents(t, srv.url, key) >= int64(stored+len(attack.rows)) })
	time.Sleep(500 * time.Millisecond) // any further alert of the batch
	got = listAlerts(t, srv.url, key)

	// Each alert names the login that raised it and no other: the learnt
	// addresses, principals and applications raise none.
	for _, a := range got {
		if a.Rule.ID == "" || a.Severity == "" || a.Count < 1 || len(a.Evidence) == 0 {
			t.Errorf("alert %q incomplete: %+v", a.Rule.Title, a)
		}
		for _, e := range a.Entities {
			if e.Value == blAppServer || (e.Type == "account" && (e.Value == `CORP\alice` || e.Value == "guest")) {
				t.Errorf("alert %q names the learnt workload's %s=%s: %s", a.Rule.Title, e.Type, e.Value, alertSummary([]apiAlert{a}))
			}
		}
	}
	for _, c := range []struct{ title, notEntity string }{
		// The network is new but the country is not.
		{titleUnusualLocation, "ip=" + blOtherNet},
		{titleUnusualLocation, "ip=" + blDataCenter},
		// A cloud provider's network is a data center, not "a network";
		// a broadband provider's is not a data center.
		{titleUnusualNetwork, "ip=" + blDataCenter},
		{titleUnusualDC, "ip=" + blOtherNet},
		// A country is not a network: the Brazilian address has no AS in
		// the test database, so no network to call new.
		{titleUnusualNetwork, "ip=" + blAbroad},
		// mallory is a SQL login: no domain.
		{titleUnusualDomain, "account=mallory"},
		// The refused login from the listed address.
		{titleSuspiciousIP, "account=sa"},
	} {
		if hasAlert(got, c.title, c.notEntity) {
			t.Errorf("%q raised for %s: %s", c.title, c.notEntity, alertSummary(got))
		}
	}
	intel := false
	for _, a := range got {
		intel = intel || strings.HasPrefix(a.Rule.ID, "intel:") && hasAlert([]apiAlert{a}, a.Rule.Title, "ip="+blListed)
	}
	if !intel {
		t.Errorf("no threat-intelligence alert for %s: %s", blListed, alertSummary(got))
	}
	checkDatabaseView(t, srv.url, key, sqlAlertsOnly(got))
	t.Logf("alerts: %s", alertSummary(got))
}

// sqlAlertsOnly leaves out the threat-intelligence alerts, which are the
// event's and not a database rule's.
func sqlAlertsOnly(alerts []apiAlert) []apiAlert {
	var out []apiAlert
	for _, a := range alerts {
		if !strings.HasPrefix(a.Rule.ID, "intel:") {
			out = append(out, a)
		}
	}
	return out
}
