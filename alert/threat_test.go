package alert

import "testing"

func TestThreatType(t *testing.T) {
	ind := func(tt string, conf int) IndicatorRef {
		return IndicatorRef{Kind: "ip", Value: "192.0.2.1", ThreatType: tt, Confidence: conf, Feed: "f"}
	}
	cases := []struct {
		name string
		a    Alert
		want string
	}{
		{"indicator wins over the rule", Alert{Techniques: []string{"T1110"}, Origin: &Origin{Indicators: []IndicatorRef{ind("scanner", 50)}}}, "scanner"},
		{"most confident indicator", Alert{Origin: &Origin{Indicators: []IndicatorRef{ind("spam", 40), ind("Botnet", 90), ind("c2", 60)}}}, "botnet"},
		{"unknown indicator falls through to the rule", Alert{Techniques: []string{"T1110.001"}, Origin: &Origin{Indicators: []IndicatorRef{ind("unknown", 99)}}}, ThreatBruteForce},
		{"sub-technique", Alert{Techniques: []string{"T1087", "T1110.003"}, Tactics: []string{"discovery"}}, ThreatBruteForce},
		{"sql injection from the title", Alert{Rule: RuleRef{Title: "Possible SQL Injection in URL"}, Techniques: []string{"T1190"}}, ThreatSQLInjection},
		{"exploit", Alert{Techniques: []string{"T1190"}}, ThreatExploit},
		{"credential dumping", Alert{Techniques: []string{"T1003.001"}, Tactics: []string{"credential-access"}}, ThreatCredentialDumping},
		{"valid accounts", Alert{Techniques: []string{"T1078.004"}}, ThreatValidAccounts},
		{"log tampering", Alert{Techniques: []string{"T1070.001"}}, ThreatLogTampering},
		{"prefix is not a parent technique", Alert{Techniques: []string{"T11100"}, Tactics: []string{"impact"}}, "impact"},
		{"tactic when no technique maps", Alert{Techniques: []string{"T1059.001"}, Tactics: []string{"execution", "defense-evasion"}}, "execution"},
		{"tactic with hyphens", Alert{Tactics: []string{"command-and-control"}}, "command_and_control"},
		{"nothing known", Alert{}, ThreatOther},
		{"source health is no threat", Alert{Type: "health", Tactics: []string{"impact"}}, ""},
	}
	for _, c := range cases {
		if got := ThreatType(&c.a); got != c.want {
			t.Errorf("%s: ThreatType = %q, want %q", c.name, got, c.want)
		}
	}
}
