// Package mysql decodes the logs MySQL and MariaDB write about who
// connects and what they run: the general query log (both servers) and
// MariaDB's server_audit plugin log. Logins, failed logins (access denied)
// and statements become events with the user, client address, database
// and statement as ECS fields, for SQL injection, brute-force and
// unusual-access detections.
package mysql

import (
	"net/netip"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// The names the decoders are registered under.
const (
	FormatGeneral = "mysql-general" // general query log (general_log_file)
	FormatAudit   = "mariadb-audit" // server_audit plugin, file output
)

func init() {
	decode.Register(FormatGeneral, NewGeneral)
	decode.Register(FormatAudit, NewAudit)
	decode.RegisterSniffer(FormatGeneral, sniffGeneral)
	decode.RegisterSniffer(FormatAudit, sniffAudit)
}

// Logsource is what every event of both formats is routed by: MariaDB
// speaks MySQL's protocol and SQL, and rules written for one serve the
// other.
var Logsource = event.Logsource{Product: "mysql", Category: "database"}

// The actions, shared with the other SQL decoders (postgres, mssqlaudit).
const (
	actionConnect     = "connect"
	actionLoginFailed = "login-failed"
	actionDisconnect  = "disconnect"
	actionStatement   = "statement"
	actionError       = "error"
)

func isIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// setSource puts a client host into source.ip when it is an address
// (servers without skip-name-resolve log a resolved name, "localhost").
func setSource(c *[event.NumCommon]string, host string) {
	if isIP(host) {
		c[event.SourceIP] = host
	}
}

// localTime builds a stamp the servers write without a zone, in loc (UTC
// when nil).
func localTime(y, mo, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// num reads n digits of s at i; a space counts as a leading zero, as in
// MariaDB's space-padded hours.
func num(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + int(c-'0')
		case c == ' ' && k < i+n-1:
		default:
			return 0, false
		}
	}
	return v, true
}
