package azureactivity

import "strings"

// Outcome maps an Activity log result to ECS event.outcome. resultType
// says Success/Succeeded or Failure/Failed when an operation ends and
// Start, Accept or Active while it runs (those are "unknown"). Without a
// resultType the signature decides: an HTTP status (200, 403) or a
// "Succeeded.OK"-style status.
func Outcome(resultType, signature string) string {
	switch {
	case resultType == "":
	case strings.EqualFold(resultType, "success"), strings.EqualFold(resultType, "succeeded"):
		return "success"
	case strings.EqualFold(resultType, "failure"), strings.EqualFold(resultType, "failed"):
		return "failure"
	default:
		return "unknown"
	}
	if signature == "" {
		return ""
	}
	if n, ok := httpStatus(signature); ok {
		if n < 400 {
			return "success"
		}
		return "failure"
	}
	switch {
	case hasPrefixFold(signature, "succeeded"):
		return "success"
	case hasPrefixFold(signature, "failed"):
		return "failure"
	}
	return "unknown"
}

func httpStatus(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 100
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}
