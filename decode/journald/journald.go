// Package journald decodes systemd journal records as journalctl writes
// them: `journalctl -o json` (one JSON object a line; a field the entry
// holds several times is an array of its values, a binary one an array of
// byte values) under format journald, and `journalctl -o export` (the
// Journal Export Format: KEY=value lines, a binary field as KEY, a newline,
// its 64-bit little-endian length and its bytes; records separated by an
// empty line) under journald-export.
//
// Each record's fields (MESSAGE, SYSLOG_IDENTIFIER, _COMM, _HOSTNAME, _PID,
// _SYSTEMD_UNIT, …) become fields under their names, plus the syslog
// decoder's (hostname, appname, procid, msg); its time is
// _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP (microseconds).
// The record is then routed by its program (SYSLOG_IDENTIFIER, else _COMM)
// to the decoder registered for it (decode.RegisterProgram: sshd, sudo,
// su, auditd, sysmon…), so that it gets the same fields as in its syslog
// form; kernel audit records (_TRANSPORT=audit) go to auditd.
package journald

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/carrier"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Formats the package registers.
const (
	Format       = "journald"
	ExportFormat = "journald-export"
)

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
	decode.Register(ExportFormat, NewExport)
	decode.RegisterSniffer(ExportFormat, SniffExport)
}

// field is one field of a journal entry; both alias the record, except
// binary values of JSON records, which are copies.
type field struct{ key, val string }

// router fills an event from a journal entry's fields and hands the
// message to its program's decoder.
type router struct {
	fields []field
	carrier.Router
	audit strings.Builder
}

var fieldRouteErr = []byte("route_error")

func fail(format string, off int, field, reason string) error {
	return &decode.Error{Format: format, Offset: off, Field: field, Reason: reason}
}

// fill sets ev from r.fields; format names errors.
func (r *router) fill(format string, ev *event.Event) error {
	var msg, ident, comm, host, pid, syslogPID, rt, srt, transport, auditType, auditID, exe string
	f := &ev.Fields
	for _, kv := range r.fields {
		f.SetName(view.Bytes(kv.key), kv.val)
		switch kv.key {
		case "MESSAGE":
			msg = kv.val
		case "SYSLOG_IDENTIFIER":
			ident = kv.val
		case "_COMM":
			comm = kv.val
		case "_HOSTNAME":
			host = kv.val
		case "_PID":
			pid = kv.val
		case "SYSLOG_PID":
			syslogPID = kv.val
		case "__REALTIME_TIMESTAMP":
			rt = kv.val
		case "_SOURCE_REALTIME_TIMESTAMP":
			srt = kv.val
		case "_TRANSPORT":
			transport = kv.val
		case "_AUDIT_TYPE_NAME":
			auditType = kv.val
		case "_AUDIT_ID":
			auditID = kv.val
		case "_EXE":
			exe = kv.val
		}
	}
	for _, ts := range [...]struct{ name, v string }{{"_SOURCE_REALTIME_TIMESTAMP", srt}, {"__REALTIME_TIMESTAMP", rt}} {
		if ts.v == "" {
			continue
		}
		us, err := strconv.ParseInt(ts.v, 10, 64)
		if err != nil || us <= 0 {
			return fail(format, -1, ts.name, "not microseconds since the epoch: "+strconv.Quote(ts.v))
		}
		ev.Time = time.UnixMicro(us).UTC()
		break
	}
	program := ident
	if program == "" {
		program = comm
	}
	if pid == "" {
		pid = syslogPID
	}
	carrier.Syslog(ev, host, program, pid, msg)
	ev.Common[event.ProcessExecutable] = exe
	if transport == "audit" && auditType != "" {
		// journald keeps the kernel's audit record as "TYPE body" with
		// the serial apart: rebuilt as audit.log writes it.
		program = "audit"
		r.audit.Reset()
		r.audit.WriteString("type=")
		r.audit.WriteString(auditType)
		r.audit.WriteString(" msg=audit(")
		us := ev.Time.UnixMicro()
		r.audit.WriteString(strconv.FormatInt(us/1e6, 10))
		r.audit.WriteByte('.')
		ms := strconv.FormatInt(us%1e6/1e3, 10)
		r.audit.WriteString(strings.Repeat("0", 3-len(ms)) + ms)
		r.audit.WriteByte(':')
		r.audit.WriteString(auditID)
		r.audit.WriteString("): ")
		r.audit.WriteString(strings.TrimPrefix(msg, auditType+" "))
		msg = r.audit.String()
	}
	if _, err := r.Route(program, msg, ev); err != nil {
		// Still a good journal record: kept as such, with the reason
		// its program's decoder gave.
		f.SetName(fieldRouteErr, err.Error())
		ev.Logsource = event.Logsource{Product: "linux", Service: carrier.Service(program)}
	}
	return nil
}
