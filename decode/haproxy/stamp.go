package haproxy

import (
	"strings"
)

// acceptDate returns where the "[dd/Mon/yyyy:" of accept_date opens in s,
// -1 when there is none: the first '[' that starts one (the syslog tag's
// "[pid]" does not).
func acceptDate(s string) int {
	for off := 0; off < len(s); {
		j := strings.IndexByte(s[off:], '[')
		if j < 0 {
			return -1
		}
		j += off
		if j+13 < len(s) && s[j+3] == '/' && s[j+7] == '/' && s[j+12] == ':' && s[j+1] >= '0' && s[j+1] <= '3' {
			return j
		}
		off = j + 1
	}
	return -1
}
