package mssqlaudit

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode/jsonrecord"
)

// sniff: a JSON object with an action_id and a principal name, in any of
// the three shapes: the columns at the top level (action_id, or
// Log Analytics' action_id_s) or under a top-level properties. A record
// wrapped in another object is not claimed.
func sniff(rec []byte) int {
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	top := jsonrecord.TopKeys(rec, false, "action_id", "action_id_s", "properties", "category", "Category")
	if top == 0 {
		return 0
	}
	if top&0b111 != 0 && bytes.Contains(rec, []byte(`"action_id`)) && bytes.Contains(rec, []byte(`server_principal_name`)) {
		return 90
	}
	if top&0b11000 != 0 && bytes.Contains(rec, []byte(`"SQLSecurityAuditEvents"`)) {
		return 80
	}
	return 0
}
