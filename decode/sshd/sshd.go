// Package sshd decodes OpenSSH server lines as syslog writes them to
// /var/log/auth.log or /var/log/secure: logins accepted and failed, invalid
// users, PAM authentication failures, disconnects. The source address, user
// and outcome become ECS fields, so that brute-force and
// success-after-failure detections work on them.
package sshd

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "sshd"

func init() { decode.Register(Format, New) }

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
	// OpenSSH 9.8 moved the per-connection work into sshd-session.
	if h.program != "sshd" && h.program != "sshd-session" {
		return nil
	}
	ev.Logsource.Service = "sshd"

	m := parseMessage(h.msg)
	if m.action == "" {
		return nil
	}
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
	if m.user != "" {
		f.SetName(fieldUser, m.user)
	}
	if m.port != "" {
		f.SetName(fieldPort, m.port)
	}
	if m.method != "" {
		f.SetName(fieldMethod, m.method)
	}
	return nil
}

// Configure implements decode.Configurable: the source's time zone.
func (d *Decoder) Configure(o decode.Options) error {
	d.Location = o.Location
	return nil
}
