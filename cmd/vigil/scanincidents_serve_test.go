package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// TestServeIncidentsAttackChain sends the scenarios of testdata/attack to
// `vigil serve` through the ingest API, file by file in time order as a
// collector would, and expects the server's incident correlation (the
// alert stream's "incidents" consumer) to make the incidents `vigil scan
// --incidents` makes: the multi-stage attack as one incident with every
// stage, and the two attacks through the shared NAT address apart.
func TestServeIncidentsAttackChain(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir, "--incident-shared-addresses", natAddress)
	defer func() {
		if !t.Failed() {
			return
		}
		t.Logf("serve's log:\n%s", srv.stderr.String())
	}()

	var stored int64
	for _, f := range []struct {
		path, source, format, ctype string
		noEvent                     int // records that are no event
	}{
		{filepath.Join(attackChain, "vpc-flow-0955.log"), "vpc", "vpcflow", "text/plain", 1}, // the header line
		{filepath.Join(attackChain, "web-01.auth.log"), "web-01", "sshd", "text/plain", 0},
		{filepath.Join(attackChain, "cloudtrail.json"), "cloudtrail", "cloudtrail", "application/json", 0},
		{filepath.Join(attackChain, "sql-shop-01.mssql-audit.jsonl"), "sql-shop-01", "mssql-audit", "application/x-ndjson", 0},
		{filepath.Join(attackChain, "vpc-flow-1040.log"), "vpc", "vpcflow", "text/plain", 1},
		{filepath.Join(attackNAT, "blog.access.log"), "blog", "accesslog", "text/plain", 0},
		{filepath.Join(attackNAT, "crm-db-01.server_audit.log"), "crm-db-01", "mariadb-audit", "text/plain", 0},
	} {
		body, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		r := ingestBody(t, srv.url, key, f.source, f.format, f.ctype, body)
		if r.status != 202 {
			t.Fatalf("%s: %d %s", f.path, r.status, r.body)
		}
		var acc struct {
			Accepted int `json:"accepted"`
		}
		r.json(t, &acc)
		// The correlator drops matches far behind the latest it saw: each
		// file is processed before the next is sent, in time order
		// (testdata/attack/README.md).
		want := stored + int64(acc.Accepted-f.noEvent)
		poll(t, f.path+" stored", func() bool { return storedEvents(t, srv.url, key) >= want })
		stored = want
	}
	var alerts []apiAlert
	poll(t, "the bulk read's alert", func() bool {
		alerts = listAlerts(t, srv.url, key)
		return slices.ContainsFunc(alerts, func(a apiAlert) bool { return a.Rule.Title == "Large Result Set Sent to an Internet Address" }) &&
			slices.ContainsFunc(alerts, func(a apiAlert) bool {
				return a.Rule.Title == "Potential SQL Injection" && strings.Contains(entityValues(a), "crm")
			})
	})

	// Every alert placed in an incident, read from the store the server
	// writes (a reader beside it, as both stores allow).
	ctx := context.Background()
	db := openDataStore(t, dir)
	poll(t, "every alert in an incident", func() bool {
		as := listAlerts(t, srv.url, key)
		ids := make([]string, len(as))
		for i, a := range as {
			ids[i] = a.ID
		}
		of, err := db.IncidentOfAlerts(ctx, "acme", ids)
		return err == nil && len(of) == len(ids)
	})
	// and the chain's incident assessed (the incident stream's "assess"
	// consumer), down to the table the bulk read touched
	poll(t, "the chain's incident assessed", func() bool {
		incs, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Limit: 100})
		if err != nil {
			return false
		}
		n := 0
		for _, inc := range incs {
			if slices.ContainsFunc(inc.Assessment.DataAccessed, func(d incident.DataAccess) bool { return d.Name == "dbo.payment_cards" }) {
				n++
			}
		}
		return n == 1
	})
	srv.stop()

	incs, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{} // alert id → rule title
	for _, a := range alerts {
		titles[a.ID] = a.Rule.Title
	}
	var chain *incident.Incident
	nat := 0
	for i, inc := range incs {
		ids, err := db.IncidentAlerts(ctx, "acme", inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, id := range ids {
			rules = append(rules, titles[id])
		}
		t.Logf("incident %q (%s): %v", inc.Title, inc.Severity, rules)
		switch {
		case hasEntity(inc.Entities, alert.EntityIP, "203.0.113.45"):
			if chain != nil {
				t.Errorf("two incidents hold the attacker's address: %q and %q", chain.Title, inc.Title)
			}
			chain = &incs[i]
			for _, r := range []string{"Vertical Port Scan", "SSH Login After Brute Force", "Root Shell Opened through sudo",
				"AWS Administrator Policy Attached", "Potential SQL Injection", "Large Result Set Sent to an Internet Address"} {
				if !slices.Contains(rules, r) {
					t.Errorf("the chain's incident has no %q alert: %v", r, rules)
				}
			}
		case hasEntity(inc.Entities, alert.EntityIP, natAddress):
			nat++
			if len(ids) != 1 {
				t.Errorf("a NAT incident holds %d alerts, want 1: %v", len(ids), rules)
			}
		}
	}
	if chain == nil {
		t.Fatalf("no incident holds the attacker's address (%d incidents)", len(incs))
	}
	if len(incs) != 3 || nat != 2 {
		t.Errorf("%d incidents, %d through the NAT; want 3, 2", len(incs), nat)
	}
	for _, e := range [][2]string{{"host", "web-01"}, {"account", "deploy"}, {"host", "SQL-SHOP-01"}, {"database", "shop"}} {
		if !hasEntity(chain.Entities, e[0], e[1]) {
			t.Errorf("the chain's incident lacks %s=%s: %v", e[0], e[1], chain.Entities)
		}
	}
	want := []string{"reconnaissance", "initial-access", "persistence", "privilege-escalation",
		"credential-access", "discovery", "lateral-movement", "collection", "exfiltration"}
	if !slices.Equal(chain.Tactics, want) {
		t.Errorf("tactics %v, want %v", chain.Tactics, want)
	}
	if chain.Severity != alert.Critical {
		t.Errorf("severity %s, want critical", chain.Severity)
	}
	as := chain.Assessment
	if as.Intent.Estimate != alert.IntentTargeted {
		t.Errorf("intent %+v, want targeted", as.Intent)
	}
	if !slices.ContainsFunc(as.Compromised, func(c incident.Compromised) bool {
		return c.Entity == alert.Entity{Type: alert.EntityAccount, Value: "deploy"}
	}) {
		t.Errorf("compromised %+v: want account deploy", as.Compromised)
	}
	if !slices.ContainsFunc(as.DataAccessed, func(d incident.DataAccess) bool {
		return d.Kind == incident.DataTable && d.Name == "dbo.payment_cards" && d.Sensitivity == incident.Restricted
	}) {
		t.Errorf("data accessed %+v: want table dbo.payment_cards, restricted", as.DataAccessed)
	}
}

func hasEntity(es []alert.Entity, typ, value string) bool {
	for _, e := range es {
		if e.Type == typ && strings.EqualFold(e.Value, value) {
			return true
		}
	}
	return false
}

func entityValues(a apiAlert) string {
	var b strings.Builder
	for _, e := range a.Entities {
		b.WriteString(e.Value + " ")
	}
	return b.String()
}
