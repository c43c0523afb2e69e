package sshd

import (
	"net/netip"
	"strings"
)

// message is what an auth-log message says; strings alias the message.
type message struct {
	action, outcome, category string
	user, ip, port, method    string
	dstIP, dstPort            string
	keyType, fingerprint      string // the key of a publickey or hostbased authentication
	reason                    string // why: a refusal's, a disconnect's, PAM's text
	target                    string // the user a sudo or su runs as
	by                        string // who opened a PAM session, changed a password
	command, tty, pwd         string // sudo's
	session                   string // sshd's channel id, logind's session id
	pamModule, pamService     string
	group                     string
	invalid                   bool // the user does not exist
}

const (
	success = "success"
	failure = "failure"
	auth    = "authentication"
	session = "session"
	network = "network"
	iam     = "iam"
	process = "process"
)

// parseMessage recognises what program's message says. Lines from OpenSSH
// 6 to 10 (sshd, sshd-session, sshd-auth), the PAM modules that log for
// any service, sudo, su, shadow's account tools and systemd-logind are
// read; other messages give a zero message.
func parseMessage(program, msg string) message {
	if strings.HasPrefix(msg, "message repeated ") {
		// syslog's "message repeated 3 times: [ Failed password for …]"
		if i := strings.Index(msg, ": [ "); i >= 0 && strings.HasSuffix(msg, "]") {
			return parseMessage(program, msg[i+4:len(msg)-1])
		}
		return message{}
	}
	if strings.HasPrefix(msg, "pam_") || strings.HasPrefix(msg, "PAM ") {
		if m := pamMessage(msg); m.action != "" {
			return m
		}
	}
	switch program {
	case "sshd", "sshd-session", "sshd-auth":
		m := sshdMessage(msg)
		// sshd says when the user does not exist: "Invalid user U",
		// "[Failed …|Connection closed by] invalid user U", PAM's "illegal user U".
		m.invalid = m.user != "" && (strings.HasPrefix(msg, "Invalid user ") ||
			namesUser(msg, "invalid user ", m.user) || namesUser(msg, "illegal user ", m.user))
		return m
	case "sudo":
		return sudoMessage(msg)
	case "su":
		return suMessage(msg)
	case "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "passwd", "chpasswd", "chage", "gpasswd", "newusers":
		return accountMessage(msg)
	case "systemd-logind":
		return logindMessage(msg)
	}
	return message{}
}

// namesUser reports whether msg has marker followed by user.
func namesUser(msg, marker, user string) bool {
	i := strings.Index(msg, marker)
	return i >= 0 && strings.HasPrefix(msg[i+len(marker):], user)
}

