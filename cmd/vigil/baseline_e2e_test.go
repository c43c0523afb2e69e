package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestScanBaseline: `vigil scan --baseline` learns in memory, in file
// order, and flags the principal the server had not seen, with the
// anomaly on the alert; the learning period holds flags back; without
// --baseline the baseline rules stay quiet.
func TestScanBaseline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.json")
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	var body []byte
	for d := 0; d < 3; d++ {
		body = append(body, sqlLogins(t0.Add(time.Duration(d)*24*time.Hour), "webapp", "report")...)
	}
	body = append(body, sqlLogins(t0.Add(3*24*time.Hour), "webapp", "mallory")...)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	titles := func(out string) map[string]int {
		var alerts []anomalyAlert
		if err := json.Unmarshal([]byte(out), &alerts); err != nil {
			t.Fatalf("scan output: %v\n%s", err, out)
		}
		m := map[string]int{}
		for _, a := range alerts {
			m[a.Rule.Title]++
			for _, an := range a.Anomalies {
				m[an.Model+"="+an.Value]++
			}
		}
		return m
	}
	scan := func(args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(vigilBin, append([]string{"scan", "--format", "mssql-audit", "-o", "json", "--progress=false"}, append(args, path)...)...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("scan %v: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String()
	}
	out, errOut := scan("--baseline", "--baseline-learning", "48h")
	got := titles(out)
	if got[principalTitle] != 1 || got["sql.principal=mallory"] != 1 || got["sql.principal=report"] != 0 {
		t.Fatalf("--baseline: alerts %v, want the unfamiliar principal once, for mallory only\n%s", got, errOut)
	}
	if !strings.Contains(errOut, "baseline sql.principal: 1 entities, 3 values, flagging") {
		t.Errorf("stderr lacks the model's state:\n%s", errOut)
	}
	// A learning period longer than the file: nothing flagged.
	out, errOut = scan("--baseline", "--baseline-learning", "240h")
	if got := titles(out); got[principalTitle] != 0 || !strings.Contains(errOut, "learning until 2026-10-11T08:00:00Z") {
		t.Fatalf("still learning: alerts %v\n%s", got, errOut)
	}
	out, _ = scan()
	if got := titles(out); got[principalTitle] != 0 {
		t.Fatalf("without --baseline: alerts %v", got)
	}
}
