package auditd

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// Sniff scores rec as an audit record: "type=X msg=audit(" (after an
// optional node=) is near certain; behind a syslog header, likely.
func Sniff(rec []byte) int {
	s := view.String(rec[:min(len(rec), 256)])
	body, skip := stripSyslog(s)
	if !strings.HasPrefix(body, "type=") && !strings.HasPrefix(body, "node=") {
		return 0
	}
	id, at := stampOf(body)
	if id == "" || !strings.Contains(id, ":") || at > 80 {
		return 0
	}
	if skip > 0 {
		return 85
	}
	return 95
}
