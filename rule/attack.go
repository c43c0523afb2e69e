package rule

import "strings"

// tactics are the ATT&CK tactic short names as Sigma tags spell them.
var tactics = map[string]bool{
	"reconnaissance": true, "resource-development": true, "initial-access": true,
	"execution": true, "persistence": true, "privilege-escalation": true,
	"defense-evasion": true, "credential-access": true, "discovery": true,
	"lateral-movement": true, "collection": true, "command-and-control": true,
	"exfiltration": true, "impact": true,
}

// Tactics returns the ATT&CK tactics of the tags (attack.execution →
// "execution"), in tag order without repeats. Older rules write tactics with
// underscores (attack.credential_access); they are given with hyphens.
func (m *Meta) Tactics() []string {
	var out []string
	for _, t := range m.Tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "attack.")
		if !ok {
			continue
		}
		name = strings.ReplaceAll(name, "_", "-")
		if tactics[name] && !contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// Techniques returns the ATT&CK technique ids of the tags
// (attack.t1059.001 → "T1059.001"), in tag order without repeats.
func (m *Meta) Techniques() []string {
	var out []string
	for _, t := range m.Tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "attack.")
		if !ok || !isTechnique(name) {
			continue
		}
		id := "T" + name[1:]
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// isTechnique reports whether s is t#### or t####.###.
func isTechnique(s string) bool {
	if len(s) < 5 || s[0] != 't' {
		return false
	}
	main, sub, hasSub := strings.Cut(s[1:], ".")
	if len(main) != 4 || !digits(main) {
		return false
	}
	return !hasSub || (len(sub) == 3 && digits(sub))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
