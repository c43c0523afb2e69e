package mssqlaudit

import "bytes"

// sniff: a JSON object with an action_id and a principal name, in any of
// the three shapes.
func sniff(rec []byte) int {
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if bytes.Contains(rec, []byte(`"action_id`)) && bytes.Contains(rec, []byte(`server_principal_name`)) {
		return 90
	}
	if bytes.Contains(rec, []byte(`"SQLSecurityAuditEvents"`)) {
		return 80
	}
	return 0
}
