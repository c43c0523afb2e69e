package azureactivity

import "github.com/vigil-sec/vigil/decode/jsonrecord"

// Sniff scores rec as an Activity log record: a JSON object naming an
// operation and the resource it acted on, at its top level. Flow logs and sign-in logs carry
// those keys too, so their own markers lower the score for their sniffers
// to win.
func Sniff(rec []byte) int {
	rec = jsonrecord.ObjectHead(rec)
	if rec == nil {
		return 0
	}
	if jsonrecord.TopKeys(rec, true, "operationName", "resourceId") != 0b11 {
		return 0
	}
	for _, other := range []string{"flowTuples", "SignInLogs", "AuditLogs", "userPrincipalName", "activityDisplayName"} {
		if containsFold(rec, other) {
			return 20
		}
	}
	if containsFold(rec, `"callerIpAddress"`) || containsFold(rec, `"resultType"`) || containsFold(rec, `"caller"`) {
		return 80
	}
	return 50
}

// containsFold reports whether b contains s, ASCII case-insensitively.
func containsFold(b []byte, s string) bool {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for j < n && lowerByte(b[i+j]) == lowerByte(s[j]) {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
