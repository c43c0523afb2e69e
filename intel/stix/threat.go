package stix

import "github.com/vigil-sec/vigil/intel"

// threatName names the threat among the objects an indicator indicates:
// a malware first (the most specific), then an actor, an intrusion set,
// a campaign, an infrastructure, a tool.
func threatName(related []*object) string {
	for _, typ := range []string{"malware", "threat-actor", "intrusion-set", "campaign", "infrastructure", "tool"} {
		for _, o := range related {
			if o.Type == typ && o.Name != "" {
				return o.Name
			}
		}
	}
	return ""
}

// threatType derives the threat type from what an indicator indicates:
// infrastructure types first (command-and-control says more of an
// address than the malware behind it), then malware types.
func threatType(related []*object, k intel.Kind) string {
	for _, o := range related {
		if o.Type == "infrastructure" {
			if t := infrastructureType(o.InfrastructureTypes); t != "" {
				return t
			}
		}
	}
	for _, o := range related {
		if o.Type == "malware" {
			return malwareType(o.MalwareTypes, k)
		}
	}
	return ""
}

// infrastructureType maps the infrastructure-type vocabulary; types of
// defensive or neutral infrastructure (firewall, workstation…) give "".
func infrastructureType(types []string) string {
	best := ""
	for _, t := range types {
		m := map[string]string{
			"command-and-control":  intel.ThreatC2,
			"botnet":               intel.ThreatBotnet,
			"phishing":             intel.ThreatPhishing,
			"anonymization":        intel.ThreatAnonymizer,
			"hosting-malware":      intel.ThreatMalware,
			"reconnaissance":       intel.ThreatScanner,
			"amplification":        "amplification",
			"exfiltration":         "exfiltration",
			"hosting-target-lists": "hosting-target-lists",
			"staging":              "staging",
		}[t]
		if m != "" && (best == "" || intel.Specificity(m) < intel.Specificity(best)) {
			best = m
		}
	}
	return best
}

// malwareType maps the malware-type vocabulary. A remote-access trojan or
// backdoor seen as an address, domain or URL is its command and control;
// seen as a file hash it is the malware itself.
func malwareType(types []string, k intel.Kind) string {
	network := k == intel.KindIP || k == intel.KindCIDR || k == intel.KindDomain || k == intel.KindURL
	best := intel.ThreatMalware
	for _, t := range types {
		m := intel.ThreatMalware
		switch t {
		case "bot":
			m = intel.ThreatBotnet
		case "remote-access-trojan", "backdoor":
			if network {
				m = intel.ThreatC2
			}
		case "exploit-kit":
			m = intel.ThreatExploit
		}
		if intel.Specificity(m) < intel.Specificity(best) {
			best = m
		}
	}
	return best
}

// indicatorType maps the indicator-type vocabulary, the last resort.
func indicatorType(types []string) string {
	for _, t := range types {
		switch t {
		case "anonymization":
			return intel.ThreatAnonymizer
		case "malicious-activity":
			return intel.ThreatMalware
		case "compromised":
			return "compromised"
		}
	}
	return intel.ThreatUnknown
}
