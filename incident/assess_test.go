package incident

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

var assessT0 = time.Date(2026, 11, 30, 9, 58, 0, 0, time.UTC)

func assessAt(min int) time.Time { return assessT0.Add(time.Duration(min) * time.Minute) }

var attacker = &alert.Origin{IP: "203.0.113.45", Country: "NL", ASN: 64500, ASOrg: "Example Hosting",
	Indicators: []alert.IndicatorRef{{Kind: "ip", Value: "203.0.113.45", ThreatType: "scanner", Confidence: 80, Feed: "blocklist"}}}

// attackerPlain is the same address without intelligence: the threat
// type then comes from the rule.
var attackerPlain = &alert.Origin{IP: "203.0.113.45", Country: "NL", ASN: 64500, ASOrg: "Example Hosting"}

// chain is a multi-stage attack's alerts, out of order on purpose.
func attackChain() []alert.Alert {
	return []alert.Alert{
		{ID: "a-sudo", Rule: alert.RuleRef{Title: "Root Shell Opened through sudo"}, Tactics: []string{"privilege-escalation"}, Techniques: []string{"T1548.003"},
			Entities: []alert.Entity{{Type: "host", Value: "web-01"}, {Type: "account", Value: "deploy"}}, FirstSeen: assessAt(11), LastSeen: assessAt(11)},
		{ID: "a-scan", Rule: alert.RuleRef{Title: "Vertical Port Scan"}, Tactics: []string{"reconnaissance"}, Techniques: []string{"T1046"},
			Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.45"}, {Type: "ip", Value: "10.0.1.20"}}, Origin: attacker,
			Intent: &alert.Intent{Estimate: alert.IntentRandom, Reasons: []string{"the source is a known scanner address in threat intelligence"}}, FirstSeen: assessAt(0), LastSeen: assessAt(1)},
		{ID: "a-brute", Rule: alert.RuleRef{Title: "SSH Brute Force", Outcome: "attempt"}, Tactics: []string{"credential-access"}, Techniques: []string{"T1110.001"},
			Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.45"}, {Type: "host", Value: "web-01"}, {Type: "account", Value: "deploy"}}, Origin: attackerPlain,
			Compromised: &alert.Entity{Type: "host", Value: "web-01"}, // aimed at, not taken
			Intent:      &alert.Intent{Estimate: alert.IntentTargeted, Reasons: []string{"the source tried 1 valid user names that are not common defaults"}}, FirstSeen: assessAt(4), LastSeen: assessAt(6)},
		{ID: "a-login", Rule: alert.RuleRef{Title: "SSH Login After Brute Force", Outcome: "success"}, Tactics: []string{"initial-access"}, Techniques: []string{"T1078"},
			Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.45"}, {Type: "host", Value: "web-01"}, {Type: "account", Value: "deploy"}}, Origin: attackerPlain,
			Compromised: &alert.Entity{Type: "account", Value: "deploy"},
			Intent: &alert.Intent{Estimate: alert.IntentTargeted, Reasons: []string{"a login from the source succeeded after failed attempts",
				"the source tried 1 valid user names that are not common defaults"}}, FirstSeen: assessAt(7), LastSeen: assessAt(7)},
		{ID: "a-bulk", Rule: alert.RuleRef{Title: "Large Result Set Sent to an Internet Address", Outcome: "success"}, Tactics: []string{"collection", "exfiltration"},
			Techniques: []string{"T1213.006", "T1048"},
			Entities:   []alert.Entity{{Type: "ip", Value: "198.51.100.7"}, {Type: "host", Value: "SQL-SHOP-01"}, {Type: "database", Value: "shop"}},
			Origin:     &alert.Origin{IP: "198.51.100.7", Country: "DE", ASN: 64501, ASOrg: "Other Net", Indicators: attacker.Indicators},
			FirstSeen:  assessAt(48), LastSeen: assessAt(49)},
		{ID: "a-health", Type: "health", Rule: alert.RuleRef{Title: "Source Silent"}, FirstSeen: assessAt(50), LastSeen: assessAt(50)},
	}
}

func chainEvidence() []EvidenceEvent {
	sql := func(stmt string) FieldMap {
		return fm("db.statement", stmt, "db.name", "shop", "server_instance_name", "SQL-SHOP-01", "event.outcome", "success")
	}
	return []EvidenceEvent{
		{AlertID: "a-bulk", EventID: "e2", Time: assessAt(49), Fields: sql("SELECT * FROM dbo.customers")},
		{AlertID: "a-bulk", EventID: "e1", Time: assessAt(48), Fields: sql("SELECT customer_id, cvv FROM dbo.payment_cards")},
		{AlertID: "a-bulk", EventID: "e3", Time: assessAt(49), Fields: sql("select * from DBO.CUSTOMERS")}, // the same table again
		{AlertID: "a-bulk", EventID: "e4", Time: assessAt(49), Fields: sql("SELECT sku FROM dbo.products")},
		{AlertID: "a-login", EventID: "e5", Time: assessAt(7)}, // no fields: nothing to read
	}
}

