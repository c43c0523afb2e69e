package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/content"
)

// TestServeRespond runs `vigil serve` with a respond section: an ingested
// alert reaches the rule, whose webhook is posted; the automation route
// shows the rule fired; a decision made with an admin key reaches a
// bouncer key's poll, and the bouncer key may do nothing else.
func TestServeRespond(t *testing.T) {
	dir := t.TempDir()
	admin, _ := newKey(t, dir, "acme", "admin")
	bouncer, _ := newKey(t, dir, "acme", "bouncer")
	sink := &postSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	conf := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(conf, []byte(`respond:
  playbooks:
    - name: hook
      type: webhook
      url: `+hook.URL+`/secret-path
  automation:
    - name: high-alerts
      trigger: alert_created
      when: {min-severity: high}
      actions:
        - playbook: hook
`), 0o600)
	srv := startServe(t, dir, "--config", conf)
	defer srv.stop()

	body, err := content.Demo.ReadFile("demo/windows.windows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if r := ingestBody(t, srv.url, admin, "dc01", "windows", "application/x-ndjson", body); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	poll(t, "the webhook", func() bool { return len(sink.got()) > 0 })
	var p struct {
		Kind  string
		Alert struct{ Severity string }
	}
	if err := json.Unmarshal(sink.got()[0], &p); err != nil || p.Kind != "alert" || (p.Alert.Severity != "high" && p.Alert.Severity != "critical") {
		t.Fatalf("posted %s (%v)", sink.got()[0], err)
	}

	var auto struct {
		Running bool
		Rules   []struct {
			Name  string
			Fired int
		}
		Playbooks []struct{ Target string }
	}
	poll(t, "the rule's count", func() bool {
		getJSON(t, srv.url+"/api/v1/automation", admin, &auto)
		return len(auto.Rules) == 1 && auto.Rules[0].Fired > 0
	})
	if !auto.Running || strings.Contains(auto.Playbooks[0].Target, "secret-path") {
		t.Errorf("automation = %+v", auto)
	}

	r := do(t, "POST", srv.url+"/api/v1/decisions", admin, "application/json",
		strings.NewReader(`{"kind": "ip", "value": "203.0.113.7", "duration": "1h", "reason": "test"}`))
	if r.status != 201 {
		t.Fatalf("create decision: %d %s", r.status, r.body)
	}
	var s struct {
		New []struct{ Value string }
	}
	getJSON(t, srv.url+"/api/v1/decisions/stream?startup=true", bouncer, &s)
	if len(s.New) != 1 || s.New[0].Value != "203.0.113.7" {
		t.Errorf("bouncer's poll = %+v", s)
	}
	if r := do(t, "GET", srv.url+"/api/v1/alerts", bouncer, "", nil); r.status != 403 {
		t.Errorf("bouncer key reads alerts: %d", r.status)
	}
}
