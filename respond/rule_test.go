package respond

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

func TestConditions(t *testing.T) {
	a := &alert.Alert{Workspace: "acme", Severity: alert.High, Priority: 70, Rule: alert.RuleRef{ID: "ssh_brute_force"},
		Tactics:  []string{"credential-access"},
		Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.7"}, {Type: "account", Value: "Root"}}}
	inc := &incident.Incident{Workspace: "acme", Severity: alert.Medium, Priority: 40, RuleIDs: []string{"sqli", "ssh_brute_force"},
		Tags: []string{"prod"}, Entities: []alert.Entity{{Type: "host", Value: "db1"}}}
	for _, c := range []struct {
		name      string
		when      Conditions
		onAlert   bool
		onInciden bool
	}{
		{"none", Conditions{}, true, true},
		{"workspace", Conditions{Workspaces: []string{"other"}}, false, false},
		{"min severity high", Conditions{MinSeverity: "high"}, true, false},
		{"min severity critical", Conditions{MinSeverity: "critical"}, false, false},
		{"min priority 50", Conditions{MinPriority: 50}, true, false},
		{"rule", Conditions{Rules: []string{"sqli"}}, false, true},
		{"rule any of", Conditions{Rules: []string{"x", "ssh_brute_force"}}, true, true},
		{"tactic", Conditions{Tactics: []string{"credential-access"}}, true, false},
		{"entity type", Conditions{EntityTypes: []string{"host"}}, false, true},
		{"entity value, case", Conditions{Entities: []string{"root"}}, true, false},
		{"entity cidr", Conditions{Entities: []string{"203.0.113.0/24"}}, true, false},
		{"entity cidr miss", Conditions{Entities: []string{"198.51.100.0/24"}}, false, false},
		{"tag", Conditions{Tags: []string{"prod"}}, false, true},
		{"all together", Conditions{MinSeverity: "medium", Rules: []string{"ssh_brute_force"}, Entities: []string{"db1"}}, false, true},
	} {
		if err := c.when.prepare(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := c.when.holds(alertSubject(a)); got != c.onAlert {
			t.Errorf("%s on the alert = %v, want %v", c.name, got, c.onAlert)
		}
		if got := c.when.holds(incidentSubject(inc)); got != c.onInciden {
			t.Errorf("%s on the incident = %v, want %v", c.name, got, c.onInciden)
		}
	}
}

func TestConfigCheckNamesRuleAndField(t *testing.T) {
	pb := Playbook{Name: "hook", Type: PlaybookWebhook, URL: "https://hooks.example.org/x"}
	cmd := Playbook{Name: "run", Type: PlaybookCommand, Command: []string{"/bin/true"}}
	rule := func(mod func(*Rule)) Rule {
		r := Rule{Name: "r1", Trigger: TriggerAlertCreated, Actions: []Action{{Tag: "x"}}}
		mod(&r)
		return r
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Trigger = "alert_updated" })}}, `automation rule "r1" (respond.automation[0]): trigger: "alert_updated"`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.When.MinSeverity = "severe" })}}, `automation rule "r1" (respond.automation[0]): when.min-severity`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Actions = []Action{{Playbook: "nope"}} })}}, `actions[0].playbook: no playbook is named "nope"`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Actions = []Action{{Tag: "a", Assign: "b"}} })}}, `actions[0]: set exactly one`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Actions = []Action{{Block: &Block{Kind: "host", Duration: time.Hour}}} })}}, `actions[0].block.kind`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Actions = []Action{{Block: &Block{Kind: "ip"}}} })}}, `actions[0].block.duration`},
		{Config{Automation: []Rule{rule(func(r *Rule) { r.Stage = "assess" })}}, `stage: only a rule on incident_stage`},
		{Config{Automation: []Rule{rule(func(*Rule) {}), rule(func(*Rule) {})}}, `(respond.automation[1]): name: another rule`},
		{Config{Playbooks: []Playbook{{Name: "p", Type: PlaybookWebhook, URL: "ftp://x"}}}, `playbook "p" (respond.playbooks[0]): url`},
		{Config{Playbooks: []Playbook{{Name: "p", Type: PlaybookWebhook, URL: "https://x", Template: "discord"}}}, `playbook "p" (respond.playbooks[0]): template`},
		{Config{Playbooks: []Playbook{{Name: "p", Type: PlaybookWebhook, URL: "https://x", Body: "{{.Nope"}}}, `playbook "p" (respond.playbooks[0]): body`},
		{Config{Playbooks: []Playbook{{Name: "m", Type: PlaybookEmail, SMTP: "mail", From: "a@b", To: []string{"c@d"}}}}, `playbook "m" (respond.playbooks[0]): smtp`},
		{Config{Playbooks: []Playbook{{Name: "m", Type: PlaybookEmail, SMTP: "mail:25", From: "a@b"}}}, `playbook "m" (respond.playbooks[0]): to`},
		{Config{Playbooks: []Playbook{{Name: "c", Type: PlaybookCommand, Command: []string{"isolate"}}}}, `playbook "c" (respond.playbooks[0]): command`},
		{Config{Playbooks: []Playbook{pb}, Notifications: []Notification{{Name: "n", Playbook: "x"}}}, `notification "n" (respond.notifications[0]): playbook`},
		{Config{Playbooks: []Playbook{cmd}, Notifications: []Notification{{Name: "n", Playbook: "run"}}}, `notifications go over webhook or email`},
		{Config{Playbooks: []Playbook{pb}, Notifications: []Notification{{Name: "n", Playbook: "hook", Overflow: "queue"}}}, `notification "n" (respond.notifications[0]): overflow`},
	} {
		err := c.cfg.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check() = %v, want an error with %q", err, c.want)
		}
	}
	good := Config{Playbooks: []Playbook{pb}, Automation: []Rule{rule(func(r *Rule) {
		r.Trigger, r.Stage = TriggerIncidentStage, incident.StageStabilize
		r.Actions = []Action{{Playbook: "hook"}, {Severity: "critical"}, {Block: &Block{Kind: "range", Duration: time.Hour, Prefix: 16}}}
	})}, Notifications: []Notification{{Name: "n", Playbook: "hook"}}}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	n := good.Notifications[0]
	if n.Max != DefaultNotifyMax || n.Window != DefaultNotifyWindow || n.Overflow != OverflowSummary {
		t.Errorf("notification defaults = %d %s %s", n.Max, n.Window, n.Overflow)
	}
	if p := good.Playbooks[0]; p.Attempts != DefaultAttempts || p.Timeout != DefaultTimeout || p.Backoff != DefaultBackoff {
		t.Errorf("playbook defaults = %d %s %s", p.Attempts, p.Timeout, p.Backoff)
	}
}