func TestAssessNature(t *testing.T) {
	n := Assess(attackChain(), nil, nil).Nature
	wantTypes := []string{"Vertical Port Scan", "SSH Brute Force", "SSH Login After Brute Force", "Root Shell Opened through sudo", "Large Result Set Sent to an Internet Address"}
	if !slices.Equal(n.AlertTypes, wantTypes) {
		t.Errorf("alert types %q, want %q (first seen first, the silent source left out)", n.AlertTypes, wantTypes)
	}
	// threat types: from the indicator when there is one (the scan, the
	// bulk read), else from the rule
	if want := []string{"scanner", "brute_force", "valid_accounts", "privilege_escalation"}; !slices.Equal(n.ThreatTypes, want) {
		t.Errorf("threat types %q, want %q", n.ThreatTypes, want)
	}
	if want := []string{"reconnaissance", "initial-access", "privilege-escalation", "credential-access", "collection", "exfiltration"}; !slices.Equal(n.Tactics, want) {
		t.Errorf("tactics %q, want kill-chain order %q", n.Tactics, want)
	}
	if want := []string{"T1046", "T1110.001", "T1078", "T1548.003", "T1213.006", "T1048"}; !slices.Equal(n.Techniques, want) {
		t.Errorf("techniques %q, want %q", n.Techniques, want)
	}
	if !strings.Contains(n.Summary, "5 alert types") || !strings.Contains(n.Summary, "reconnaissance → initial-access") {
		t.Errorf("summary %q", n.Summary)
	}
	if e := Assess(nil, nil, nil); e.Nature.AlertTypes == nil || e.Nature.Summary != "" || e.Compromised == nil || e.DataAccessed == nil {
		t.Errorf("no alerts: %+v (want empty lists, not null)", e)
	}
}

func TestAssessOrigin(t *testing.T) {
	o := Assess(attackChain(), nil, nil).Origin
	if want := []string{"203.0.113.45", "198.51.100.7"}; !slices.Equal(o.Addresses, want) {
		t.Errorf("addresses %q, want %q", o.Addresses, want)
	}
	if want := []string{"NL", "DE"}; !slices.Equal(o.Countries, want) {
		t.Errorf("countries %q", o.Countries)
	}
	if want := []string{"AS64500 Example Hosting", "AS64501 Other Net"}; !slices.Equal(o.Networks, want) {
		t.Errorf("networks %q", o.Networks)
	}
	if len(o.Indicators) != 1 || o.Indicators[0].Value != "203.0.113.45" {
		t.Errorf("indicators %+v, want the one match once", o.Indicators)
	}
	if want := "from 2 addresses (203.0.113.45…); in NL, DE; on AS64500 Example Hosting, AS64501 Other Net; 1 intelligence match (scanner)"; o.Summary != want {
		t.Errorf("summary %q\nwant    %q", o.Summary, want)
	}
	if o := Assess([]alert.Alert{{ID: "x"}}, nil, nil).Origin; o.Summary != "no source address known" || len(o.Addresses) != 0 {
		t.Errorf("no origin: %+v", o)
	}
}

func TestAssessIntent(t *testing.T) {
	in := Assess(attackChain(), nil, nil).Intent
	if in.Estimate != alert.IntentTargeted {
		t.Fatalf("intent %+v, want targeted: a login succeeded after failures", in)
	}
	if !slices.Contains(in.Reasons, "a login from the source succeeded after failed attempts") ||
		!slices.Contains(in.Reasons, "after SSH Login After Brute Force succeeded, the attack went on (privilege-escalation, collection, exfiltration)") {
		t.Errorf("reasons %q", in.Reasons)
	}
	if n := len(in.Reasons); n != len(slices.Compact(slices.Sorted(slices.Values(in.Reasons)))) {
		t.Errorf("a reason listed twice: %q", in.Reasons)
	}
	targeted := func(reasons ...string) *alert.Intent {
		return &alert.Intent{Estimate: alert.IntentTargeted, Reasons: reasons}
	}
	random := &alert.Intent{Estimate: alert.IntentRandom, Reasons: []string{"the same source tried 9 hosts"}}
	for _, tc := range []struct {
		name   string
		alerts []alert.Alert
		want   string
	}{
		{"targeted without follow-through loses to random", []alert.Alert{
			{ID: "1", Intent: targeted("5 attempts against one host")}, {ID: "2", Intent: random}}, alert.IntentRandom},
		{"targeted alone", []alert.Alert{{ID: "1", Intent: targeted("5 attempts against one host")}, {ID: "2"}}, alert.IntentTargeted},
		{"follow-through wins over random", []alert.Alert{
			{ID: "1", Intent: targeted("the source was active after a successful login")}, {ID: "2", Intent: random}}, alert.IntentTargeted},
		{"unknown", []alert.Alert{{ID: "1", Intent: &alert.Intent{Estimate: alert.IntentUnknown}}, {ID: "2"}}, alert.IntentUnknown},
		{"success then later stages, no estimate", []alert.Alert{
			{ID: "1", Rule: alert.RuleRef{Title: "Valid Login", Outcome: "success"}, Tactics: []string{"initial-access"}, FirstSeen: assessAt(0), LastSeen: assessAt(0)},
			{ID: "2", Rule: alert.RuleRef{Title: "Encoded PowerShell"}, Tactics: []string{"execution"}, FirstSeen: assessAt(5), LastSeen: assessAt(5)}}, alert.IntentTargeted},
		{"success after the later stages is no follow-through", []alert.Alert{
			{ID: "1", Rule: alert.RuleRef{Title: "Valid Login", Outcome: "success"}, Tactics: []string{"initial-access"}, FirstSeen: assessAt(10), LastSeen: assessAt(10)},
			{ID: "2", Rule: alert.RuleRef{Title: "Encoded PowerShell"}, Tactics: []string{"execution"}, FirstSeen: assessAt(5), LastSeen: assessAt(5)}}, alert.IntentUnknown},
	} {
		got := Assess(tc.alerts, nil, nil).Intent
		if got.Estimate != tc.want || len(got.Reasons) == 0 {
			t.Errorf("%s: %+v, want %s with reasons", tc.name, got, tc.want)
		}
	}
}

