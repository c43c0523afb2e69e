package sshd

import "strings"

// sudoMessage reads sudo's log line (plugins/sudoers/logging.c): "USER :
// [REASON ; ]TTY=tty ; PWD=dir ; USER=runas ; [GROUP=g ; ][TSID=… ;
// ][ENV=… ; ]COMMAND=cmd". The user is padded with spaces by older sudo;
// a refusal ("user NOT in sudoers", "3 incorrect password attempts",
// "command not allowed") comes first.
func sudoMessage(msg string) message {
	var m message
	user, rest, ok := strings.Cut(msg, " : ")
	if !ok {
		return m
	}
	m.user = strings.TrimSpace(user)
	// COMMAND is last and may itself hold " ; ".
	if i := strings.Index(rest, "COMMAND="); i >= 0 {
		m.command = rest[i+len("COMMAND="):]
		rest = rest[:i]
	}
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, " ; ")
		part = strings.TrimSuffix(part, " ;")
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok:
			if m.reason == "" {
				m.reason = part
			}
		case k == "TTY":
			m.tty = v
		case k == "PWD":
			m.pwd = v
		case k == "USER":
			m.target = v
		case k == "GROUP":
			m.group = v
		}
	}
	if m.command == "" && m.target == "" {
		return message{}
	}
	m.category = process
	if m.reason == "" {
		m.action, m.outcome = "command-run", success
	} else {
		m.action, m.outcome = "command-refused", failure
		if strings.Contains(m.reason, "password") {
			m.category = auth
		}
	}
	return m
}

// suMessage reads su's lines: util-linux's "(to %s) %s on %s" and "FAILED
// SU (to %s) %s on %s", shadow's "Successful su for %s by %s", "FAILED su
// for %s by %s" and "+ %s %s:%s" / "- %s %s:%s" (tty, user:target).
func suMessage(msg string) message {
	var m message
	failed := false
	switch {
	case strings.HasPrefix(msg, "FAILED SU (to "), strings.HasPrefix(msg, "(to "):
		failed = strings.HasPrefix(msg, "FAILED")
		rest := msg[strings.Index(msg, "(to ")+len("(to "):]
		var ok bool
		if m.target, rest, ok = strings.Cut(rest, ") "); !ok {
			return message{}
		}
		m.user, m.tty, _ = cutLast(rest, " on ")
	case strings.HasPrefix(msg, "Successful su for "), strings.HasPrefix(msg, "FAILED su for "):
		failed = strings.HasPrefix(msg, "FAILED")
		rest := msg[strings.Index(msg, " for ")+len(" for "):]
		var ok bool
		if m.target, m.user, ok = strings.Cut(rest, " by "); !ok {
			return message{}
		}
	case len(msg) > 2 && (msg[0] == '+' || msg[0] == '-') && msg[1] == ' ':
		tty, pair, ok := strings.Cut(msg[2:], " ")
		if !ok {
			return message{}
		}
		if m.user, m.target, ok = strings.Cut(pair, ":"); !ok {
			return message{}
		}
		m.tty = tty
		failed = msg[0] == '-'
	default:
		return m
	}
	m.category = auth
	if failed {
		m.action, m.outcome = "su-failed", failure
	} else {
		m.action, m.outcome = "su", success
	}
	return m
}
