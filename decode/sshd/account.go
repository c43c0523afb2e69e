package sshd

import "strings"

// accountFormat is one message shadow's account tools (useradd, userdel,
// usermod, groupadd, groupdel, groupmod, passwd, chage, gpasswd) pass to
// syslog, as written in shadow's source (4.1 quotes names `so', 4.2 on
// 'so': a ' in format matches either). roles says what each %-placeholder
// holds: A the account, G the group, B who did it, - nothing kept.
type accountFormat struct {
	format, roles, action, outcome string
}

var accountFormats = [...]accountFormat{
	// useradd
	{"new user: name=%s, UID=%u, GID=%u, home=%s, shell=%s, from=%s", "A-----", "user-created", success},
	{"new user: name=%s, UID=%u, GID=%u, home=%s, shell=%s", "A----", "user-created", success},
	{"new group: name=%s, GID=%u", "G-", "group-created", success},
	{"add '%s' to shadow group '%s'", "AG", "user-added-to-group", success},
	{"add '%s' to group '%s'", "AG", "user-added-to-group", success},
	{"failed adding user '%s', exit code: %d", "A-", "user-created", failure},
	{"failed adding user '%s', data deleted", "A", "user-created", failure},
	// userdel
	{"delete '%s' from shadow group '%s'", "AG", "user-removed-from-group", success},
	{"delete '%s' from group '%s'", "AG", "user-removed-from-group", success},
	{"removed shadow group '%s' owned by '%s'", "GA", "group-deleted", success},
	{"removed group '%s' owned by '%s'", "GA", "group-deleted", success},
	{"delete user '%s'", "A", "user-deleted", success},
	// usermod
	{"lock user '%s' password", "A", "user-locked", success},
	{"unlock user '%s' password", "A", "user-unlocked", success},
	{"change user '%s' password", "A", "password-changed", success},
	{"change user name '%s' to '%s'", "A-", "user-renamed", success},
	{"change user '%s' UID from '%d' to '%d'", "A--", "user-modified", success},
	{"change user '%s' GID from '%d' to '%d'", "A--", "user-modified", success},
	{"change user '%s' home from '%s' to '%s'", "A--", "user-modified", success},
	{"change user '%s' shell from '%s' to '%s'", "A--", "user-modified", success},
	{"change user '%s' inactive from '%ld' to '%ld'", "A--", "user-modified", success},
	{"change user '%s' expiration from '%s' to '%s'", "A--", "user-modified", success},
	{"change admin '%s' to '%s' in shadow group '%s'", "A-G", "user-modified", success},
	{"change '%s' to '%s' in shadow group '%s'", "A-G", "user-renamed", success},
	{"change '%s' to '%s' in group '%s'", "A-G", "user-renamed", success},
	// groupadd, groupdel, groupmod
	{"group added to %s: name=%s, GID=%u", "-G-", "group-created", success},
	{"group added to %s: name=%s", "-G", "group-created", success},
	{"group '%s' removed from %s", "G-", "group-deleted", success},
	{"group '%s' removed", "G", "group-deleted", success},
	{"remove group '%s'", "G", "group-deleted", success},
	{"change group '%s' to '%s'", "G-", "group-modified", success},
	{"change GID for '%s' to %u", "G-", "group-modified", success},
	// passwd, chage
	{"password for '%s' changed by '%s'", "AB", "password-changed", success},
	{"incorrect password for %s", "A", "password-changed", failure},
	{"password locked for '%s'", "A", "password-changed", failure},
	{"changed password expiry for %s", "A", "user-modified", success},
	// gpasswd
	{"user %s added by %s to group %s%s", "ABG-", "user-added-to-group", success},
	{"user %s removed by %s from group %s%s", "ABG-", "user-removed-from-group", success},
	{"add member %s to group %s by %s", "AGB", "user-added-to-group", success},
	{"remove member %s from group %s by %s", "AGB", "user-removed-from-group", success},
	{"%s failed to add user %s to group %s%s", "BAG-", "user-added-to-group", failure},
	// the cleanup the tools run when a change fails
	{"failed to add user %s", "A", "user-created", failure},
	{"failed to add group %s", "G", "group-created", failure},
}

// accountMessage reads an account tool's message.
func accountMessage(msg string) message {
	// userdel ends some formats with a line feed, which syslog daemons
	// keep, drop or write as #012.
	msg = strings.TrimSuffix(strings.TrimSuffix(msg, "\n"), "#012")
	for i := range accountFormats {
		f := &accountFormats[i]
		var vals [6]string
		if !matchFormat(f.format, msg, vals[:len(f.roles)]) {
			continue
		}
		var m message
		for j := 0; j < len(f.roles); j++ {
			switch f.roles[j] {
			case 'A':
				m.user = vals[j]
			case 'G':
				m.group = vals[j]
			case 'B':
				m.by = vals[j]
			}
		}
		m.action, m.outcome, m.category = f.action, f.outcome, iam
		return m
	}
	return message{}
}

// matchFormat matches msg against a printf format of %s, %d, %u and %ld
// placeholders, filling vals with what each placeholder took. A
// placeholder takes up to the first occurrence of the literal after it
// (the last placeholder, all that is left); a ' in format also matches `.
func matchFormat(format, msg string, vals []string) bool {
	n := 0
	for {
		i := strings.IndexByte(format, '%')
		lit := format
		if i >= 0 {
			lit = format[:i]
		}
		if !hasLiteral(msg, lit) {
			return false
		}
		msg = msg[len(lit):]
		if i < 0 {
			return msg == ""
		}
		format = format[i+1:]
		format = strings.TrimPrefix(format, "l")
		if format == "" {
			return false
		}
		format = format[1:] // the verb
		next := format
		if j := strings.IndexByte(next, '%'); j >= 0 {
			next = next[:j]
		}
		var v string
		if next == "" {
			// the last placeholder, or one right before another
			// (gpasswd's "group %s%s"): it takes the rest
			v, msg = msg, ""
		} else {
			k := indexLiteral(msg, next)
			if k < 0 {
				return false
			}
			v, msg = msg[:k], msg[k:]
		}
		if n >= len(vals) {
			return false
		}
		vals[n] = v
		n++
	}
}

// hasLiteral is strings.HasPrefix where a ' in lit also matches `.
func hasLiteral(s, lit string) bool {
	if len(s) < len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if s[i] != lit[i] && !(lit[i] == '\'' && s[i] == '`') {
			return false
		}
	}
	return true
}

// indexLiteral is strings.Index where a ' in lit also matches `.
func indexLiteral(s, lit string) int {
	for i := 0; i+len(lit) <= len(s); i++ {
		if hasLiteral(s[i:], lit) {
			return i
		}
	}
	return -1
}

// logindMessage reads systemd-logind's session lines (logind-session.c):
// "New session %s of user %s.", "Removed session %s.", "Session %s logged
// out. Waiting for processes to exit."
func logindMessage(msg string) message {
	var m message
	switch {
	case strings.HasPrefix(msg, "New session "):
		id, user, ok := strings.Cut(msg[len("New session "):], " of user ")
		if !ok {
			return m
		}
		m.session, m.user = id, strings.TrimSuffix(user, ".")
		m.action, m.outcome = "session-created", success
	case strings.HasPrefix(msg, "Removed session "):
		m.session = strings.TrimSuffix(msg[len("Removed session "):], ".")
		m.action = "session-removed"
	case strings.HasPrefix(msg, "Session ") && strings.Contains(msg, " logged out."):
		m.session, _, _ = strings.Cut(msg[len("Session "):], " ")
		m.action = "session-logged-out"
	default:
		return m
	}
	m.category = session
	return m
}
