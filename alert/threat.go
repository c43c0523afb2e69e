package alert

import "strings"

// Threat types of the threat-intelligence pane. An indicator's own threat
// type (package intel's Threat… constants: botnet, c2, malware, phishing,
// scanner, tor_exit, spam, brute_force, exploit, anonymizer, or a feed's own
// word) is used as it is; the rest are derived from the rule.
const (
	ThreatBruteForce        = "brute_force"
	ThreatSQLInjection      = "sql_injection"
	ThreatExploit           = "exploit"
	ThreatCredentialDumping = "credential_dumping"
	ThreatValidAccounts     = "valid_accounts"
	ThreatScanner           = "scanner"
	ThreatPhishing          = "phishing"
	ThreatRansomware        = "ransomware"
	ThreatDenialOfService   = "denial_of_service"
	ThreatLogTampering      = "log_tampering"
	ThreatOther             = "other"
)

// techniqueThreats maps ATT&CK techniques (and their sub-techniques) to a
// threat type, checked in order before the tactics: a technique says more.
var techniqueThreats = []struct{ technique, threat string }{
	{"T1110", ThreatBruteForce},        // Brute Force
	{"T1190", ThreatExploit},           // Exploit Public-Facing Application
	{"T1203", ThreatExploit},           // Exploitation for Client Execution
	{"T1003", ThreatCredentialDumping}, // OS Credential Dumping
	{"T1078", ThreatValidAccounts},     // Valid Accounts
	{"T1595", ThreatScanner},           // Active Scanning
	{"T1046", ThreatScanner},           // Network Service Discovery
	{"T1566", ThreatPhishing},          // Phishing
	{"T1486", ThreatRansomware},        // Data Encrypted for Impact
	{"T1498", ThreatDenialOfService},   // Network Denial of Service
	{"T1499", ThreatDenialOfService},   // Endpoint Denial of Service
	{"T1070", ThreatLogTampering},      // Indicator Removal (log clearing)
	{"T1562", ThreatLogTampering},      // Impair Defenses (logging stopped)
}

// ThreatType is the alert's threat type for the pane: the threat type of its
// most confident intelligence match when it has one; else a word from the
// rule's title for what ATT&CK has no technique of its own (SQL injection);
// else its first ATT&CK technique that names a threat (techniqueThreats);
// else its first tactic (credential-access → "credential_access"); else
// "other". Source health alerts (a source fell silent) are no threat: "".
func ThreatType(a *Alert) string {
	if a.Type == "health" {
		return ""
	}
	if a.Origin != nil {
		best := -1
		for i, r := range a.Origin.Indicators {
			if r.ThreatType == "" || r.ThreatType == "unknown" {
				continue
			}
			if best < 0 || r.Confidence > a.Origin.Indicators[best].Confidence {
				best = i
			}
		}
		if best >= 0 {
			return strings.ToLower(a.Origin.Indicators[best].ThreatType)
		}
	}
	title := strings.ToLower(a.Rule.Title)
	if strings.Contains(title, "sql injection") || strings.Contains(title, "sqli") {
		return ThreatSQLInjection
	}
	for _, t := range a.Techniques {
		for _, m := range techniqueThreats {
			if t == m.technique || strings.HasPrefix(t, m.technique+".") {
				return m.threat
			}
		}
	}
	for _, t := range a.Tactics {
		if t != "" {
			return strings.ReplaceAll(t, "-", "_")
		}
	}
	return ThreatOther
}
