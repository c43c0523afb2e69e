package sshd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
)

// formatCase is one format string a program passes to syslog, where it
// is in the program's source, a line built from it and the fields the
// line must decode to ("field=value", ECS names for common fields; a
// field not listed must be empty among event.action, event.outcome,
// user.name, source.ip, source.port).
type formatCase struct {
	source, format, line string
	want                 []string
}

// sshdFormats are OpenSSH's (openssh-portable 6.x to 10.x) messages about
// connections, key exchange, authentication and sessions.
var sshdFormats = []formatCase{
	{"auth.c auth_log", "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s",
		"sshd[1]: Accepted publickey for deploy from 10.20.0.15 port 60112 ssh2: ED25519 SHA256:Zq1Xk3k0c9Yw7Vw2nH0zq3o8dXQYl1yq4i9pM2r8e0A",
		[]string{"event.action=logged-in", "event.outcome=success", "user.name=deploy", "source.ip=10.20.0.15", "source.port=60112", "method=publickey", "key_type=ED25519", "fingerprint=SHA256:Zq1Xk3k0c9Yw7Vw2nH0zq3o8dXQYl1yq4i9pM2r8e0A", "event.category=authentication"}},
	{"auth.c auth_log (certificate)", "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s",
		`sshd-session[2]: Accepted publickey for alice@corp.example.com from 192.0.2.7 port 40000 ssh2: ED25519-CERT SHA256:AAAA ID alice (serial 7) CA ED25519 SHA256:BBBB`,
		[]string{"event.action=logged-in", "event.outcome=success", "user.name=alice@corp.example.com", "source.ip=192.0.2.7", "source.port=40000", "key_type=ED25519-CERT", "fingerprint=SHA256:AAAA"}},
	{"auth.c auth_log (submethod)", "%s %s%s%s for …",
		"sshd[1]: Accepted keyboard-interactive/pam for carol from 192.0.2.50 port 50505 ssh2",
		[]string{"event.action=logged-in", "event.outcome=success", "user.name=carol", "source.ip=192.0.2.50", "source.port=50505", "method=keyboard-interactive/pam", "invalid_user="}},
	{"auth.c auth_log (failed, invalid user)", "%s %s%s%s for %s%.100s from …",
		"sshd[1]: Failed password for invalid user oracle from 198.51.100.77 port 51422 ssh2",
		[]string{"event.action=logon-failed", "event.outcome=failure", "user.name=oracle", "source.ip=198.51.100.77", "source.port=51422", "method=password", "invalid_user=true"}},
	{"auth.c auth_log (failed none)", "%s %s%s%s for …",
		"sshd[1]: Failed none for invalid user admin from 2001:db8::9 port 1022 ssh2 [preauth]",
		[]string{"event.action=logon-failed", "event.outcome=failure", "user.name=admin", "source.ip=2001:db8::9", "source.port=1022", "method=none"}},
	{"auth.c auth_log (failed publickey)", "%s %s%s%s for …",
		"sshd[1]: Failed publickey for root from 203.0.113.4 port 2200 ssh2: RSA SHA256:cccc",
		[]string{"event.action=logon-failed", "event.outcome=failure", "user.name=root", "source.ip=203.0.113.4", "source.port=2200", "key_type=RSA", "fingerprint=SHA256:cccc"}},
	{"auth.c auth_log (postponed)", "%s %s%s%s for …",
		"sshd[1]: Postponed keyboard-interactive for bob from 192.0.2.8 port 4000 ssh2 [preauth]",
		[]string{"event.action=logon-postponed", "user.name=bob", "source.ip=192.0.2.8", "source.port=4000", "method=keyboard-interactive"}},
	{"auth.c auth_log (partial, AuthenticationMethods)", "%s %s%s%s for …",
		"sshd[1]: Partial publickey for bob from 192.0.2.8 port 4000 ssh2: ECDSA SHA256:dddd",
		[]string{"event.action=logon-partial", "user.name=bob", "source.ip=192.0.2.8", "source.port=4000", "method=publickey", "fingerprint=SHA256:dddd"}},
	{"auth.c getpwnamallow", "Invalid user %.100s from %.100s port %d",
		"sshd[1]: Invalid user admin from 192.0.2.77 port 40100",
		[]string{"event.action=invalid-user", "event.outcome=failure", "user.name=admin", "source.ip=192.0.2.77", "source.port=40100", "invalid_user=true"}},
	{"auth2.c input_userauth_request (before 7.x)", "input_userauth_request: invalid user %s",
		"sshd[1]: input_userauth_request: invalid user test [preauth]",
		[]string{"event.action=invalid-user-preauth", "user.name=test"}},
	{"auth.c auth_maxtries_exceeded", "maximum authentication attempts exceeded for %s%.100s from %.200s port %d ssh2",
		"sshd[1]: error: maximum authentication attempts exceeded for invalid user pi from 203.0.113.12 port 5555 ssh2 [preauth]",
		[]string{"event.action=too-many-failures", "event.outcome=failure", "user.name=pi", "source.ip=203.0.113.12", "source.port=5555"}},
	{"packet.c ssh_packet_disconnect", "Disconnecting %s: %.100s",
		"sshd[1]: Disconnecting authenticating user root 203.0.113.6 port 41234: Too many authentication failures [preauth]",
		[]string{"event.action=too-many-failures", "event.outcome=failure", "user.name=root", "source.ip=203.0.113.6", "source.port=41234"}},
	{"packet.c ssh_packet_disconnect (other reason)", "Disconnecting %s: %.100s",
		"sshd[1]: Disconnecting invalid user admin 203.0.113.7 port 50000: Change of username or service not allowed: (admin,ssh-connection) -> (root,ssh-connection) [preauth]",
		[]string{"event.action=disconnecting", "user.name=admin", "source.ip=203.0.113.7", "source.port=50000", "reason=Change of username or service not allowed: (admin,ssh-connection) -> (root,ssh-connection)"}},
	{"packet.c packet_disconnect (before 7.5)", "Disconnecting: %.100s",
		"sshd[1]: Disconnecting: Too many authentication failures for pi [preauth]",
		[]string{"event.action=too-many-failures", "event.outcome=failure", "user.name=pi"}},
	{"auth.c auth_root_allowed", "ROOT LOGIN REFUSED FROM %.200s port %d",
		"sshd[1]: ROOT LOGIN REFUSED FROM 198.51.100.3 port 33333",
		[]string{"event.action=root-login-refused", "event.outcome=failure", "user.name=root", "source.ip=198.51.100.3", "source.port=33333"}},
	{"auth.c allowed_user", "User %.100s from %.100s not allowed because %s",
		"sshd[1]: User bob@ad.example.com from 192.0.2.9 not allowed because not listed in AllowUsers",
		[]string{"event.action=user-not-allowed", "event.outcome=failure", "user.name=bob@ad.example.com", "source.ip=192.0.2.9", "reason=not listed in AllowUsers"}},
	{"auth.c allowed_user (shell)", "User %.100s not allowed because shell %.100s does not exist",
		"sshd[1]: User nobody not allowed because shell /usr/sbin/nologin does not exist",
		[]string{"event.action=user-not-allowed", "event.outcome=failure", "user.name=nobody", "reason=shell /usr/sbin/nologin does not exist"}},
	{"auth.c check_key_in_hostfiles", "Authentication refused for %.100s: bad owner or modes for %.200s",
		"sshd[1]: Authentication refused for alice: bad owner or modes for /home/alice/.ssh/known_hosts",
		[]string{"event.action=authentication-refused", "event.outcome=failure", "user.name=alice", "reason=bad owner or modes for /home/alice/.ssh/known_hosts"}},
	{"auth.c auth_openfile", "Authentication refused: %s",
		"sshd[1]: Authentication refused: bad ownership or modes for directory /home/alice/.ssh",
		[]string{"event.action=authentication-refused", "event.outcome=failure", "reason=bad ownership or modes for directory /home/alice/.ssh"}},
	{"auth-options.c", "Authentication tried for %.100s with correct key but not from a permitted host (host=%.200s, ip=%.200s).",
		"sshd[1]: Authentication tried for deploy with correct key but not from a permitted host (host=evil.example.net, ip=203.0.113.66).",
		[]string{"event.action=authentication-refused", "event.outcome=failure", "user.name=deploy", "source.ip=203.0.113.66"}},
	{"auth.c auth_key_is_revoked", "Authentication key %s %s revoked by file %s",
		"sshd[1]: error: Authentication key RSA SHA256:eeee revoked by file /etc/ssh/revoked_keys",
		[]string{"event.action=key-revoked", "event.outcome=failure", "key_type=RSA", "fingerprint=SHA256:eeee"}},
	{"auth-pam.c sshpam_query", "PAM: %s for %s%.100s from %.100s",
		"sshd[1]: error: PAM: Authentication failure for illegal user admin from 203.0.113.20",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=admin", "source.ip=203.0.113.20", "reason=Authentication failure", "invalid_user=true"}},
	{"auth2-pubkey.c (verbose)", "Accepted key %s %s found at %s:%lu",
		"sshd[1]: Accepted key ED25519 SHA256:ffff found at /home/deploy/.ssh/authorized_keys:3",
		[]string{"event.action=key-accepted", "key_type=ED25519", "fingerprint=SHA256:ffff"}},
	{"auth2-pubkey.c (verbose)", "Accepted certificate ID \"%s\" (serial %llu) signed by %s CA %s via %s",
		`sshd[1]: Accepted certificate ID "alice" (serial 7) signed by ED25519 CA SHA256:BBBB via /etc/ssh/ca.pub`,
		[]string{"event.action=certificate-accepted", "key_type=ED25519", "fingerprint=SHA256:BBBB"}},
	{"sshd.c / sshd-session.c (verbose)", "Connection from %s port %d on %s port %d%s",
		`sshd-session[9]: Connection from 203.0.113.5 port 50000 on 10.0.0.1 port 22 rdomain ""`,
		[]string{"event.action=connection-opened", "source.ip=203.0.113.5", "source.port=50000", "destination.ip=10.0.0.1", "destination.port=22", "event.category=network"}},
	{"packet.c sshpkt_fatal SSH_ERR_CONN_CLOSED", "Connection closed by %s",
		"sshd[1]: Connection closed by authenticating user root 203.0.113.6 port 41234 [preauth]",
		[]string{"event.action=connection-closed", "user.name=root", "source.ip=203.0.113.6", "source.port=41234"}},
	{"packet.c sshpkt_fatal SSH_ERR_CONN_CLOSED (invalid user)", "Connection closed by %s",
		"sshd[1]: Connection closed by invalid user ftp admin 203.0.113.6 port 41235 [preauth]",
		[]string{"event.action=connection-closed", "user.name=ftp admin", "source.ip=203.0.113.6", "source.port=41235", "invalid_user=true"}},
	{"packet.c sshpkt_fatal ECONNRESET", "Connection reset by %s",
		"sshd[1]: Connection reset by 203.0.113.40 port 52000 [preauth]",
		[]string{"event.action=connection-reset", "source.ip=203.0.113.40", "source.port=52000"}},
	{"packet.c sshpkt_fatal ECONNRESET (user)", "Connection reset by %s",
		"sshd[1]: Connection reset by authenticating user alice@example.org 203.0.113.41 port 52001 [preauth]",
		[]string{"event.action=connection-reset", "user.name=alice@example.org", "source.ip=203.0.113.41", "source.port=52001"}},
	{"packet.c sshpkt_fatal SSH_ERR_CONN_TIMEOUT", "Connection %s %s timed out",
		"sshd[1]: Connection from 203.0.113.42 port 52002 timed out",
		[]string{"event.action=timeout", "event.outcome=failure", "source.ip=203.0.113.42", "source.port=52002"}},
	{"sshd.c grace_alarm_handler", "Timeout before authentication for %s port %d",
		"sshd[1]: fatal: Timeout before authentication for 203.0.113.43 port 52003",
		[]string{"event.action=timeout", "event.outcome=failure", "source.ip=203.0.113.43", "source.port=52003"}},
	{"sshd.c (9.8+ listener)", "Timeout before authentication for connection from %s to %s, pid = %ld",
		"sshd[1]: Timeout before authentication for connection from 203.0.113.49 to 10.0.0.1, pid = 78856",
		[]string{"event.action=timeout", "event.outcome=failure", "source.ip=203.0.113.49", "destination.ip=10.0.0.1"}},
	{"sshd.c (before 7.x)", "Timeout before authentication for %s",
		"sshd[1]: fatal: Timeout before authentication for 10.10.0.3",
		[]string{"event.action=timeout", "event.outcome=failure", "source.ip=10.10.0.3"}},
	{"srclimit.c srclimit_penalise (9.8+)", "%s: %s: new %s deferred penalty of %d seconds for %s",
		"sshd[1]: srclimit_penalise: ipv4: new 203.0.113.51/32 deferred penalty of 10 seconds for penalty: failed authentication",
		[]string{"event.action=source-penalised", "event.outcome=failure", "source.ip=203.0.113.51", "reason=penalty: failed authentication", "event.category=network"}},
	{"packet.c sshpkt_fatal SSH_ERR_DISCONNECTED", "Disconnected from %s",
		"sshd[1]: Disconnected from invalid user admin 203.0.113.7 port 50000 [preauth]",
		[]string{"event.action=disconnected", "user.name=admin", "source.ip=203.0.113.7", "source.port=50000"}},
	{"packet.c (7.5+)", "Received disconnect from %s: %u: %.400s",
		"sshd[1]: Received disconnect from 203.0.113.9 port 45678:11: Normal Shutdown, Thank you for playing [preauth]",
		[]string{"event.action=disconnected", "source.ip=203.0.113.9", "source.port=45678", "reason=11: Normal Shutdown, Thank you for playing"}},
	{"packet.c (7.5+, user)", "Received disconnect from %s: %u: %.400s",
		"sshd[1]: Received disconnect from user bob 192.0.2.8 port 4000:11: disconnected by user",
		[]string{"event.action=disconnected", "user.name=bob", "source.ip=192.0.2.8", "source.port=4000"}},
	{"packet.c (before 7.5)", "Received disconnect from %s: %u: %.400s",
		"sshd[1]: Received disconnect from 203.0.113.8: 11: Bye Bye [preauth]",
		[]string{"event.action=disconnected", "source.ip=203.0.113.8", "reason=11: Bye Bye"}},
	{"packet.c sshpkt_fatal (negotiation)", "Unable to negotiate with %s: %s. Their offer: %s",
		"sshd[1]: Unable to negotiate with 203.0.113.44 port 52004: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
		[]string{"event.action=key-exchange-failed", "event.outcome=failure", "source.ip=203.0.113.44", "source.port=52004", "reason=no matching key exchange method found. Their offer: diffie-hellman-group1-sha1"}},
	{"kex.c kex_exchange_identification", "kex_exchange_identification: Connection closed by remote host",
		"sshd[1]: error: kex_exchange_identification: Connection closed by remote host",
		[]string{"event.action=bad-identification", "event.outcome=failure"}},
	{"kex.c kex_exchange_identification", "kex_exchange_identification: client sent invalid protocol identifier \"%.256s\"",
		`sshd[1]: error: kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"`,
		[]string{"event.action=bad-identification", "event.outcome=failure"}},
	{"packet.c sshpkt_fatal (tag banner exchange)", "%s%sConnection %s %s: %s",
		"sshd[1]: banner exchange: Connection from 203.0.113.45 port 52005: invalid format",
		[]string{"event.action=bad-identification", "event.outcome=failure", "source.ip=203.0.113.45", "source.port=52005", "reason=invalid format"}},
	{"packet.c sshpkt_fatal (tag)", "%s%sConnection %s %s: %s",
		"sshd[1]: ssh_dispatch_run_fatal: Connection from authenticating user root 203.0.113.46 port 52006: message authentication code incorrect [preauth]",
		[]string{"event.action=connection-error", "user.name=root", "source.ip=203.0.113.46", "source.port=52006", "reason=message authentication code incorrect"}},
	{"sshd.c (before 8.0)", "Bad protocol version identification '%.100s' from %s port %d",
		"sshd[1]: Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.47 port 52007",
		[]string{"event.action=bad-identification", "event.outcome=failure", "source.ip=203.0.113.47", "source.port=52007"}},
	{"sshd.c (before 8.0)", "Protocol major versions differ for %s port %d: %.200s vs. %.200s",
		"sshd[1]: Protocol major versions differ for 203.0.113.48 port 52008: SSH-2.0-OpenSSH_9.6 vs. SSH-1.5-Nmap-SSH1-Hostkey",
		[]string{"event.action=bad-identification", "event.outcome=failure", "source.ip=203.0.113.48", "source.port=52008"}},
	{"sshd.c (before 8.0)", "Did not receive identification string from %s port %d",
		"sshd[1]: Did not receive identification string from 203.0.113.13 port 52009",
		[]string{"event.action=no-identification", "source.ip=203.0.113.13", "source.port=52009"}},
	{"auth.c remote_hostname", "reverse mapping checking getaddrinfo for %.700s [%s] failed.",
		"sshd[1]: reverse mapping checking getaddrinfo for host-13.example.org [203.0.113.14] failed.",
		[]string{"event.action=reverse-mapping-failed", "source.ip=203.0.113.14"}},
	{"auth.c remote_hostname", "Address %.100s maps to %.600s, but this does not map back to the address.",
		"sshd[1]: Address 203.0.113.15 maps to h.example.org, but this does not map back to the address.",
		[]string{"event.action=reverse-mapping-failed", "source.ip=203.0.113.15"}},
	{"auth.c remote_hostname", "Nasty PTR record \"%s\" is set up for %s, ignoring",
		`sshd[1]: Nasty PTR record "10.0.0.1" is set up for 203.0.113.16, ignoring`,
		[]string{"event.action=reverse-mapping-failed", "source.ip=203.0.113.16"}},
	{"session.c do_exec", "Starting session: %s%s%s for %s from %.200s port %d id %d",
		"sshd-session[9]: Starting session: shell on pts/0 for alice@example.com from 192.0.2.30 port 60000 id 0",
		[]string{"event.action=session-started", "event.outcome=success", "user.name=alice@example.com", "source.ip=192.0.2.30", "source.port=60000", "tty=pts/0", "session=0", "event.category=session"}},
	{"session.c do_exec (subsystem)", "Starting session: %s%s%s for %s from %.200s port %d id %d",
		"sshd[1]: Starting session: subsystem 'sftp' for deploy from 192.0.2.31 port 60001 id 1",
		[]string{"event.action=session-started", "event.outcome=success", "user.name=deploy", "source.ip=192.0.2.31", "source.port=60001", "reason=subsystem 'sftp'", "session=1"}},
	{"session.c session_close (verbose)", "Close session: user %s from %.200s port %d id %d",
		"sshd[1]: Close session: user deploy from 192.0.2.31 port 60001 id 1",
		[]string{"event.action=session-closed", "user.name=deploy", "source.ip=192.0.2.31", "source.port=60001", "session=1"}},
	{"sshd.c server_listen", "Server listening on %s port %s%s%s.",
		"sshd[1]: Server listening on 0.0.0.0 port 22.",
		[]string{"event.action=listening", "destination.ip=0.0.0.0", "destination.port=22"}},
	{"sshd.c main", "Received signal %d; terminating.",
		"sshd[1]: Received signal 15; terminating.",
		[]string{"event.action=terminating"}},
	{"sshd.c (MaxStartups, PerSourcePenalties)", "drop connection #%d from [%s]:%d on [%s]:%d %s",
		"sshd[1]: drop connection #10 from [203.0.113.50]:52010 on [10.0.0.1]:22 penalty: failed authentication",
		[]string{"event.action=connection-dropped", "event.outcome=failure", "source.ip=203.0.113.50", "source.port=52010", "destination.ip=10.0.0.1", "destination.port=22", "reason=penalty: failed authentication"}},
	{"syslog (repeated line)", "message repeated %d times: [ %s]",
		"sshd[1]: message repeated 4 times: [ Failed password for root from 203.0.113.11 port 2222 ssh2]",
		[]string{"event.action=logon-failed", "event.outcome=failure", "user.name=root", "source.ip=203.0.113.11", "source.port=2222"}},
}

// pamFormats are the PAM modules' lines, for sshd and other services.
var pamFormats = []formatCase{
	{"pam_unix support.c", "authentication failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s  user=%s",
		"sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.10  user=root",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=root", "source.ip=203.0.113.10", "pam_module=pam_unix", "pam_service=sshd"}},
	{"pam_unix support.c (host name)", "… rhost=%s",
		"sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "rhost=scanner.example.net"}},
	{"libpam", "PAM %d more authentication failure%s; %s",
		"sshd[1]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.10  user=root",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=root", "source.ip=203.0.113.10"}},
	{"pam_unix", "check pass; user unknown",
		"sshd[1]: pam_unix(sshd:auth): check pass; user unknown",
		[]string{"event.action=user-unknown", "event.outcome=failure"}},
	{"pam_unix pam_unix_sess.c", "session opened for user %s(uid=%d) by %s(uid=%d)",
		"sshd[1]: pam_unix(sshd:session): session opened for user alice@example.com(uid=1500) by (uid=0)",
		[]string{"event.action=session-opened", "event.outcome=success", "user.name=alice@example.com", "event.category=session"}},
	{"pam_unix pam_unix_sess.c (older)", "session opened for user %s by %s(uid=%lu)",
		"sshd[1]: pam_unix(sshd:session): session opened for user deploy by (uid=0)",
		[]string{"event.action=session-opened", "event.outcome=success", "user.name=deploy"}},
	{"pam_unix pam_unix_sess.c", "session closed for user %s",
		"sshd[1]: pam_unix(sshd:session): session closed for user deploy",
		[]string{"event.action=session-closed", "user.name=deploy"}},
	{"pam_unix pam_unix_passwd.c", "password changed for %s",
		"passwd[1]: pam_unix(passwd:chauthtok): password changed for bob",
		[]string{"event.action=password-changed", "event.outcome=success", "user.name=bob", "event.category=iam"}},
	{"pam_faillock", "Consecutive login failures for user %s account temporarily locked",
		"sshd[1]: pam_faillock(sshd:auth): Consecutive login failures for user root account temporarily locked",
		[]string{"event.action=account-locked", "event.outcome=failure", "user.name=root", "pam_module=pam_faillock"}},
	{"pam_tally2", "user %s (%lu) tally %hu, deny %hu",
		"sshd[1]: pam_tally2(sshd:auth): user root (0) tally 4, deny 3",
		[]string{"event.action=account-locked", "event.outcome=failure", "user.name=root"}},
	{"pam_sss", "authentication failure; logname=%s uid=%lu euid=%d tty=%s ruser=%s rhost=%s user=%s",
		"sshd[1]: pam_sss(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.60 user=alice@ad.example.com",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=alice@ad.example.com", "source.ip=198.51.100.60", "pam_module=pam_sss"}},
	{"pam_sss", "authentication success; logname=%s …",
		"sshd[1]: pam_sss(sshd:auth): authentication success; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.60 user=alice@ad.example.com",
		[]string{"event.action=authentication-success", "event.outcome=success", "user.name=alice@ad.example.com", "source.ip=198.51.100.60"}},
	{"pam_sss", "received for user %s: %d (%s)",
		"sshd[1]: pam_sss(sshd:auth): received for user alice@ad.example.com: 7 (Authentication failure)",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=alice@ad.example.com", "reason=7 (Authentication failure)"}},
	{"pam_sss", "Access denied for user %s: %d (%s)",
		"sshd[1]: pam_sss(sshd:account): Access denied for user bob@ad.example.com: 6 (Permission denied)",
		[]string{"event.action=access-denied", "event.outcome=failure", "user.name=bob@ad.example.com"}},
	{"pam_winbind", "user '%s' granted access",
		`sshd[1]: pam_winbind(sshd:auth): user 'AD\alice' granted access`,
		[]string{"event.action=authentication-success", "event.outcome=success", `user.name=AD\alice`, "pam_module=pam_winbind"}},
	{"pam_winbind", "user '%s' denied access (incorrect password or invalid membership)",
		"sshd[1]: pam_winbind(sshd:auth): user 'alice@ad.example.com' denied access (incorrect password or invalid membership)",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=alice@ad.example.com", "reason=incorrect password or invalid membership"}},
	{"pam_winbind", "user '%s' granted access (account)",
		"sshd[1]: pam_winbind(sshd:account): user 'alice' granted access",
		[]string{"event.action=access-granted", "event.outcome=success", "user.name=alice"}},
	{"pam_winbind", "request %s failed: %s, PAM error: %s (%d), NTSTATUS: %s, Error message was: %s",
		"sshd[1]: pam_winbind(sshd:auth): request wbcLogonUser failed: WBC_ERR_AUTH_ERROR, PAM error: PAM_AUTH_ERR (7), NTSTATUS: NT_STATUS_WRONG_PASSWORD, Error message was: Wrong Password",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "reason=NT_STATUS_WRONG_PASSWORD"}},
	{"pam_access", "access denied for user `%s' from `%s'",
		"sshd[1]: pam_access(sshd:account): access denied for user `bob' from `203.0.113.61'",
		[]string{"event.action=access-denied", "event.outcome=failure", "user.name=bob", "source.ip=203.0.113.61"}},
	{"pam_succeed_if", "requirement \"%s\" not met by user \"%s\"",
		`sshd[1]: pam_succeed_if(sshd:auth): requirement "uid >= 1000" not met by user "root"`,
		[]string{"event.action=access-denied", "event.outcome=failure", "user.name=root"}},
}

// otherFormats are sudo's, su's, the account tools' and logind's lines of
// the same auth log.
var otherFormats = []formatCase{
	{"sudo logging.c", "%s : TTY=%s ; PWD=%s ; USER=%s ; COMMAND=%s",
		"sudo[1]: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
		[]string{"event.action=command-run", "event.outcome=success", "user.name=alice", "target_user=root", "tty=pts/0", "pwd=/home/alice", "process.command_line=/usr/bin/systemctl restart nginx"}},
	{"sudo logging.c (padded, no pid)", "%s : TTY=%s ; …",
		"sudo:    alice : TTY=pts/1 ; PWD=/tmp ; USER=root ; ENV=A=1 ; COMMAND=/bin/sh -c echo a ; echo b",
		[]string{"event.action=command-run", "event.outcome=success", "user.name=alice", "target_user=root", "process.command_line=/bin/sh -c echo a ; echo b"}},
	{"sudo logging.c (refused)", "%s : %s ; TTY=%s ; …",
		"sudo[1]: mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash",
		[]string{"event.action=command-refused", "event.outcome=failure", "user.name=mallory", "target_user=root", "reason=user NOT in sudoers", "process.command_line=/bin/bash"}},
	{"sudo logging.c (password)", "%s : %d incorrect password attempts ; …",
		"sudo[1]: bob : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id",
		[]string{"event.action=command-refused", "event.outcome=failure", "user.name=bob", "reason=3 incorrect password attempts", "event.category=authentication"}},
	{"pam_unix (sudo)", "session opened for user %s(uid=%d) by %s(uid=%d)",
		"sudo[1]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
		[]string{"event.action=session-opened", "event.outcome=success", "user.name=root", "by=alice", "pam_service=sudo"}},
	{"pam_unix (su)", "authentication failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s  user=%s",
		"su[1]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
		[]string{"event.action=authentication-failure", "event.outcome=failure", "user.name=root", "pam_service=su"}},
	{"util-linux su", "(to %s) %s on %s",
		"su[1]: (to root) alice on pts/0",
		[]string{"event.action=su", "event.outcome=success", "user.name=alice", "target_user=root", "tty=pts/0"}},
	{"util-linux su", "FAILED SU (to %s) %s on %s",
		"su[1]: FAILED SU (to root) alice on pts/0",
		[]string{"event.action=su-failed", "event.outcome=failure", "user.name=alice", "target_user=root"}},
	{"shadow su", "Successful su for %s by %s",
		"su[1]: Successful su for root by alice",
		[]string{"event.action=su", "event.outcome=success", "user.name=alice", "target_user=root"}},
	{"shadow su", "FAILED su for %s by %s",
		"su[1]: FAILED su for root by alice",
		[]string{"event.action=su-failed", "event.outcome=failure", "user.name=alice", "target_user=root"}},
	{"shadow su", "+ %s %s:%s",
		"su[1]: + pts/0 alice:root",
		[]string{"event.action=su", "event.outcome=success", "user.name=alice", "target_user=root", "tty=pts/0"}},
	{"shadow useradd", "new user: name=%s, UID=%u, GID=%u, home=%s, shell=%s, from=%s",
		"useradd[1]: new user: name=backdoor, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0",
		[]string{"event.action=user-created", "event.outcome=success", "user.name=backdoor", "event.category=iam"}},
	{"shadow useradd", "new group: name=%s, GID=%u",
		"useradd[1]: new group: name=svc, GID=1002",
		[]string{"event.action=group-created", "event.outcome=success", "group=svc"}},
	{"shadow useradd, usermod", "add '%s' to group '%s'",
		"usermod[1]: add 'svc' to group 'sudo'",
		[]string{"event.action=user-added-to-group", "event.outcome=success", "user.name=svc", "group=sudo"}},
	{"shadow useradd (4.1)", "add `%s' to shadow group `%s'",
		"useradd[1]: add `svc' to shadow group `sudo'",
		[]string{"event.action=user-added-to-group", "user.name=svc", "group=sudo", "event.outcome=success"}},
	{"shadow userdel", "delete user '%s'\\n",
		"userdel[1]: delete user 'svc'#012",
		[]string{"event.action=user-deleted", "event.outcome=success", "user.name=svc"}},
	{"shadow userdel", "removed group '%s' owned by '%s'\\n",
		"userdel[1]: removed group 'svc' owned by 'svc'",
		[]string{"event.action=group-deleted", "event.outcome=success", "user.name=svc", "group=svc"}},
	{"shadow usermod", "change user '%s' shell from '%s' to '%s'",
		"usermod[1]: change user 'www-data' shell from '/usr/sbin/nologin' to '/bin/bash'",
		[]string{"event.action=user-modified", "event.outcome=success", "user.name=www-data"}},
	{"shadow usermod", "lock user '%s' password",
		"usermod[1]: lock user 'bob' password",
		[]string{"event.action=user-locked", "event.outcome=success", "user.name=bob"}},
	{"shadow groupadd", "group added to %s: name=%s, GID=%u",
		"groupadd[1]: group added to /etc/group: name=dev, GID=1003",
		[]string{"event.action=group-created", "event.outcome=success", "group=dev"}},
	{"shadow groupdel", "group '%s' removed",
		"groupdel[1]: group 'dev' removed",
		[]string{"event.action=group-deleted", "event.outcome=success", "group=dev"}},
	{"shadow passwd", "password for '%s' changed by '%s'",
		"passwd[1]: password for 'bob' changed by 'root'",
		[]string{"event.action=password-changed", "event.outcome=success", "user.name=bob", "by=root"}},
	{"shadow gpasswd", "user %s added by %s to group %s%s",
		"gpasswd[1]: user bob added by root to group docker",
		[]string{"event.action=user-added-to-group", "event.outcome=success", "user.name=bob", "by=root", "group=docker"}},
	{"systemd logind-session.c", "New session %s of user %s.",
		"systemd-logind[1]: New session 12 of user alice@example.com.",
		[]string{"event.action=session-created", "event.outcome=success", "user.name=alice@example.com", "session=12"}},
	{"systemd logind-session.c", "Session %s logged out. Waiting for processes to exit.",
		"systemd-logind[1]: Session 12 logged out. Waiting for processes to exit.",
		[]string{"event.action=session-logged-out", "session=12"}},
	{"systemd logind-session.c", "Removed session %s.",
		"systemd-logind[1]: Removed session 12.",
		[]string{"event.action=session-removed", "session=12"}},
}

// TestFormats decodes a line built from each format string, after an
// RFC 3164 header, and checks every field it lists.
func TestFormats(t *testing.T) {
	for _, set := range [][]formatCase{sshdFormats, pamFormats, otherFormats} {
		for _, fc := range set {
			line := "Mar  3 22:15:40 bastion " + fc.line
			ev, err := dectest.DecodeLine(New(), line, received)
			if err != nil {
				t.Errorf("%s %q: %v", fc.source, fc.format, err)
				continue
			}
			want := map[string]string{"event.action": "", "event.outcome": "", "user.name": "", "source.ip": "", "source.port": ""}
			for _, kv := range fc.want {
				k, v, _ := strings.Cut(kv, "=")
				want[k] = v
			}
			for k, v := range want {
				if got, _ := ev.Get(k); got != v {
					t.Errorf("%s %q\n  line %q\n  %s = %q, want %q", fc.source, fc.format, fc.line, k, got, v)
				}
			}
		}
	}
}

// TestActionsDocumented: every event.action the table test gives is in
// docs/formats.md's sshd section.
func TestActionsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "\n## sshd\n")
	end := strings.Index(s, "\n## syslog\n")
	if start < 0 || end < start {
		t.Fatal("docs/formats.md has no sshd section before the syslog one")
	}
	section := s[start:end]
	for _, set := range [][]formatCase{sshdFormats, pamFormats, otherFormats} {
		for _, fc := range set {
			for _, kv := range fc.want {
				if a, ok := strings.CutPrefix(kv, "event.action="); ok && !strings.Contains(section, a) {
					t.Errorf("action %s (%s) is not in docs/formats.md's sshd section", a, fc.source)
				}
			}
		}
	}
}
