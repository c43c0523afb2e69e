package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const killBruteForceRules = `title: failed logon
id: 22222222-0000-4000-8000-000000000001
name: kill_failed_logon
logsource:
  product: windows
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: brute force across a kill
id: 22222222-0000-4000-8000-000000000002
level: high
correlation:
  type: event_count
  rules: [kill_failed_logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition:
    gte: 3
`

// TestServeCorrelationAcrossKill: of three failed logons of one account,
// the first is committed in the stage's first group (whose correlator state
// is saved at once), the second in a later one (journalled only, within
// the save interval), then the server is killed with SIGKILL; after the
// restart the third reaches the threshold: one alert of three events. A
// server that lost the second failure with the kill would raise nothing.
func TestServeCorrelationAcrossKill(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte(killBruteForceRules), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := newKey(t, dir, "acme", "admin")
	args := []string{"--no-builtin-rules", "--rules", rules}
	at := time.Now().UTC().Add(-time.Hour)
	failure := func(i int) []byte {
		return fmt.Appendf(nil, `{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":"carol","TimeCreated":%q}`+"\n",
			at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	send := func(srv *proc, i int) {
		t.Helper()
		if r := ingestBody(t, srv.url, key, "dc1", "windows", "application/x-ndjson", failure(i)); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
		poll(t, fmt.Sprintf("failure %d stored", i+1), func() bool { return storedEvents(t, srv.url, key) == int64(i+1) })
	}

	srv := startServe(t, dir, args...)
	send(srv, 0)
	send(srv, 1)
	srv.kill()

	srv = startServe(t, dir, args...)
	defer srv.stop()
	send(srv, 2)
	var got []struct {
		Type  string `json:"type"`
		Count int    `json:"count"`
	}
	poll(t, "the brute-force alert", func() bool {
		var out struct {
			Alerts []struct {
				Type  string `json:"type"`
				Count int    `json:"count"`
			} `json:"alerts"`
		}
		getJSON(t, srv.url+"/api/v1/alerts?limit=100", key, &out)
		got = got[:0]
		for _, a := range out.Alerts {
			if a.Type == "correlation" {
				got = append(got, a)
			}
		}
		return len(got) > 0
	})
	time.Sleep(time.Second) // any further alert would have come by now
	if len(got) != 1 || got[0].Count != 3 {
		t.Fatalf("correlation alerts %+v, want one of 3 events", got)
	}
}
