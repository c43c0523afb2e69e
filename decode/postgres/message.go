package postgres

import (
	"net/netip"
	"strings"
)

// meaning is what a message says beyond the columns: what happened, and the
// user, database, client and statement it names.
type meaning struct {
	action, outcome, category string
	statement, duration       string
	user, db, host, port      string
	sessionTime               string
	identity, method          string
	audit                     audit
}

// The actions, shared with the other SQL decoders (mysql, mssqlaudit).
const (
	actionReceived      = "connection-received"
	actionAuthenticated = "authenticated"
	actionConnect       = "connect"
	actionLoginFailed   = "login-failed"
	actionDisconnect    = "disconnect"
	actionStatement     = "statement"
	actionDuration      = "duration"
	actionError         = "error"
)

// classify reads the message of e. Messages are those of an English
// server (lc_messages): translated ones keep only the columns.
func classify(e *entry, buf *[]byte) meaning {
	var m meaning
	msg := e.message
	switch {
	case strings.HasPrefix(msg, "connection received: "):
		m.action, m.category = actionReceived, "network"
		m.host, m.port = kv(msg, "host="), kv(msg, "port=")
	case strings.HasPrefix(msg, "connection authenticated: "):
		// identity="alice" method=scram-sha-256 (/etc/…/pg_hba.conf:87)
		m.action, m.outcome, m.category = actionAuthenticated, "success", "authentication"
		m.identity = quoted(msg, `identity="`)
		m.user = m.identity
		m.method = kv(msg, "method=")
	case strings.HasPrefix(msg, "connection authorized: "), strings.HasPrefix(msg, "replication connection authorized: "):
		m.action, m.outcome, m.category = actionConnect, "success", "authentication"
		m.user, m.db = kv(msg, "user="), kv(msg, "database=")
	case strings.HasPrefix(msg, "disconnection: "):
		m.action, m.category = actionDisconnect, "session"
		m.sessionTime = kv(msg, "session time: ")
		m.user, m.db = kv(msg, "user="), kv(msg, "database=")
		m.host, m.port = kv(msg, "host="), kv(msg, "port=")
	case strings.HasPrefix(msg, "duration: "):
		// "duration: 1.234 ms" alone (log_duration), or followed by the
		// statement (log_min_duration_statement).
		rest := msg[len("duration: "):]
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		m.duration = rest[:end]
		m.action, m.category = actionDuration, "database"
		if i := strings.Index(rest, " ms  "); i >= 0 {
			if s, ok := statementText(rest[i+len(" ms  "):]); ok {
				m.action, m.statement = actionStatement, s
			}
		}
	case strings.HasPrefix(msg, "AUDIT: "):
		m.action, m.category = actionStatement, "database"
		m.audit = parseAudit(msg[len("AUDIT: "):], buf)
		m.statement = m.audit.statement
	default:
		if s, ok := statementText(msg); ok {
			m.action, m.category, m.statement = actionStatement, "database", s
		}
	}
	switch e.severity {
	case "ERROR", "FATAL", "PANIC":
		if m.action == "" || m.action == actionStatement {
			m.action, m.outcome, m.category = actionError, "failure", "database"
			if e.query != "" {
				m.statement = e.query
			}
		}
		if loginFailed(e.sqlstate, msg) {
			m.action, m.category = actionLoginFailed, "authentication"
			loginNames(msg, &m)
		}
	}
	return m
}

// statementText takes the statement out of what log_statement and
// log_min_duration_statement write: "statement: …", or for the extended
// query protocol "execute <name>: …", "parse <name>: …", "bind <name>: …".
func statementText(s string) (string, bool) {
	if strings.HasPrefix(s, "statement: ") {
		return s[len("statement: "):], true
	}
	for _, p := range [...]string{"execute ", "parse ", "bind "} {
		if strings.HasPrefix(s, p) {
			if i := strings.Index(s, ": "); i > len(p) {
				return s[i+2:], true
			}
		}
	}
	return "", false
}

// loginFailed reports whether an error refused a connection's credentials:
// by its SQLSTATE when the log carries it (28P01 invalid_password, 28000
// invalid_authorization_specification), else by its text.
func loginFailed(state, msg string) bool {
	if state == "28P01" || state == "28000" {
		return true
	}
	if state != "" && state != "00000" {
		return false
	}
	return strings.Contains(msg, "authentication failed for user \"") ||
		strings.HasPrefix(msg, "no pg_hba.conf entry for ") ||
		strings.HasPrefix(msg, "pg_hba.conf rejects connection ")
}

// loginNames reads the user (and host, database) a refused login names:
// `password authentication failed for user "bob"`, `no pg_hba.conf entry
// for host "10.0.0.9", user "bob", database "shop", no encryption`.
func loginNames(msg string, m *meaning) {
	if u := quoted(msg, `for user "`); u != "" {
		m.user = u
	}
	if u := quoted(msg, `user "`); m.user == "" && u != "" {
		m.user = u
	}
	if h := quoted(msg, `host "`); h != "" {
		m.host = h
	}
	if d := quoted(msg, `database "`); d != "" {
		m.db = d
	}
}

// kv returns the value after key up to the next space ("" when absent or
// "[unknown]").
func kv(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 || (i > 0 && s[i-1] != ' ' && s[i-1] != ',' && s[i-1] != ':') {
		return ""
	}
	v := s[i+len(key):]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	if v == "[unknown]" {
		return ""
	}
	return v
}

// quoted returns the text between open (which ends with '"') and the next
// '"'.
func quoted(s, open string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	v := s[i+len(open):]
	if j := strings.IndexByte(v, '"'); j >= 0 {
		return v[:j]
	}
	return ""
}

func isIP(s string) bool {
	if s == "" || s[0] == '[' {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
