package alert

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEstimateIntent(t *testing.T) {
	cases := []struct {
		name   string
		f      IntentFacts
		want   string
		reason string // a word the reasons must contain
	}{
		{"no source", IntentFacts{}, IntentUnknown, "no source address"},
		{"nothing either way", IntentFacts{SourceIP: "203.0.113.1", Hosts: 1, Users: 1, Attempts: 1}, IntentUnknown, "no sign"},
		{"mass scanner in intelligence", IntentFacts{SourceIP: "203.0.113.1", MassThreats: []string{"scanner"}}, IntentRandom, "scanner"},
		{"tor exit", IntentFacts{SourceIP: "203.0.113.1", MassThreats: []string{"tor_exit"}}, IntentRandom, "tor_exit"},
		{"many workspaces", IntentFacts{SourceIP: "203.0.113.1", Workspaces: 3}, IntentRandom, "3 workspaces"},
		{"two workspaces are not many", IntentFacts{SourceIP: "203.0.113.1", Workspaces: 2}, IntentUnknown, "no sign"},
		{"many hosts", IntentFacts{SourceIP: "203.0.113.1", Hosts: 5}, IntentRandom, "5 hosts"},
		{"many users", IntentFacts{SourceIP: "203.0.113.1", Users: 7, Hosts: 1}, IntentRandom, "7 user names"},
		{"invalid user names only", IntentFacts{SourceIP: "203.0.113.1", InvalidUsers: 4, Hosts: 1, Users: 2}, IntentRandom, "do not exist"},
		{"valid user names", IntentFacts{SourceIP: "203.0.113.1", ValidUsers: 1, Users: 1, Hosts: 1}, IntentTargeted, "valid user names"},
		{"invalid and valid names", IntentFacts{SourceIP: "203.0.113.1", InvalidUsers: 3, ValidUsers: 1, Users: 2, Hosts: 1}, IntentTargeted, "valid user names"},
		{"persistent on one host", IntentFacts{SourceIP: "203.0.113.1", Hosts: 1, Users: 1, Attempts: 8}, IntentTargeted, "8 attempts against one host"},
		{"success after failures", IntentFacts{SourceIP: "203.0.113.1", SuccessAfterFailures: true}, IntentTargeted, "succeeded after failed"},
		{"activity after login", IntentFacts{SourceIP: "203.0.113.1", ActivityAfterLogin: true}, IntentTargeted, "active after a successful login"},
		{"follow-through outweighs one random sign", IntentFacts{SourceIP: "203.0.113.1", SuccessAfterFailures: true, Users: 6}, IntentTargeted, "6 user names"},
		{"a tie is unknown", IntentFacts{SourceIP: "203.0.113.1", SuccessAfterFailures: true, Users: 6, InvalidUsers: 6}, IntentUnknown, "succeeded after failed"},
		{"intelligence and spread outweigh follow-through", IntentFacts{SourceIP: "203.0.113.1", SuccessAfterFailures: true, MassThreats: []string{"botnet"}, Workspaces: 4, Hosts: 9}, IntentRandom, "botnet"},
	}
	for _, c := range cases {
		got := EstimateIntent(c.f)
		if got.Estimate != c.want {
			t.Errorf("%s: estimate %q (%v), want %q", c.name, got.Estimate, got.Reasons, c.want)
		}
		if !strings.Contains(strings.Join(got.Reasons, "; "), c.reason) {
			t.Errorf("%s: reasons %q do not say %q", c.name, got.Reasons, c.reason)
		}
	}
}

func TestIntentFactsOf(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	origin := &Origin{IP: "88.198.23.77", Indicators: []IndicatorRef{{ThreatType: "scanner"}, {ThreatType: "c2"}, {ThreatType: "scanner"}}}
	mk := func(id, title string, techs []string, at time.Duration, count int, es ...Entity) Alert {
		return Alert{ID: id, Rule: RuleRef{Title: title}, Techniques: techs, FirstSeen: t0.Add(at), LastSeen: t0.Add(at + time.Minute),
			Count: count, Entities: es, Origin: origin}
	}
	host := Entity{Type: EntityHost, Value: "bastion-01"}
	invalid := mk("a1", "SSH Login Attempt for a Nonexistent User", []string{"T1087", "T1110.003"}, 0, 6, host, Entity{Type: EntityAccount, Value: "oracle"})
	failRoot := mk("a2", "SSH Password Login Failed for root", []string{"T1110.001"}, time.Minute, 8, host, Entity{Type: EntityAccount, Value: "root"})
	failAlice := mk("a3", "Windows Logon Failure", []string{"T1110"}, 2*time.Minute, 2, Entity{Type: EntityHost, Value: "BASTION-01"}, Entity{Type: EntityAccount, Value: "alice"})
	accepted := mk("a4", "SSH Login Accepted for root", []string{"T1078.003"}, 3*time.Minute, 1, host, Entity{Type: EntityAccount, Value: "root"})
	later := mk("a5", "Certutil Used to Download a File", []string{"T1105"}, 5*time.Minute, 1, host)
	earlier := mk("a6", "Certutil Used to Download a File", []string{"T1105"}, -10*time.Minute, 1, host)

	f := IntentFactsOf(&invalid, []Alert{invalid, failRoot}, 2)
	if !slices.Equal(f.MassThreats, []string{"scanner"}) {
		t.Errorf("mass threats %v, want [scanner] once (c2 is not mass activity)", f.MassThreats)
	}
	if f.SourceIP != "88.198.23.77" || f.Workspaces != 2 || f.Hosts != 1 || f.Users != 2 || f.InvalidUsers != 6 || f.ValidUsers != 0 || f.Attempts != 14 {
		t.Errorf("facts %+v: want 1 host, 2 users, 6 invalid-user attempts, no valid non-default user, 14 attempts, the alert counted once", f)
	}
	if f.SuccessAfterFailures || f.ActivityAfterLogin {
		t.Errorf("no success yet, got %+v", f)
	}

	f = IntentFactsOf(&accepted, []Alert{invalid, failRoot, failAlice, earlier}, 1)
	if f.Hosts != 1 {
		t.Errorf("host names compare without case: %d hosts", f.Hosts)
	}
	if f.ValidUsers != 1 {
		t.Errorf("valid non-default users %d, want 1 (alice; root is a default)", f.ValidUsers)
	}
	if !f.SuccessAfterFailures {
		t.Error("a success after failures not seen")
	}
	if f.ActivityAfterLogin {
		t.Error("activity before the login counted as after it")
	}
	f = IntentFactsOf(&later, []Alert{accepted}, 1)
	if !f.ActivityAfterLogin || f.SuccessAfterFailures {
		t.Errorf("activity after login: %+v", f)
	}
	f = IntentFactsOf(&failRoot, []Alert{accepted}, 1)
	if !f.SuccessAfterFailures {
		t.Error("a success recorded before the failure alert is committed still follows the failures in time")
	}

	none := Alert{ID: "x", Count: 3}
	if f := IntentFactsOf(&none, []Alert{failRoot}, 0); f.SourceIP != "" || f.Attempts != 0 {
		t.Errorf("an alert without an origin gathers no peers: %+v", f)
	}
}
