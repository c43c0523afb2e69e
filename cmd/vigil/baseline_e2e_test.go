package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const principalTitle = "Login from a Principal User Not Seen in 60 Days"

func sqlLogins(at time.Time, users ...string) []byte {
	var b strings.Builder
	for i, u := range users {
		fmt.Fprintf(&b, `{"event_time":%q,"action_id":"LGIS","action_name":"LOGIN SUCCEEDED","succeeded":true,"server_instance_name":"db1","server_principal_name":%q,"client_ip":"10.0.0.5","application_name":"webshop","database_name":"shop"}`+"\n",
			at.Add(time.Duration(i)*time.Second).UTC().Format("2006-01-02T15:04:05.0000000"), u)
	}
	return []byte(b.String())
}

type anomalyAlert struct {
	Rule struct {
		Title string `json:"title"`
	} `json:"rule"`
	Anomalies []struct {
		Model, Entity, Value, Kind string
	} `json:"anomalies"`
}

func anomalyAlerts(t *testing.T, base, key string) []anomalyAlert {
	t.Helper()
	var out struct {
		Alerts []anomalyAlert `json:"alerts"`
	}
	getJSON(t, base+"/api/v1/alerts?limit=1000", key, &out)
	return out.Alerts
}

// TestServeBaselinesResumeAfterRestart: serve learns a database server's
// principals, is restarted, and then flags only the principal it never
// saw — not those it learnt before the restart (no false first_seen) —
// in a standard workspace, and nothing in a free one.
func TestServeBaselinesResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	runCLI(t, "workspaces", "create", "gratis", "--tier", "free", "--data-dir", dir)
	freeKey, _ := newKey(t, dir, "gratis", "admin")
	// The first logins fall in the learning period (the first half hour
	// of event time); the later ones two hours on, after it: a restart
	// that lost the model would start learning again and flag nothing.
	args := []string{"--baseline-learning", "30m"}
	now := time.Now()

	srv := startServe(t, dir, args...)
	for _, k := range []string{key, freeKey} {
		if r := ingestBody(t, srv.url, k, "sql1", "mssql-audit", "application/x-ndjson", sqlLogins(now.Add(-2*time.Hour), "webapp", "report")); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}
	for _, k := range []string{key, freeKey} {
		poll(t, "the first logins stored", func() bool { return storedEvents(t, srv.url, k) == 2 })
	}
	srv.stop() // saves what the baselines learnt

	srv = startServe(t, dir, args...)
	defer srv.stop()
	for _, k := range []string{key, freeKey} {
		if r := ingestBody(t, srv.url, k, "sql1", "mssql-audit", "application/x-ndjson", sqlLogins(now, "webapp", "report", "mallory")); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}
	var got []anomalyAlert
	poll(t, "the unfamiliar principal's alert", func() bool {
		got = nil
		for _, a := range anomalyAlerts(t, srv.url, key) {
			if a.Rule.Title == principalTitle {
				got = append(got, a)
			}
		}
		return len(got) > 0
	})
	poll(t, "the free workspace's logins stored", func() bool { return storedEvents(t, srv.url, freeKey) == 5 })
	time.Sleep(500 * time.Millisecond) // any further alert of the batch
	got = nil
	for _, a := range anomalyAlerts(t, srv.url, key) {
		if a.Rule.Title == principalTitle {
			got = append(got, a)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %q alerts, want 1 (mallory's): %+v", len(got), principalTitle, got)
	}
	found := false
	for _, an := range got[0].Anomalies {
		found = found || (an.Model == "sql.principal" && an.Entity == "db1" && an.Value == "mallory" && an.Kind == "first_seen")
	}
	if !found {
		t.Errorf("alert anomalies %+v, want sql.principal mallory on db1", got[0].Anomalies)
	}
	for _, a := range anomalyAlerts(t, srv.url, freeKey) {
		if len(a.Anomalies) > 0 || a.Rule.Title == principalTitle {
			t.Errorf("free workspace alert %+v: baselines run for the standard tier only", a)
		}
	}
}
