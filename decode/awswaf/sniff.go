package awswaf

import (
	"bytes"

	jsondec "github.com/vigil-sec/vigil/decode/json"
)

// Sniff scores rec as a WAF log record: a JSON object naming a web ACL
// and its terminating rule.
func Sniff(rec []byte) int {
	rec = jsondec.ObjectHead(rec)
	if rec == nil {
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
