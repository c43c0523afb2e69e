package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example's respond section reads into typed rules, playbooks and
// notifications, durations and nested blocks included.
func TestExampleConfigRespond(t *testing.T) {
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", filepath.Join("..", "..", "docs", "vigil.example.yaml")}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Respond
	if len(r.Playbooks) != 5 || len(r.Automation) != 3 || len(r.Notifications) != 1 {
		t.Fatalf("respond section read as %d playbooks, %d rules, %d notifications", len(r.Playbooks), len(r.Automation), len(r.Notifications))
	}
	if b := r.Automation[0].Actions[0].Block; b == nil || b.Kind != "ip" || b.Duration != 4*time.Hour {
		t.Errorf("block action read as %+v", b)
	}
	if r.Automation[1].When.MinPriority != 80 || r.Automation[2].Stage != "stabilize" || !r.Automation[2].Disabled {
		t.Errorf("rules read as %+v", r.Automation)
	}
	if p := r.Playbooks[4]; p.Timeout != 30*time.Second || p.Attempts != 1 || len(p.Command) != 3 {
		t.Errorf("command playbook read as %+v", p)
	}
	if n := r.Notifications[0]; n.Window != 10*time.Minute || n.Max != 10 || len(n.Stages) != 2 {
		t.Errorf("notification read as %+v", n)
	}
}

// A mistake in the respond section stops the start, naming the rule and
// the field.
func TestRespondConfigErrorNamesRuleAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	os.WriteFile(path, []byte(`respond:
  automation:
    - name: noisy
      trigger: alert_created
      when: {min-severity: severe}
      actions: [{tag: x}]
`), 0o600)
	cmd := newServeCmd()
	if err := cmd.Flags().Parse([]string{"--config", path}); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(cmd.Flags())
	if err == nil || !strings.Contains(err.Error(), `automation rule "noisy" (respond.automation[0]): when.min-severity`) {
		t.Fatalf("err = %v", err)
	}
}
