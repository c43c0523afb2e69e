package awswaf

import "bytes"

// Sniff scores rec as a WAF log record: a JSON object naming a web ACL
// and its terminating rule.
func Sniff(rec []byte) int {
	if len(rec) > 4096 {
		rec = rec[:4096]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	acl := bytes.Contains(rec, []byte(`"webaclId"`))
	rule := bytes.Contains(rec, []byte(`"terminatingRuleId"`))
	switch {
	case acl && rule:
		return 95
	case acl || rule:
		return 80
	}
	return 0
}
