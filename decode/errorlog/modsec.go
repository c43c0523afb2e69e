package errorlog

import (
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// ModSecurity's items, as its log lines name them (msc_logging's
// "[file \"…\"] [line \"…\"] [id \"…\"] …"), and the ECS names some also
// take.
var (
	fieldRuleID      = []byte("rule.id")
	fieldRuleName    = []byte("rule.name")
	fieldRuleRuleset = []byte("rule.ruleset")
	fieldModsecText  = []byte("modsec.message")
	modsecKeys       = map[string][]byte{}
)

func modsecField(key string) []byte {
	if b, ok := modsecKeys[key]; ok {
		return b
	}
	return nil
}

func init() {
	for _, k := range []string{"file", "line", "id", "rev", "msg", "data", "severity", "ver", "maturity", "accuracy", "tag", "hostname", "uri", "unique_id", "ref", "client", "logdata"} {
		modsecKeys[k] = []byte("modsec." + k)
	}
}

// modsec reads a ModSecurity message (after "ModSecurity: "): what it did
// ("Access denied with code 403 (phase 2). Pattern match … at ARGS:q."),
// then its [key "value"] items, values with \" escaped. ModSecurity 2
// (Apache) names severities (CRITICAL), libmodsecurity 3 (nginx) numbers
// them (2). Text after the items (nginx's ", client: …") is left to the
// caller.
func modsec(ev *event.Event, s string) {
	f, c := &ev.Fields, &ev.Common
	start := itemStart(s)
	what := strings.TrimSpace(s[:start])
	f.SetName(fieldModsecText, what)
	switch {
	case strings.HasPrefix(what, "Access denied"):
		c[event.EventAction] = "access-denied"
		c[event.EventOutcome] = "failure"
	case strings.HasPrefix(what, "Warning"):
		c[event.EventAction] = "warning"
	default:
		if w, _, _ := strings.Cut(what, "."); w != "" && len(w) < 40 {
			c[event.EventAction] = strings.ToLower(w)
		}
	}
	if j := strings.Index(what, "with code "); j >= 0 && j+13 <= len(what) {
		if code := what[j+10 : j+13]; code[0] >= '1' && code[0] <= '5' {
			if _, ok := num(code); ok {
				c[event.HTTPResponseStatusCode] = code
			}
		}
	}
	c[event.EventKind] = "alert"
	i := start
	for i < len(s) && s[i] == '[' {
		sp := strings.Index(s[i:], ` "`)
		if sp < 2 {
			break
		}
		key := s[i+1 : i+sp]
		j := i + sp + 2
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(s) {
			break // unterminated: cut short
		}
		v := s[i+sp+2 : j]
		if name := modsecField(key); name != nil {
			f.SetName(name, v)
		}
		switch key {
		case "id":
			f.SetName(fieldRuleID, v)
		case "msg":
			f.SetName(fieldRuleName, v)
		case "ver":
			f.SetName(fieldRuleRuleset, v)
		case "uri":
			if c[event.URLOriginal] == "" {
				c[event.URLOriginal] = v
				path := v
				if q := strings.IndexByte(path, '?'); q >= 0 {
					path = path[:q]
				}
				c[event.URLPath] = path
			}
		case "hostname":
			c[event.URLDomain] = v
		}
		if j+1 >= len(s) || s[j+1] != ']' {
			break
		}
		i = j + 2
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
}

// itemStart returns where the first [key "value"] item of s starts, or
// len(s).
func itemStart(s string) int {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '[')
		if j < 0 {
			return len(s)
		}
		i += j
		k := i + 1
		for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] == '_') {
			k++
		}
		if k > i+1 && strings.HasPrefix(s[k:], ` "`) && modsecField(s[i+1:k]) != nil {
			return i
		}
		i++
	}
	return len(s)
}
