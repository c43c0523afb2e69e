package misp

import (
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/intel"
)

// tagged is what a list of MISP tags says of an attribute or event.
type tagged struct {
	tlp       string
	certainty int // osint:certainty, -1 when absent
	actor     string
	malware   string
	tool      string
	types     []string // threat types the tags name
	rat       bool     // a remote-access tool or backdoor: C2 when seen as an address
	tags      []string // tag names kept on the indicator
}

// readTags maps the taxonomies and galaxies feeds commonly tag with:
// tlp, misp-galaxy clusters (actor, malware, tool names), malware
// classifications, the CIRCL, eCSIRT and RSIT incident classifications,
// kill-chain phases, and osint:certainty as the confidence.
func readTags(tags []tag) tagged {
	t := tagged{certainty: -1}
	for _, tg := range tags {
		name := strings.TrimSpace(tg.Name)
		if name == "" {
			continue
		}
		ns, rest, _ := strings.Cut(name, ":")
		pred, val, _ := strings.Cut(rest, "=")
		ns, pred = strings.ToLower(ns), strings.ToLower(pred)
		val = strings.Trim(val, `"`)
		lv := strings.ToLower(val)
		switch ns {
		case "tlp":
			if l := tlpLevel(pred); l != "" && (t.tlp == "" || tlpRank[l] > tlpRank[t.tlp]) {
				t.tlp = l
			}
			continue
		case "workflow":
			continue // the producer's bookkeeping, not the threat's
		case "osint":
			if pred == "certainty" {
				if n, err := strconv.Atoi(val); err == nil && n >= 0 && n <= 100 {
					t.certainty = n
				}
			}
		case "misp-galaxy":
			t.galaxy(pred, val)
		case "malware_classification":
			if pred == "malware-category" {
				t.classify(lv)
			}
		case "ms-caro-malware":
			if pred == "malware-type" {
				t.classify(lv)
			}
		case "circl":
			if pred == "incident-classification" {
				t.incident(lv)
			}
		case "ecsirt", "rsit":
			t.incident(lv)
		case "kill-chain":
			if strings.EqualFold(rest, "Command and Control") {
				t.types = append(t.types, intel.ThreatC2)
			}
		}
		if strings.Contains(lv, "tor-exit") || strings.Contains(lv, "exit-relay") || strings.Contains(lv, "exit-node") {
			t.types = append(t.types, intel.ThreatTorExit)
		}
		t.tags = append(t.tags, name)
	}
	return t
}

func (t *tagged) galaxy(cluster, name string) {
	switch cluster {
	case "threat-actor", "mitre-intrusion-set", "microsoft-activity-group", "mitre-enterprise-attack-intrusion-set":
		if t.actor == "" {
			t.actor = name
		}
	case "mitre-malware", "malpedia", "ransomware", "botnet", "rat", "banker", "stealer", "android", "backdoor",
		"mitre-enterprise-attack-malware", "mitre-mobile-attack-malware":
		if t.malware == "" {
			t.malware = name
		}
		switch cluster {
		case "botnet":
			t.types = append(t.types, intel.ThreatBotnet)
		case "rat", "backdoor":
			t.rat = true
		default:
			t.types = append(t.types, intel.ThreatMalware)
		}
	case "tool", "mitre-tool", "mitre-enterprise-attack-tool":
		if t.tool == "" {
			t.tool = name
		}
	case "exploit-kit":
		// An exploit kit names the tooling of an event, not what each
		// of its addresses or files is: a name, no type.
		if t.tool == "" {
			t.tool = name
		}
	}
}

// classify reads a malware category (Botnet, Ransomware, Backdoor…).
func (t *tagged) classify(v string) {
	switch {
	case strings.Contains(v, "bot"):
		t.types = append(t.types, intel.ThreatBotnet)
	case strings.Contains(v, "backdoor") || v == "rat" || strings.Contains(v, "remote"):
		t.rat = true
	case strings.Contains(v, "exploit"):
		t.types = append(t.types, intel.ThreatExploit)
	default:
		t.types = append(t.types, intel.ThreatMalware)
	}
}

// incident reads an incident classification value (CIRCL, eCSIRT, RSIT).
func (t *tagged) incident(v string) {
	var m string
	switch {
	case strings.Contains(v, "c2") || strings.Contains(v, "c&c") || strings.Contains(v, "command-and-control"):
		m = intel.ThreatC2
	case strings.Contains(v, "botnet") || strings.Contains(v, "infected-system"):
		m = intel.ThreatBotnet
	case strings.Contains(v, "phishing"):
		m = intel.ThreatPhishing
	case strings.Contains(v, "spam"):
		m = intel.ThreatSpam
	case strings.Contains(v, "scan"):
		m = intel.ThreatScanner
	case strings.Contains(v, "brute-force") || strings.Contains(v, "bruteforce"):
		m = intel.ThreatBruteForce
	case strings.Contains(v, "exploit"):
		m = intel.ThreatExploit
	case strings.Contains(v, "malware") || strings.Contains(v, "virus") || strings.Contains(v, "worm") ||
		strings.Contains(v, "trojan") || strings.Contains(v, "ransomware") || strings.Contains(v, "spyware") ||
		strings.Contains(v, "dialer") || strings.Contains(v, "rootkit"):
		m = intel.ThreatMalware
	default:
		return
	}
	t.types = append(t.types, m)
}

// threatType is the most specific type the tags name for a value of kind
// k; "" when they name none.
func (t *tagged) threatType(k intel.Kind) string {
	types := t.types
	if t.rat {
		if k == intel.KindIP || k == intel.KindCIDR || k == intel.KindDomain || k == intel.KindURL {
			types = append(types[:len(types):len(types)], intel.ThreatC2)
		} else {
			types = append(types[:len(types):len(types)], intel.ThreatMalware)
		}
	}
	best := ""
	for _, x := range types {
		if best == "" || intel.Specificity(x) < intel.Specificity(best) {
			best = x
		}
	}
	return best
}

// name is the threat the tags name: an actor first (an event tagged with
// an actor and several of its tools is about the actor), then a malware,
// then a tool.
func (t *tagged) name() string {
	switch {
	case t.actor != "":
		return t.actor
	case t.malware != "":
		return t.malware
	}
	return t.tool
}

var tlpRank = map[string]int{"clear": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}

func tlpLevel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "white" {
		s = "clear"
	}
	if tlpRank[s] == 0 {
		return ""
	}
	return s
}
