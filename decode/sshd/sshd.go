// Package sshd decodes the auth log: OpenSSH server lines as syslog writes
// them to /var/log/auth.log or /var/log/secure (connections, key exchange,
// authentications, sessions, disconnects), the PAM modules' lines for any
// service (pam_unix, pam_sss, pam_winbind, pam_faillock…), and the lines
// of sudo, su, shadow's account tools (useradd, usermod, passwd…) and
// systemd-logind that share the file. The action, outcome, source address,
// user and key become fields, so that brute-force, success-after-failure
// and account-change detections work on them. journald records of these
// programs come here too (decode.MessageDecoder).
package sshd

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "sshd"

func init() {
	decode.Register(Format, New)
	for _, p := range [...]string{"sshd", "sshd-session", "sshd-auth", "sudo"} {
		decode.RegisterProgram(p, Format)
	}
	for p := range authPrograms {
		decode.RegisterProgram(p, Format)
	}
}

// Decoder decodes sshd syslog lines.
type Decoder struct {
	// Location is the zone of RFC 3164 time stamps, which carry none; nil
	// means UTC.
	Location *time.Location
}

// New returns an sshd decoder reading time stamps as UTC.
func New() decode.Decoder { return &Decoder{} }

// Names of the fields the decoder stores: the syslog header under RFC 5424's
// names, then what the message says.
var (
	fieldHostname = []byte("hostname")
	fieldAppname  = []byte("appname")
	fieldProcid   = []byte("procid")
	fieldMsg      = []byte("msg")
	fieldUser     = []byte("user")
	fieldIP       = []byte("ip")
	fieldPort     = []byte("port")
	fieldRhost    = []byte("rhost")
	fieldMethod   = []byte("method")
	// what the auth-log messages say beyond the address and user
	fieldKeyType     = []byte("key_type")
	fieldFingerprint = []byte("fingerprint")
	fieldReason      = []byte("reason")
	fieldTargetUser  = []byte("target_user")
	fieldBy          = []byte("by")
	fieldCommand     = []byte("command")
	fieldTTY         = []byte("tty")
	fieldPWD         = []byte("pwd")
	fieldSession     = []byte("session")
	fieldPAMModule   = []byte("pam_module")
	fieldPAMService  = []byte("pam_service")
	fieldGroup       = []byte("group")
	fieldInvalidUser = []byte("invalid_user")
)

// Decode implements decode.Decoder. Values alias rec.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if n := len(rec); n > 0 && rec[n-1] == '\n' {
		rec = rec[:n-1]
	}
	if n := len(rec); n > 0 && rec[n-1] == '\r' {
		rec = rec[:n-1]
	}
	line := view.String(rec)
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	h, err := parseHeader(line, ev.Received, loc)
	if err != nil {
		return err
	}
	ev.Time = h.time
	ev.Logsource = event.Logsource{Product: "linux"}
	c := &ev.Common
	c[event.HostName] = h.host
	c[event.ProcessName] = h.program
	c[event.ProcessPID] = h.pid
	c[event.Message] = h.msg
	f := &ev.Fields
	f.SetName(fieldHostname, h.host)
	f.SetName(fieldAppname, h.program)
	if h.pid != "" {
		f.SetName(fieldProcid, h.pid)
	}
	f.SetName(fieldMsg, h.msg)
	return d.DecodeMessage(h.program, h.msg, ev)
}

// DecodeMessage implements decode.MessageDecoder: what program's message
// msg says (the auth-log programs of the package comment), for carriers
// such as journald that read the header themselves.
func (d *Decoder) DecodeMessage(program, msg string, ev *event.Event) error {
	ev.Logsource = event.Logsource{Product: "linux", Service: service(program)}
	m := parseMessage(program, msg)
	if m.action == "" {
		return nil
	}
	c := &ev.Common
	f := &ev.Fields
	c[event.EventAction] = m.action
	c[event.EventOutcome] = m.outcome
	c[event.EventCategory] = m.category
	c[event.UserName] = m.user
	if isIP(m.ip) {
		c[event.SourceIP] = m.ip
		f.SetName(fieldIP, m.ip)
		c[event.SourcePort] = m.port
	} else if m.ip != "" {
		f.SetName(fieldRhost, m.ip)
	}
	if isIP(m.dstIP) {
		c[event.DestinationIP] = m.dstIP
		c[event.DestinationPort] = m.dstPort
	}
	if m.command != "" {
		c[event.ProcessCommandLine] = m.command
	}
	if m.invalid {
		f.SetName(fieldInvalidUser, "true")
	}
	for _, kv := range [...]struct {
		k []byte
		v string
	}{
		{fieldUser, m.user}, {fieldPort, m.port}, {fieldMethod, m.method},
		{fieldKeyType, m.keyType}, {fieldFingerprint, m.fingerprint}, {fieldReason, m.reason},
		{fieldTargetUser, m.target}, {fieldBy, m.by}, {fieldCommand, m.command}, {fieldTTY, m.tty},
		{fieldPWD, m.pwd}, {fieldSession, m.session}, {fieldPAMModule, m.pamModule},
		{fieldPAMService, m.pamService}, {fieldGroup, m.group},
	} {
		if kv.v != "" {
			f.SetName(kv.k, kv.v)
		}
	}
	return nil
}

// service is the Sigma service of program's lines: sshd and sudo have
// their own; the other programs of auth.log are `auth`, cron is `cron`.
func service(program string) string {
	switch program {
	case "sshd", "sshd-session", "sshd-auth":
		return "sshd"
	case "sudo":
		return "sudo"
	case "cron", "CRON", "crond":
		return "cron"
	}
	if _, ok := authPrograms[program]; ok {
		return "auth"
	}
	return ""
}

// authPrograms are the programs whose lines the decoder reads, besides
// sshd and sudo; journald routes their records here.
var authPrograms = map[string]struct{}{
	"su": {}, "useradd": {}, "userdel": {}, "usermod": {}, "groupadd": {}, "groupdel": {},
	"groupmod": {}, "passwd": {}, "chpasswd": {}, "chage": {}, "gpasswd": {}, "newusers": {},
	"systemd-logind": {}, "login": {},
}

// Configure implements decode.Configurable: the source's time zone.
func (d *Decoder) Configure(o decode.Options) error {
	d.Location = o.Location
	return nil
}
