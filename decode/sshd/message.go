package sshd

import (
	"net/netip"
	"strings"
)

// message is what an sshd message says about an authentication.
type message struct {
	action, outcome, category string
	user, ip, port, method    string
}

const (
	success = "success"
	failure = "failure"
	auth    = "authentication"
	session = "session"
)

// parseMessage recognises the messages of OpenSSH 6 to 9 (and pam_unix)
// that matter to detection; other messages give a zero message.
func parseMessage(msg string) message {
	var m message
	switch {
	case strings.HasPrefix(msg, "error: Received disconnect from "):
		return parseMessage(msg[len("error: "):])
	case strings.HasPrefix(msg, "message repeated "):
		// syslog's "message repeated 3 times: [ Failed password for …]"
		if i := strings.Index(msg, ": [ "); i >= 0 && strings.HasSuffix(msg, "]") {
			return parseMessage(msg[i+4 : len(msg)-1])
		}
	case strings.HasPrefix(msg, "Accepted "), strings.HasPrefix(msg, "Failed "):
		// Accepted|Failed <method> for [invalid user ]<user> from <ip> port <port> ssh2[: <key>]
		verb, rest, _ := strings.Cut(msg, " ")
		method, rest, ok := strings.Cut(rest, " for ")
		if !ok {
			return m
		}
		m.method = method
		m.user, m.ip, m.port = userFrom(rest)
		m.category = auth
		if verb == "Accepted" {
			m.action, m.outcome = "logged-in", success
		} else {
			m.action, m.outcome = "logon-failed", failure
		}
	case strings.HasPrefix(msg, "Invalid user "):
		// Invalid user <user> from <ip>[ port <port>]: the monitor's
		// getpwnamallow (auth.c), once a connection whose first user-auth
		// request names a user that does not exist.
		m.user, m.ip, m.port = userFrom(msg[len("Invalid user "):])
		m.action, m.outcome, m.category = "invalid-user", failure, auth
	case strings.HasPrefix(msg, "input_userauth_request: invalid user "):
		// The unprivileged child's note of the same request (auth2.c,
		// OpenSSH before 7.x), without the address; it also follows a
		// user who exists but is refused (AllowUsers, DenyUsers). Not an
		// attempt of its own: a rule on invalid-user would count each
		// attempt twice, once without its address.
		m.user = strings.TrimSuffix(msg[len("input_userauth_request: invalid user "):], " [preauth]")
		m.action, m.category = "invalid-user-preauth", auth
	case strings.HasPrefix(msg, "Connection closed by "):
		// Connection closed by [authenticating user U |invalid user U ]<ip>[ port <port>][ [preauth]]
		m.user, m.ip, m.port = userAddr(msg[len("Connection closed by "):])
		m.action, m.category = "connection-closed", auth
	case strings.HasPrefix(msg, "Disconnected from "):
		m.user, m.ip, m.port = userAddr(msg[len("Disconnected from "):])
		m.action, m.category = "disconnected", auth
	case strings.HasPrefix(msg, "Received disconnect from "):
		// Received disconnect from <ip>[ port <port>]:<code>: <reason>
		// Received disconnect from <ip> port <port>:<code>: <reason> (OpenSSH 7.5+)
		// Received disconnect from <ip>: <code>: <reason> (before)
		rest := msg[len("Received disconnect from "):]
		if j := strings.Index(rest, " port "); j >= 0 {
			m.ip = rest[:j]
			m.port, _, _ = strings.Cut(rest[j+len(" port "):], ":")
		} else if j := strings.Index(rest, ": "); j >= 0 {
			m.ip = rest[:j]
		}
		m.action, m.category = "disconnected", auth
	case strings.HasPrefix(msg, "pam_unix(sshd:auth): authentication failure;"),
		strings.HasPrefix(msg, "PAM ") && strings.Contains(msg, " more authentication failure"):
		// …; logname= uid=0 euid=0 tty=ssh ruser= rhost=<host>[  user=<user>]
		m.ip = pamValue(msg, "rhost=")
		m.user = pamValue(msg, " user=")
		m.action, m.outcome, m.category = "authentication-failure", failure, auth
	case strings.HasPrefix(msg, "error: maximum authentication attempts exceeded for "):
		m.user, m.ip, m.port = userFrom(msg[len("error: maximum authentication attempts exceeded for "):])
		m.action, m.outcome, m.category = "too-many-failures", failure, auth
	case strings.HasPrefix(msg, "Disconnecting: Too many authentication failures"):
		rest := strings.TrimSuffix(msg[len("Disconnecting: Too many authentication failures"):], " [preauth]")
		m.user = strings.TrimPrefix(rest, " for ")
		m.action, m.outcome, m.category = "too-many-failures", failure, auth
	case strings.HasPrefix(msg, "Disconnecting ") && strings.Contains(msg, ": Too many authentication failures"):
		// Disconnecting [authenticating|invalid] user U <ip> port <port>: Too many authentication failures
		head, _, _ := strings.Cut(msg[len("Disconnecting "):], ": Too many")
		m.user, m.ip, m.port = userAddr(head)
		m.action, m.outcome, m.category = "too-many-failures", failure, auth
	case strings.HasPrefix(msg, "Did not receive identification string from "):
		m.user, m.ip, m.port = userAddr(msg[len("Did not receive identification string from "):])
		m.action, m.category = "no-identification", auth
	case strings.HasPrefix(msg, "reverse mapping checking getaddrinfo for "):
		// … for <name> [<ip>] failed - POSSIBLE BREAK-IN ATTEMPT!
		if i := strings.IndexByte(msg, '['); i >= 0 {
			if j := strings.IndexByte(msg[i:], ']'); j > 0 {
				m.ip = msg[i+1 : i+j]
			}
		}
		m.action, m.category = "reverse-mapping-failed", auth
	case strings.HasPrefix(msg, "pam_unix(sshd:session): session opened for user "):
		rest := msg[len("pam_unix(sshd:session): session opened for user "):]
		m.user, _, _ = strings.Cut(rest, " ")
		m.user, _, _ = strings.Cut(m.user, "(") // "alice(uid=1000)" in newer PAM
		m.action, m.outcome, m.category = "session-opened", success, session
	case strings.HasPrefix(msg, "pam_unix(sshd:session): session closed for user "):
		m.user = msg[len("pam_unix(sshd:session): session closed for user "):]
		m.action, m.category = "session-closed", session
	}
	return m
}

