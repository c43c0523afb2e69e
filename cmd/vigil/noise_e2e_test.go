package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/content"
)

// TestServeSuppressionsAndFalsePositives runs noise control through
// `vigil serve`: a suppression made through the API keeps every alert
// about its host out of the store while the other alerts come, counts
// its hits; a dismissal as false positive counts against its rule.
func TestServeSuppressionsAndFalsePositives(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	srv := startServe(t, dir)
	defer srv.stop()

	const host = "WKS-FIN-07.corp.example"
	r := do(t, "POST", srv.url+"/api/v1/suppressions", key, "application/json",
		strings.NewReader(`{"entity": {"type": "host", "value": "`+strings.ToLower(host)+`"}, "reason": "red team exercise host"}`))
	if r.status != 201 {
		t.Fatalf("create suppression: %d %s", r.status, r.body)
	}
	var sup struct {
		ID   string `json:"id"`
		Hits int64  `json:"hits"`
	}
	r.json(t, &sup)

	body, err := content.Demo.ReadFile("demo/windows.windows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if r := ingestBody(t, srv.url, key, "dc01", "windows", "application/x-ndjson", body); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	lines := int64(bytes.Count(body, []byte("\n")))
	poll(t, "the demo's events stored and the suppression hit", func() bool {
		getJSON(t, srv.url+"/api/v1/suppressions/"+sup.ID, key, &sup)
		return storedEvents(t, srv.url, key) == lines && sup.Hits > 0
	})
	var failure apiAlert
	poll(t, "the logon failure alert of the other host", func() bool {
		for _, a := range listAlerts(t, srv.url, key) {
			if a.Rule.Title == "Windows Logon Failure" {
				failure = a
				return true
			}
		}
		return false
	})
	for _, a := range listAlerts(t, srv.url, key) {
		for _, e := range a.Entities {
			if e.Type == "host" && strings.EqualFold(e.Value, host) {
				t.Errorf("alert %q about the suppressed host", a.Rule.Title)
			}
		}
	}
	// The encoded PowerShell, certutil, LSASS and log-cleared rules fired
	// on that host: four signals suppressed.
	if sup.Hits != 4 {
		t.Errorf("suppression hits %d, want 4", sup.Hits)
	}

	p := do(t, "PATCH", srv.url+"/api/v1/alerts/"+failure.ID, key, "application/json",
		strings.NewReader(`{"status": "dismissed", "reason": "false_positive"}`))
	if p.status != 200 {
		t.Fatalf("dismiss: %d %s", p.status, p.body)
	}
	var stats struct {
		Rules []struct {
			Rule           string `json:"rule"`
			Alerts         int64  `json:"alerts"`
			FalsePositives int64  `json:"false_positives"`
			Suppressed     int64  `json:"suppressed"`
		} `json:"rules"`
	}
	getJSON(t, srv.url+"/api/v1/rules/stats", key, &stats)
	var fp, suppressed int64
	for _, r := range stats.Rules {
		suppressed += r.Suppressed
		if r.Rule == failure.Rule.ID {
			fp = r.FalsePositives
		}
	}
	if fp != 1 || suppressed != 4 {
		t.Errorf("rule stats %+v: want 1 false positive on %s and 4 suppressed signals", stats.Rules, failure.Rule.ID)
	}
	a := do(t, "GET", srv.url+"/api/v1/audit", key, "", nil)
	if !strings.Contains(string(a.body), "suppression.create") || !strings.Contains(string(a.body), "(false_positive)") {
		t.Errorf("audit log lacks the suppression or the classification: %s", a.body)
	}
}