func TestThrottle(t *testing.T) {
	th := &throttle{max: 2, window: time.Minute}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for i, want := range []bool{true, true, false, false} {
		if got := th.allow(at(i), "m"); got != want {
			t.Fatalf("message %d allowed = %v, want %v", i, got, want)
		}
	}
	if held := th.due(at(59)); held != nil {
		t.Fatalf("due before the window ends = %v", held)
	}
	if held := th.due(at(60)); len(held) != 2 {
		t.Fatalf("due at the window's end = %v, want 2 held", held)
	}
	if held := th.due(at(61)); held != nil {
		t.Fatalf("due again = %v, want nothing", held)
	}
	// A new window opens with the next message.
	if !th.allow(at(200), "m") || !th.allow(at(201), "m") || th.allow(at(202), "m") {
		t.Fatal("the next window does not let max messages through")
	}
	// A window without held messages simply ends.
	th2 := &throttle{max: 1, window: time.Minute}
	if !th2.allow(at(0), "a") || !th2.allow(at(61), "b") {
		t.Fatal("a message after a quiet window's end is held")
	}
}

// FuzzConditions: whatever values and entities a rule's conditions and an
// alert hold, preparing and matching neither panics nor lets a network
// condition match a value outside it.
func FuzzConditions(f *testing.F) {
	for _, s := range [][2]string{{"203.0.113.0/24", "203.0.113.7"}, {"root", "ROOT"}, {"::ffff:10.0.0.0/104", "10.1.2.3"}, {"/", ""}, {"2001:db8::/32", "2001:db8::1%eth0"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cond, value string) {
		c := Conditions{Entities: []string{cond}}
		if err := c.prepare(); err != nil {
			return
		}
		a := &alert.Alert{Entities: []alert.Entity{{Type: "ip", Value: value}}}
		got := c.holds(alertSubject(a))
		if len(c.networks) == 1 && len(c.values) == 0 && got {
			addr, err := netip.ParseAddr(value)
			if err != nil || !c.networks[0].Contains(addr.Unmap()) {
				t.Fatalf("network %s matched %q", c.networks[0], value)
			}
		}
	})
}

func TestBlockJSON(t *testing.T) {
	b, err := json.Marshal(Action{Block: &Block{Kind: "range", Duration: 4 * time.Hour, Prefix: 16}})
	if err != nil || string(b) != `{"block":{"kind":"range","prefix":16,"duration":"4h0m0s"}}` {
		t.Fatalf("%s, %v", b, err)
	}
}