func TestAssessCompromised(t *testing.T) {
	cs := Assess(attackChain(), chainEvidence(), nil).Compromised
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s=%s by %s: %s", c.Entity.Type, c.Entity.Value, c.AlertID, c.Reason))
	}
	want := []string{
		"account=deploy by a-login: logon succeeded after brute force (SSH Login After Brute Force)",
		"host=web-01 by a-login: logon succeeded after brute force (SSH Login After Brute Force); privilege escalation (Root Shell Opened through sudo)",
		"host=SQL-SHOP-01 by a-bulk: Large Result Set Sent to an Internet Address (the rule saw the attack succeed)",
		"database=shop by a-bulk: data accessed (Large Result Set Sent to an Internet Address)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("compromised:\n got  %q\n want %q", got, want)
	}
	// The brute force alone (an attempt) and the scan compromise nothing,
	// and the attacker's address is never a compromised system.
	only := Assess(attackChain()[1:3], nil, nil).Compromised
	if len(only) != 0 {
		t.Errorf("attempts only: %+v", only)
	}
	// A success without a brute force before it is reported as the rule's.
	login := attackChain()[3]
	c := Assess([]alert.Alert{login}, nil, nil).Compromised
	if len(c) != 2 || c[0].Reason != "SSH Login After Brute Force (the rule saw the attack succeed)" {
		t.Errorf("login alone: %+v", c)
	}
}

func TestAssessDataAccessed(t *testing.T) {
	ds := Assess(attackChain(), chainEvidence(), nil).DataAccessed
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %s|%s %s %s/%s %s %s", d.Sensitivity, d.Container, d.Name, d.Action, d.AlertID, d.EventID, d.Rule, d.Time.Format("15:04")))
	}
	want := []string{
		"restricted SQL-SHOP-01/shop|dbo.payment_cards read a-bulk/e1 card-tables 10:46",
		"restricted dbo.payment_cards|cvv read a-bulk/e1 card-columns 10:46",
		"confidential SQL-SHOP-01/shop|dbo.customers read a-bulk/e2 people-and-business-records 10:47",
		"internal dbo.payment_cards|customer_id read a-bulk/e1  10:46",
		"internal SQL-SHOP-01/shop|dbo.products read a-bulk/e4  10:47",
		"internal dbo.products|sku read a-bulk/e4  10:47",
	}
	if !slices.Equal(got, want) {
		t.Errorf("data accessed:\n got  %q\n want %q", got, want)
	}

	// The workspace's own rules and default label.
	cls := MustClassifier([]SensitivityRule{{Name: "catalogue", Kind: DataTable, Pattern: "*.products", Label: Public}}, Confidential)
	ds = Assess(attackChain(), chainEvidence(), cls).DataAccessed
	if ds[len(ds)-1].Sensitivity != Public || ds[len(ds)-1].Rule != "catalogue" || ds[0].Sensitivity != Confidential || ds[0].Rule != "" {
		t.Errorf("custom rules: first %+v, last %+v", ds[0], ds[len(ds)-1])
	}

	// The list is capped; the most sensitive stay.
	var many []EvidenceEvent
	for i := range MaxDataAccessed + 50 {
		many = append(many, EvidenceEvent{AlertID: "a", EventID: fmt.Sprint(i), Time: assessAt(i), Fields: fm("file.path", fmt.Sprintf("/srv/f%d.txt", i), "event.action", "read")})
	}
	many = append(many, EvidenceEvent{AlertID: "a", EventID: "last", Time: assessAt(999), Fields: fm("file.path", "/etc/shadow", "event.action", "read")})
	ds = Assess(nil, many, nil).DataAccessed
	if len(ds) != MaxDataAccessed || ds[0].Name != "/etc/shadow" {
		t.Errorf("cap: %d entries, first %+v", len(ds), ds[0])
	}
}