// userFrom reads "[invalid user ]<user> from <ip>[ port <port>][ …]". The
// user is everything before the last " from ", so a name with spaces (which
// attackers try) stays whole.
func userFrom(s string) (user, ip, port string) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		return "", "", ""
	}
	user = strings.TrimPrefix(s[:i], "invalid user ")
	rest := s[i+len(" from "):]
	ip, rest, _ = strings.Cut(rest, " ")
	if strings.HasPrefix(rest, "port ") {
		port, _, _ = strings.Cut(rest[len("port "):], " ")
	}
	return user, ip, port
}

// userAddr reads "[authenticating user U |invalid user U |user U ]<ip>[ port <port>][ [preauth]]".
func userAddr(s string) (user, ip, port string) {
	s = strings.TrimSuffix(s, " [preauth]")
	if i := strings.LastIndex(s, " port "); i >= 0 {
		port = s[i+len(" port "):]
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		ip = s[i+1:]
		s = s[:i]
		for _, p := range [...]string{"authenticating user ", "invalid user ", "user "} {
			if strings.HasPrefix(s, p) {
				user = s[len(p):]
				break
			}
		}
	} else {
		ip = s
	}
	return user, ip, port
}

// pamValue returns the value of key in pam_unix's "k=v k=v" list.
func pamValue(msg, key string) string {
	i := strings.Index(msg, key)
	if i < 0 {
		return ""
	}
	v, _, _ := strings.Cut(msg[i+len(key):], " ")
	return v
}

func isIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
