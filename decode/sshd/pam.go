package sshd

import "strings"

// pamMessage reads what a PAM module logs for any service (sshd, sudo, su,
// login, cron…): "pam_MODULE(SERVICE:TYPE): text", and libpam's own "PAM
// N more authentication failures; …".
func pamMessage(msg string) message {
	var m message
	if rest, ok := strings.CutPrefix(msg, "PAM "); ok {
		// libpam: "PAM %d more authentication failure%s; %s" with the
		// failure's logname= … list; "PAM service(%s) ignoring max retries; %d > %d"
		if _, list, ok := strings.Cut(rest, " more authentication failure"); ok {
			m.ip = pamValue(list, "rhost=")
			m.user = pamValue(list, " user=")
			m.action, m.outcome, m.category = "authentication-failure", failure, auth
		}
		return m
	}
	paren := strings.IndexByte(msg, '(')
	close := strings.Index(msg, "): ")
	if paren < 0 || close < paren {
		return m
	}
	m.pamModule = msg[:paren]
	svc := msg[paren+1 : close]
	m.pamService, _, _ = strings.Cut(svc, ":")
	_, kind, _ := strings.Cut(svc, ":")
	text := msg[close+3:]
	switch {
	case strings.HasPrefix(text, "authentication failure;"):
		// pam_unix, pam_sss: "authentication failure; logname=%s uid=%d
		// euid=%d tty=%s ruser=%s rhost=%s[  user=%s]"
		m.ip = pamValue(text, "rhost=")
		m.user = pamValue(text, " user=")
		m.action, m.outcome, m.category = "authentication-failure", failure, auth
	case strings.HasPrefix(text, "authentication success;"):
		// pam_sss: the same list on success
		m.ip = pamValue(text, "rhost=")
		m.user = pamValue(text, " user=")
		m.action, m.outcome, m.category = "authentication-success", success, auth
	case strings.HasPrefix(text, "check pass; user unknown"):
		m.action, m.outcome, m.category = "user-unknown", failure, auth
	case strings.HasPrefix(text, "session opened for user "):
		// pam_unix: "session opened for user %s[(uid=%d)] by %s(uid=%d)"
		rest := text[len("session opened for user "):]
		user, by, _ := strings.Cut(rest, " by ")
		m.user, _, _ = strings.Cut(user, "(")
		m.by, _, _ = strings.Cut(by, "(") // sudo, su: who opened it
		m.action, m.outcome, m.category = "session-opened", success, session
	case strings.HasPrefix(text, "session closed for user "):
		m.user, _, _ = strings.Cut(text[len("session closed for user "):], "(")
		m.action, m.category = "session-closed", session
	case strings.HasPrefix(text, "password changed for "):
		// pam_unix: "password changed for %s"
		m.user = text[len("password changed for "):]
		m.action, m.outcome, m.category = "password-changed", success, iam
	case strings.HasPrefix(text, "Consecutive login failures for user "):
		// pam_faillock: "Consecutive login failures for user %s account
		// temporarily locked"
		m.user, _, _ = strings.Cut(text[len("Consecutive login failures for user "):], " account")
		m.action, m.outcome, m.category = "account-locked", failure, auth
	case m.pamModule == "pam_tally2" && strings.HasPrefix(text, "user ") && strings.Contains(text, " tally "):
		// pam_tally2: "user %s (%lu) tally %hu, deny %hu"
		m.user, _, _ = strings.Cut(text[len("user "):], " (")
		m.action, m.outcome, m.category = "account-locked", failure, auth
	case strings.HasPrefix(text, "received for user "):
		// pam_sss: "received for user %s: %d (%s)" — PAM's result code
		user, code, _ := strings.Cut(text[len("received for user "):], ": ")
		m.user, m.reason = user, code
		if !strings.HasPrefix(code, "0 ") {
			m.action, m.outcome, m.category = "authentication-failure", failure, auth
		}
	case strings.HasPrefix(text, "Access denied for user "):
		// pam_sss (account): "Access denied for user %s: %d (%s)"
		m.user, m.reason, _ = strings.Cut(text[len("Access denied for user "):], ": ")
		m.action, m.outcome, m.category = "access-denied", failure, auth
	case strings.HasPrefix(text, "access denied for user `"):
		// pam_access: "access denied for user `%s' from `%s'"
		rest := text[len("access denied for user `"):]
		m.user, rest, _ = strings.Cut(rest, "'")
		if _, host, ok := strings.Cut(rest, "from `"); ok {
			m.ip, _, _ = strings.Cut(host, "'")
		}
		m.action, m.outcome, m.category = "access-denied", failure, auth
	case strings.HasPrefix(text, "user '"):
		// pam_winbind: "user '%s' granted access", "user '%s' denied
		// access (incorrect password or invalid membership)", "user '%s'
		// OK", "user '%s' account locked out", "user '%s' password expired"
		user, rest, ok := strings.Cut(text[len("user '"):], "' ")
		if !ok {
			return message{}
		}
		m.user = user
		switch {
		case rest == "granted access" || rest == "OK":
			if kind == "account" {
				m.action = "access-granted"
			} else {
				m.action = "authentication-success"
			}
			m.outcome = success
		case strings.HasPrefix(rest, "denied access"):
			m.reason = strings.Trim(strings.TrimPrefix(rest, "denied access"), " ()")
			m.action, m.outcome = "authentication-failure", failure
			if kind == "account" {
				m.action = "access-denied"
			}
		case strings.HasPrefix(rest, "account locked out"):
			m.action, m.outcome = "account-locked", failure
		default:
			m.reason = rest
			m.action, m.outcome = "authentication-failure", failure
		}
		m.category = auth
	case strings.HasPrefix(text, "request wbcLogonUser failed: "),
		strings.HasPrefix(text, "request wbcAuthenticateUserEx failed: "):
		// pam_winbind: "request %s failed: %s, PAM error: %s (%d),
		// NTSTATUS: %s, Error message was: %s"
		rest := text[strings.Index(text, " failed: ")+len(" failed: "):]
		if i := strings.Index(rest, "NTSTATUS: "); i >= 0 {
			m.reason, _, _ = strings.Cut(rest[i+len("NTSTATUS: "):], ",")
		} else {
			m.reason = rest
		}
		m.action, m.outcome, m.category = "authentication-failure", failure, auth
	case strings.HasPrefix(text, "requirement ") && strings.Contains(text, " not met by user "):
		// pam_succeed_if: "requirement \"%s\" not met by user \"%s\""
		_, u, _ := strings.Cut(text, " not met by user ")
		m.user = strings.Trim(u, "\"")
		m.reason = text
		m.action, m.outcome, m.category = "access-denied", failure, auth
	}
	return m
}

// pamValue returns the value of key in PAM's "k=v k=v" list.
func pamValue(msg, key string) string {
	i := strings.Index(msg, key)
	if i < 0 {
		return ""
	}
	v, _, _ := strings.Cut(msg[i+len(key):], " ")
	return v
}