// sshdMessage reads the messages of sshd's auth.c, auth2*.c, auth-pam.c,
// sshd.c, sshd-session.c, session.c, packet.c and kex.c that say something
// about a connection, its key exchange, an authentication or a session.
func sshdMessage(msg string) message {
	var m message
	// error(), fatal() and the [preauth] mark of the unprivileged child
	// frame the same texts.
	for _, p := range [...]string{"error: ", "fatal: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	msg = strings.TrimSuffix(msg, " [preauth]")
	switch {
	case hasAnyPrefix(msg, "Accepted ", "Failed ", "Postponed ", "Partial "):
		// auth.c auth_log: "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s"
		// (verb, method, "/" submethod, "invalid user ", user, ip, port, ": " info).
		verb, text, _ := strings.Cut(msg, " ")
		method, rest, ok := strings.Cut(text, " for ")
		if !ok {
			if verb == "Accepted" {
				return acceptedKey(text)
			}
			return m
		}
		m.method = method
		var tail string
		m.user, m.ip, m.port, tail = userFrom(rest)
		if info, ok := strings.CutPrefix(tail, "ssh2: "); ok {
			m.keyType, m.fingerprint = keyInfo(info)
		}
		m.category = auth
		switch verb {
		case "Accepted":
			m.action, m.outcome = "logged-in", success
		case "Failed":
			m.action, m.outcome = "logon-failed", failure
		case "Postponed":
			m.action = "logon-postponed"
		case "Partial":
			// One method of several (AuthenticationMethods) passed: not
			// yet a login.
			m.action = "logon-partial"
		}
	case strings.HasPrefix(msg, "Invalid user "):
		// auth.c getpwnamallow: "Invalid user %.100s from %.100s port %d",
		// once a connection whose user-auth request names a user that
		// does not exist.
		m.user, m.ip, m.port, _ = userFrom(msg[len("Invalid user "):])
		m.action, m.outcome, m.category = "invalid-user", failure, auth
	case strings.HasPrefix(msg, "input_userauth_request: invalid user "):
		// The unprivileged child's note of the same request (auth2.c,
		// OpenSSH before 7.x), without the address; it also follows a
		// user who exists but is refused (AllowUsers, DenyUsers). Not an
		// attempt of its own: a rule on invalid-user would count each
		// attempt twice, once without its address.
		m.user = msg[len("input_userauth_request: invalid user "):]
		m.action, m.category = "invalid-user-preauth", auth
	case strings.HasPrefix(msg, "maximum authentication attempts exceeded for "):
		// auth.c auth_maxtries_exceeded
		m.user, m.ip, m.port, _ = userFrom(msg[len("maximum authentication attempts exceeded for "):])
		m.action, m.outcome, m.category = "too-many-failures", failure, auth
	case strings.HasPrefix(msg, "Disconnecting: Too many authentication failures"):
		// packet_disconnect before OpenSSH 7.5, without the connection
		m.user = strings.TrimPrefix(msg[len("Disconnecting: Too many authentication failures"):], " for ")
		m.action, m.outcome, m.category = "too-many-failures", failure, auth
	case strings.HasPrefix(msg, "Disconnecting "):
		// packet.c ssh_packet_disconnect: "Disconnecting %s: %.100s"
		// with the connection id ("[authenticating |invalid ]user U IP port N").
		head, reason, _ := strings.Cut(msg[len("Disconnecting "):], ": ")
		m.user, m.ip, m.port = userAddr(head)
		m.reason = reason
		m.category = auth
		if strings.HasPrefix(reason, "Too many authentication failures") {
			m.action, m.outcome = "too-many-failures", failure
		} else {
			m.action = "disconnecting"
		}
	case strings.HasPrefix(msg, "ROOT LOGIN REFUSED FROM "):
		// auth.c auth_root_allowed: "ROOT LOGIN REFUSED FROM %.200s port %d"
		m.ip, m.port = addrPort(msg[len("ROOT LOGIN REFUSED FROM "):])
		m.user = "root"
		m.action, m.outcome, m.category = "root-login-refused", failure, auth
	case strings.HasPrefix(msg, "User ") && strings.Contains(msg, " not allowed because "):
		// auth.c allowed_user: "User %.100s from %.100s not allowed because
		// %s" (AllowUsers, DenyUsers, AllowGroups, DenyGroups) and "User
		// %.100s not allowed because shell %.100s does not exist|is not
		// executable|account is locked".
		head, reason, _ := strings.Cut(msg[len("User "):], " not allowed because ")
		if u, host, ok := cutLast(head, " from "); ok {
			m.user, m.ip = u, host
		} else {
			m.user = head
		}
		m.reason = reason
		m.action, m.outcome, m.category = "user-not-allowed", failure, auth
	case strings.HasPrefix(msg, "Authentication refused for "):
		// auth.c check_key_in_hostfiles: "Authentication refused for
		// %.100s: bad owner or modes for %.200s"
		m.user, m.reason, _ = strings.Cut(msg[len("Authentication refused for "):], ": ")
		m.action, m.outcome, m.category = "authentication-refused", failure, auth
	case strings.HasPrefix(msg, "Authentication refused: "):
		// auth.c auth_openfile: "Authentication refused: %s" (file modes)
		m.reason = msg[len("Authentication refused: "):]
		m.action, m.outcome, m.category = "authentication-refused", failure, auth
	case strings.HasPrefix(msg, "Authentication tried for "):
		// auth-options.c: "Authentication tried for %.100s with correct key
		// but not from a permitted host (host=%.200s, ip=%.200s)."
		rest := msg[len("Authentication tried for "):]
		m.user, _, _ = strings.Cut(rest, " with ")
		if i := strings.Index(rest, "ip="); i >= 0 {
			m.ip, _, _ = strings.Cut(rest[i+3:], ")")
		}
		m.reason = "not from a permitted host"
		m.action, m.outcome, m.category = "authentication-refused", failure, auth
	case strings.HasPrefix(msg, "Authentication key ") && strings.Contains(msg, " revoked by file "):
		// auth.c auth_key_is_revoked: "Authentication key %s %s revoked by file %s"
		head, _, _ := strings.Cut(msg[len("Authentication key "):], " revoked by file ")
		m.keyType, m.fingerprint = keyInfo(head)
		m.action, m.outcome, m.category = "key-revoked", failure, auth
	case strings.HasPrefix(msg, "PAM: ") && strings.Contains(msg, " for "):
		// auth-pam.c: "PAM: %s for %s%.100s from %.100s" (PAM's error,
		// "illegal user ", user, host)
		reason, rest, _ := strings.Cut(msg[len("PAM: "):], " for ")
		if u, host, ok := cutLast(rest, " from "); ok {
			m.user, m.ip = strings.TrimPrefix(u, "illegal user "), host
		} else {
			m.user = strings.TrimPrefix(rest, "illegal user ")
		}
		m.reason = reason
		m.action, m.outcome, m.category = "authentication-failure", failure, auth
	case isConnectionFrom(msg):
		// sshd.c / sshd-session.c: "Connection from %s port %d on %s port
		// %d%s" (the rdomain after), the listener's address second.
		src, dst, _ := strings.Cut(msg[len("Connection from "):], " on ")
		m.ip, m.port = addrPort(src)
		dst, _, _ = strings.Cut(dst, " rdomain ")
		m.dstIP, m.dstPort = addrPort(dst)
		m.action, m.category = "connection-opened", network
	case strings.HasPrefix(msg, "Connection closed by "):
		// packet.c sshpkt_fatal SSH_ERR_CONN_CLOSED: "Connection closed by %s"
		// (the connection id)
		m.user, m.ip, m.port = userAddr(msg[len("Connection closed by "):])
		m.action, m.category = "connection-closed", auth
	case strings.HasPrefix(msg, "Connection reset by "):
		// sshpkt_fatal on ECONNRESET: "Connection reset by %s"
		m.user, m.ip, m.port = userAddr(msg[len("Connection reset by "):])
		m.action, m.category = "connection-reset", auth
	case strings.HasPrefix(msg, "Connection from ") && strings.HasSuffix(msg, " timed out"):
		// sshpkt_fatal SSH_ERR_CONN_TIMEOUT: "Connection %s %s timed out"
		m.user, m.ip, m.port = userAddr(strings.TrimSuffix(msg[len("Connection from "):], " timed out"))
		m.action, m.outcome, m.category = "timeout", failure, auth
	case strings.HasPrefix(msg, "Timeout before authentication for "):
		// sshd grace_alarm_handler: "Timeout before authentication for %s
		// port %d" (before 7.x without the port); OpenSSH 9.8's listener:
		// "Timeout before authentication for connection from %s to %s, pid = %ld"
		rest := msg[len("Timeout before authentication for "):]
		if r, ok := strings.CutPrefix(rest, "connection from "); ok {
			var dst string
			m.ip, dst, _ = strings.Cut(r, " to ")
			m.dstIP, _, _ = strings.Cut(dst, ",")
		} else {
			m.ip, m.port = addrPort(rest)
		}
		m.action, m.outcome, m.category = "timeout", failure, auth
	case strings.HasPrefix(msg, "srclimit_penalise: "):
		// srclimit.c (PerSourcePenalties, 9.8): "srclimit_penalise: %s:
		// new|extending %s deferred penalty of %d seconds for %s", the
		// address as a network (1.2.3.4/32)
		rest := msg[len("srclimit_penalise: "):]
		if i := strings.Index(rest, ": new "); i >= 0 {
			rest = rest[i+len(": new "):]
		} else if i := strings.Index(rest, ": extending "); i >= 0 {
			rest = rest[i+len(": extending "):]
		} else {
			return m
		}
		cidr, reason, _ := strings.Cut(rest, " ")
		if addr, bits, ok := strings.Cut(cidr, "/"); ok && (bits == "32" && !strings.Contains(addr, ":") || bits == "128") {
			m.ip = addr
		}
		if _, r, ok := strings.Cut(reason, " for "); ok {
			m.reason = r
		}
		m.action, m.outcome, m.category = "source-penalised", failure, network
	case strings.HasPrefix(msg, "Disconnected from "):
		// sshpkt_fatal SSH_ERR_DISCONNECTED: "Disconnected from %s"
		m.user, m.ip, m.port = userAddr(msg[len("Disconnected from "):])
		m.action, m.category = "disconnected", auth
	case strings.HasPrefix(msg, "Received disconnect from "):
		// packet.c: "Received disconnect from %s: %u: %.400s" with the
		// connection id (OpenSSH 7.5+: "IP port N:11: reason"), before
		// that "IP: 11: reason".
		rest := msg[len("Received disconnect from "):]
		id, reason, _ := strings.Cut(rest, ": ")
		if strings.Contains(id, " port ") {
			// "IP port N:11" — the code is glued to the port
			id, code, _ := strings.Cut(id, ":")
			m.user, m.ip, m.port = userAddr(id)
			m.reason = code + ": " + reason
		} else {
			m.user, m.ip, m.port = userAddr(id)
			m.reason = reason
		}
		m.action, m.category = "disconnected", auth
	case strings.HasPrefix(msg, "Unable to negotiate with "):
		// sshpkt_fatal on a failed algorithm choice: "Unable to negotiate
		// with %s: %s. Their offer: %s"
		id, reason, _ := strings.Cut(msg[len("Unable to negotiate with "):], ": ")
		m.user, m.ip, m.port = userAddr(id)
		m.reason = reason
		m.action, m.outcome, m.category = "key-exchange-failed", failure, network
	case strings.HasPrefix(msg, "kex_exchange_identification: "),
		strings.HasPrefix(msg, "Bad protocol version identification "),
		strings.HasPrefix(msg, "Protocol major versions differ"),
		strings.HasPrefix(msg, "Bad remote protocol version identification"):
		// kex.c kex_exchange_identification (no address: the next line,
		// "banner exchange: Connection from …", has it); sshd before 8.0:
		// "Bad protocol version identification '%.100s' from %s port %d",
		// "Protocol major versions differ for %s port %d: %.200s vs. %.200s".
		m.reason = msg
		if i := strings.LastIndex(msg, "' from "); i >= 0 {
			m.ip, m.port = addrPort(msg[i+len("' from "):])
		} else if rest, ok := strings.CutPrefix(msg, "Protocol major versions differ for "); ok {
			id, _, _ := strings.Cut(rest, ": ")
			m.ip, m.port = addrPort(id)
		}
		m.action, m.outcome, m.category = "bad-identification", failure, network
	case strings.HasPrefix(msg, "Did not receive identification string from "):
		// sshd before 8.0: "Did not receive identification string from %s[ port %d]"
		m.user, m.ip, m.port = userAddr(msg[len("Did not receive identification string from "):])
		m.action, m.category = "no-identification", auth
	case strings.Contains(msg, "Connection from ") && strings.Contains(msg, ": "):
		// sshpkt_fatal's other errors: "%s%sConnection %s %s: %s" with a
		// tag ("banner exchange", "ssh_dispatch_run_fatal", a function).
		tag, rest, _ := strings.Cut(msg, "Connection from ")
		id, reason, _ := strings.Cut(rest, ": ")
		m.user, m.ip, m.port = userAddr(id)
		m.reason = reason
		m.category = network
		if strings.HasPrefix(tag, "banner exchange") {
			m.action, m.outcome = "bad-identification", failure
		} else {
			m.action = "connection-error"
		}
	case strings.HasPrefix(msg, "reverse mapping checking getaddrinfo for "):
		// auth.c remote_hostname: "reverse mapping checking getaddrinfo for
		// %.700s [%s] failed." (older: "… failed - POSSIBLE BREAK-IN ATTEMPT!")
		if i := strings.LastIndexByte(msg, '['); i >= 0 {
			if j := strings.IndexByte(msg[i:], ']'); j > 0 {
				m.ip = msg[i+1 : i+j]
			}
		}
		m.action, m.category = "reverse-mapping-failed", auth
	case strings.HasPrefix(msg, "Address ") && strings.Contains(msg, " but this does not map back to the address"):
		// "Address %.100s maps to %.600s, but this does not map back to the address."
		m.ip, _, _ = strings.Cut(msg[len("Address "):], " ")
		m.action, m.category = "reverse-mapping-failed", auth
	case strings.HasPrefix(msg, "Nasty PTR record "):
		// "Nasty PTR record \"%s\" is set up for %s, ignoring"
		if i := strings.LastIndex(msg, " is set up for "); i >= 0 {
			m.ip, _, _ = strings.Cut(msg[i+len(" is set up for "):], ",")
		}
		m.action, m.category = "reverse-mapping-failed", auth
	case strings.HasPrefix(msg, "Starting session: "):
		// session.c: "Starting session: %s%s%s for %s from %.200s port %d id %d"
		// (shell on pts/0, command, subsystem 'sftp', forced-command …)
		kind, rest, ok := cutLast(msg[len("Starting session: "):], " for ")
		if !ok {
			return m
		}
		m.reason = kind
		var tail string
		m.user, m.ip, m.port, tail = userFrom(rest)
		m.session = strings.TrimPrefix(tail, "id ")
		if t, ok := strings.CutPrefix(kind, "shell on "); ok {
			m.tty = t
		} else if _, t, ok := strings.Cut(kind, " on "); ok {
			m.tty = t
		}
		m.action, m.outcome, m.category = "session-started", success, session
	case strings.HasPrefix(msg, "Close session: user "):
		// session.c: "Close session: user %s from %.200s port %d id %d"
		var tail string
		m.user, m.ip, m.port, tail = userFrom(msg[len("Close session: user "):])
		m.session = strings.TrimPrefix(tail, "id ")
		m.action, m.category = "session-closed", session
	case strings.HasPrefix(msg, "Server listening on "):
		// sshd.c: "Server listening on %s port %s%s%s."
		m.dstIP, m.dstPort = addrPort(strings.TrimSuffix(msg[len("Server listening on "):], "."))
		m.dstPort, _, _ = strings.Cut(m.dstPort, " ")
		m.action, m.category = "listening", network
	case strings.HasPrefix(msg, "Received signal ") && strings.HasSuffix(msg, "; terminating."):
		m.action, m.category = "terminating", process
	case strings.HasPrefix(msg, "drop connection #"):
		// sshd.c: "drop connection #%d from [%s]:%d on [%s]:%d %s"
		// (past MaxStartups, penalty: …)
		rest := msg[len("drop connection #"):]
		if i := strings.Index(rest, " from ["); i >= 0 {
			rest = rest[i+len(" from ["):]
			m.ip, rest, _ = strings.Cut(rest, "]:")
			m.port, rest, _ = strings.Cut(rest, " ")
			if r, ok := strings.CutPrefix(rest, "on ["); ok {
				m.dstIP, r, _ = strings.Cut(r, "]:")
				m.dstPort, m.reason, _ = strings.Cut(r, " ")
			}
		}
		m.action, m.outcome, m.category = "connection-dropped", failure, network
	}
	return m
}

// isConnectionFrom reports whether msg is sshd's note of a new connection,
// "Connection from IP port N on IP port N", not an error about one
// ("Connection from IP port N: reason").
func isConnectionFrom(msg string) bool {
	rest, ok := strings.CutPrefix(msg, "Connection from ")
	if !ok {
		return false
	}
	src, _, ok := strings.Cut(rest, " on ")
	return ok && !strings.Contains(src, ": ")
}

// acceptedKey reads session.c/auth2-pubkey.c's verbose notes of the key
// that will be accepted: "Accepted key %s %s found at %s:%lu" and
// "Accepted certificate ID \"%s\" (serial %llu) signed by %s CA %s via %s".
func acceptedKey(s string) message {
	var m message
	switch {
	case strings.HasPrefix(s, "key ") && strings.Contains(s, " found at "):
		head, _, _ := strings.Cut(s[len("key "):], " found at ")
		m.keyType, m.fingerprint = keyInfo(head)
		m.action, m.category = "key-accepted", auth
	case strings.HasPrefix(s, "certificate ID "):
		if i := strings.Index(s, " signed by "); i >= 0 {
			head, _, _ := strings.Cut(s[i+len(" signed by "):], " via ")
			typ, fp, _ := strings.Cut(head, " CA ")
			m.keyType, m.fingerprint = typ, fp
		}
		m.action, m.category = "certificate-accepted", auth
	}
	return m
}

// keyInfo reads auth_log's info of a key: "TYPE FINGERPRINT", a
// certificate's "TYPE-CERT FP ID \"x\" (serial N) CA TYPE FP".
func keyInfo(s string) (typ, fp string) {
	typ, rest, ok := strings.Cut(s, " ")
	if !ok {
		return "", ""
	}
	fp, _, _ = strings.Cut(rest, " ")
	return typ, fp
}

// userFrom reads "[invalid user ]<user> from <ip>[ port <port>][ rest]",
// returning the rest after the port ("ssh2: RSA SHA256:…", "id 0"). The
// user is everything before the last " from ", so a name with spaces
// (which attackers try) stays whole.
func userFrom(s string) (user, ip, port, rest string) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		return "", "", "", ""
	}
	user = strings.TrimPrefix(s[:i], "invalid user ")
	rest = s[i+len(" from "):]
	ip, rest, _ = strings.Cut(rest, " ")
	if strings.HasPrefix(rest, "port ") {
		port, rest, _ = strings.Cut(rest[len("port "):], " ")
	}
	return user, ip, port, rest
}

// userAddr reads a connection id as packet.c writes it: "[authenticating
// user U |invalid user U |user U ]<ip>[ port <port>]".
func userAddr(s string) (user, ip, port string) {
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

// addrPort reads "<ip> port <port>".
func addrPort(s string) (ip, port string) {
	ip, port, _ = strings.Cut(s, " port ")
	return ip, port
}

// cutLast cuts s around the last sep.
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func hasAnyPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
