// Package syslog decodes syslog messages, RFC 5424 and RFC 3164 (BSD), with
// or without their priority: what a syslog receiver gets off the wire, and
// what /var/log/syslog or auth.log hold. The header becomes host.name,
// process.name, process.pid, the time stamp and message; priority, facility
// and severity, message id and structured data become the source's fields.
// The message of a program that has a decoder (sshd, sudo, su, useradd,
// auditd, Sysmon for Linux…: decode.RegisterProgram) is decoded by it, so
// that the line gets the fields and logsource of that program's format.
package syslog

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/carrier"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "syslog"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes syslog lines.
type Decoder struct {
	// Location is the zone of RFC 3164 time stamps, which carry none; nil
	// means UTC.
	Location *time.Location
	name     []byte // scratch for structured-data field names
	// the decoders of the programs that have one (sshd, sudo, auditd…)
	carrier.Router
}

// New returns a decoder reading zone-less time stamps as UTC.
func New() decode.Decoder { return &Decoder{} }

// Configure implements decode.Configurable: the source's time zone.
func (d *Decoder) Configure(o decode.Options) error {
	d.Location = o.Location
	return nil
}

// Names of the fields the decoder sets, RFC 5424's.
var (
	fieldPriority = []byte("priority")
	fieldFacility = []byte("facility")
	fieldSeverity = []byte("severity")
	fieldHostname = []byte("hostname")
	fieldAppname  = []byte("appname")
	fieldProcid   = []byte("procid")
	fieldMsgid    = []byte("msgid")
	fieldMsg      = []byte("msg")
	fieldVersion  = []byte("version")
	// why the decoder of the line's program refused its message
	fieldRouteErr = []byte("route_error")
)

// Decode implements decode.Decoder. Values alias rec, except unescaped
// structured-data values.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	line := view.String(rec)
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	m, err := parse(line, ev.Received, loc)
	if err != nil {
		return err
	}
	ev.Time = m.time
	ev.Logsource = event.Logsource{Product: "linux", Service: service(m.app)}
	c := &ev.Common
	c[event.HostName] = nilValue(m.host)
	c[event.ProcessName] = nilValue(m.app)
	c[event.ProcessPID] = nilValue(m.pid)
	c[event.Message] = m.msg
	f := &ev.Fields
	if m.pri >= 0 {
		f.SetName(fieldPriority, priorities[m.pri])
		f.SetName(fieldFacility, facilities[m.pri>>3])
		f.SetName(fieldSeverity, severities[m.pri&7])
	}
	if m.version != "" {
		f.SetName(fieldVersion, m.version)
	}
	for _, kv := range [...]struct {
		k []byte
		v string
	}{{fieldHostname, m.host}, {fieldAppname, m.app}, {fieldProcid, m.pid}, {fieldMsgid, m.msgid}} {
		if v := nilValue(kv.v); v != "" {
			f.SetName(kv.k, v)
		}
	}
	f.SetName(fieldMsg, m.msg)
	if m.sd != "" {
		d.structured(m.sd, f)
	}
	// A program with a decoder of its own (decode.RegisterProgram) gets
	// its fields, as from its own format.
	if m.app != "" {
		if _, err := d.Route(m.app, m.msg, ev); err != nil {
			f.SetName(fieldRouteErr, err.Error())
			ev.Logsource = event.Logsource{Product: "linux", Service: service(m.app)}
		}
	}
	return nil
}

// nilValue maps RFC 5424's "-" to empty.
func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// service gives the Sigma service of well-known programs, so that rules
// written for `product: linux, service: sshd` (or sudo, cron…) see their
// lines; any other program is `syslog`.
func service(app string) string {
	switch app {
	case "sshd", "sshd-session":
		return "sshd"
	case "sudo":
		return "sudo"
	case "cron", "CRON", "crond":
		return "cron"
	case "auditd", "audispd":
		return "auditd"
	}
	return "syslog"
}

var facilityNames = [24]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// Precomputed values: no allocation per event.
var (
	facilities = facilityNames
	severities = severityNames
	priorities = func() (p [192]string) {
		for i := range p {
			p[i] = itoa(i)
		}
		return p
	}()
)

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
