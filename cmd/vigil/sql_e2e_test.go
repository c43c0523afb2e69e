package main

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// The SQL alert types content/rules/sql_*.yml raise (Defender for SQL's
// names), each driven end to end below: raw audit records of a real
// PostgreSQL and MariaDB server, and SQL Server / Azure SQL audit records
// built from Microsoft's documented schema, go into `vigil serve` and the
// alert comes out of the API.
const (
	titleSQLInjection   = "Potential SQL Injection"
	titleSQLVulnerable  = "A Possible Vulnerability to SQL Injection"
	titleHarmfulApp     = "Logon Activity from a Potentially Harmful Application"
	titleBruteForce     = "Suspected Brute Force Attack"
	titleBruteValidUser = "Suspected Brute Force Attack Using a Valid User"
	titleBruteSuccess   = "Suspected Successful Brute Force Attack"
	titleShellFromSQL   = "Shell Execution from SQL"
	titleFileFromSQL    = "File Access from SQL"
)

// sqlScenario is one database's workload as the server logged it: the
// attack log and the log of a benign workload, sent to two workspaces of
// one `vigil serve`.
type sqlScenario struct {
	source, format, ctype string
	benign, attack        []byte
	// want lists the alerts the attack must raise.
	want []wantAlert
}

// wantAlert is an alert title and an entity the alert must carry
// ("type=value"; "" for any).
type wantAlert struct{ title, entity string }

// runSQLScenario ingests the benign log into workspace "quiet" and the
// attack log into "attacked", waits for every wanted alert, then checks
// that the benign workload raised no alert at all.
func runSQLScenario(t *testing.T, sc sqlScenario) {
	t.Helper()
	dir := t.TempDir()
	quietKey, _ := newKey(t, dir, "quiet", "admin")
	attackKey, _ := newKey(t, dir, "attacked", "admin")
	srv := startServe(t, dir)
	defer srv.stop()

	var accepted struct {
		Accepted int `json:"accepted"`
	}
	r := ingestBody(t, srv.url, quietKey, url.QueryEscape(sc.source), sc.format, sc.ctype, sc.benign)
	if r.status != 202 {
		t.Fatalf("ingest benign %s: %d %s", sc.format, r.status, r.body)
	}
	r.json(t, &accepted)
	benignRecords := accepted.Accepted
	if benignRecords == 0 {
		t.Fatalf("benign %s log: no record accepted\n%s", sc.format, sc.benign)
	}
	r = ingestBody(t, srv.url, attackKey, url.QueryEscape(sc.source), sc.format, sc.ctype, sc.attack)
	if r.status != 202 {
		t.Fatalf("ingest attack %s: %d %s", sc.format, r.status, r.body)
	}

	var got []apiAlert
	missing := func() []string {
		got = listAlerts(t, srv.url, attackKey)
		var miss []string
		for _, w := range sc.want {
			if !hasAlert(got, w.title, w.entity) {
				miss = append(miss, w.title+" "+w.entity)
			}
		}
		sort.Strings(miss)
		return miss
	}
	for deadline := time.Now().Add(60 * time.Second); len(missing()) > 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: alerts missing after 60s: %v; got %s", sc.format, missing(), alertSummary(got))
		}
	}
	for _, a := range got {
		if a.Rule.ID == "" || a.Severity == "" || a.Count < 1 || len(a.Evidence) == 0 {
			t.Errorf("%s alert %q incomplete: %+v", sc.format, a.Rule.Title, a)
		}
	}
	if miss := missing(); len(miss) > 0 {
		t.Fatalf("%s: alerts missing %v; got %s", sc.format, miss, alertSummary(got))
	}

	checkDatabaseView(t, srv.url, attackKey, got)

	// The benign log went in before the attack one, so once the attack's
	// alerts are out and every benign record is stored, its alerts are too.
	poll(t, "the benign records stored", func() bool { return storedEvents(t, srv.url, quietKey) >= int64(benignRecords) })
	if q := listAlerts(t, srv.url, quietKey); len(q) > 0 {
		t.Errorf("%s benign workload raised alerts: %s", sc.format, alertSummary(q))
	}
	t.Logf("%s: %d benign records, no alert; attack alerts: %s", sc.format, benignRecords, alertSummary(got))
}

// hasAlert reports whether alerts hold one titled title carrying the
// entity ent ("type=value"; "" for any).
func hasAlert(alerts []apiAlert, title, ent string) bool {
	for _, a := range alerts {
		if a.Rule.Title != title {
			continue
		}
		if ent == "" {
			return true
		}
		for _, e := range a.Entities {
			if e.Type+"="+e.Value == ent {
				return true
			}
		}
	}
	return false
}

func alertSummary(alerts []apiAlert) string {
	var b strings.Builder
	for _, a := range alerts {
		fmt.Fprintf(&b, "\n  %s [%s] x%d %v", a.Rule.Title, a.Severity, a.Count, a.Entities)
	}
	return b.String()
}

// splitAt cuts a log at the first line that contains marker: what comes
// before it, and the whole log.
func splitAt(t *testing.T, log []byte, marker string) (before []byte) {
	t.Helper()
	i := bytes.Index(log, []byte(marker))
	if i < 0 {
		t.Fatalf("marker %q not in the log:\n%s", marker, log)
	}
	return log[:bytes.LastIndexByte(log[:i], '\n')+1]
}

// checkDatabaseView reads the per-database routes: every alert of the
// workspace is counted under one server and database, and that database's
// alert list returns it.
func checkDatabaseView(t *testing.T, base, key string, alerts []apiAlert) {
	t.Helper()
	var view struct {
		Servers []struct {
			Server    string `json:"server"`
			Alerts    int    `json:"alerts"`
			Databases []struct {
				Database string         `json:"database"`
				Alerts   int            `json:"alerts"`
				ByType   map[string]int `json:"by_type"`
			} `json:"databases"`
		} `json:"servers"`
	}
	getJSON(t, base+"/api/v1/databases", key, &view)
	seen := map[string]bool{}
	total := 0
	for _, s := range view.Servers {
		for _, d := range s.Databases {
			var page struct {
				Alerts []apiAlert `json:"alerts"`
			}
			getJSON(t, base+"/api/v1/databases/"+url.PathEscape(s.Server)+"/"+url.PathEscape(d.Database)+"/alerts?limit=1000", key, &page)
			if len(page.Alerts) != d.Alerts {
				t.Errorf("database %s/%s counts %d alerts, its list has %d", s.Server, d.Database, d.Alerts, len(page.Alerts))
			}
			for _, a := range page.Alerts {
				if seen[a.ID] {
					t.Errorf("alert %s (%s) under two databases", a.ID, a.Rule.Title)
				}
				seen[a.ID] = true
				if d.ByType[a.Rule.Title] == 0 {
					t.Errorf("database %s/%s lists %q but does not count its type: %v", s.Server, d.Database, a.Rule.Title, d.ByType)
				}
			}
			total += d.Alerts
		}
	}
	for _, a := range alerts {
		if !seen[a.ID] {
			t.Errorf("alert %q %v under no database: %+v", a.Rule.Title, a.Entities, view)
		}
	}
	t.Logf("database view: %d alerts in %d servers: %+v", total, len(view.Servers), view.Servers)
}
