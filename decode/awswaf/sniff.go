package awswaf

import (
	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// Sniff scores rec as a WAF log record: a JSON object naming a web ACL
// and its terminating rule at its top level.
func Sniff(rec []byte) int {
	rec = jsonrecord.ObjectHead(rec)
	if rec == nil {
		return 0
	}
	k := jsonrecord.TopKeys(rec, false, "webaclId", "terminatingRuleId")
	acl, rule := k&1 != 0, k&2 != 0
	switch {
	case acl && rule:
		return 95
	case acl || rule:
		return 80
	}
	return 0
}
