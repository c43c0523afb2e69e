// Package carrier routes the messages that a carrier format holds
// (journald records, Log Analytics Syslog rows) to the decoder registered
// for their program (decode.RegisterProgram), so that a program's message
// gets the same fields whichever way it travels.
package carrier

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Router keeps one message decoder a format. It is not safe for
// concurrent use, as the decoder that holds it.
type Router struct {
	routes map[string]decode.MessageDecoder // by format
}

// Route decodes msg with program's decoder into ev, reporting whether a
// decoder is registered for program; the error is that decoder's.
func (r *Router) Route(program, msg string, ev *event.Event) (bool, error) {
	format, ok := decode.ProgramFormat(program)
	if !ok {
		return false, nil
	}
	md, ok := r.routes[format]
	if !ok {
		d, err := decode.New(format)
		if err != nil {
			return false, nil
		}
		md, _ = d.(decode.MessageDecoder)
		if r.routes == nil {
			r.routes = map[string]decode.MessageDecoder{}
		}
		r.routes[format] = md
	}
	if md == nil {
		return false, nil
	}
	return true, md.DecodeMessage(program, msg, ev)
}

// Service is the Sigma service of a program that no decoder claims, as
// the syslog decoder gives it.
func Service(program string) string {
	switch program {
	case "cron", "CRON", "crond":
		return "cron"
	}
	return "syslog"
}

// The syslog decoder's names for a message's parts, which a carried
// message gets too, so that a rule reads them the same way.
var (
	fieldHostname = []byte("hostname")
	fieldAppname  = []byte("appname")
	fieldProcid   = []byte("procid")
	fieldMsg      = []byte("msg")
)

// Syslog sets a carried message's host, program, pid and text as the
// syslog decoder does — common fields and its own field names — and the
// logsource its program implies (product linux), before Route refines them.
func Syslog(ev *event.Event, host, program, pid, msg string) {
	c := &ev.Common
	c[event.HostName] = host
	c[event.ProcessName] = program
	c[event.ProcessPID] = pid
	c[event.Message] = msg
	for _, kv := range [...]struct {
		k []byte
		v string
	}{{fieldHostname, host}, {fieldAppname, program}, {fieldProcid, pid}, {fieldMsg, msg}} {
		if kv.v != "" {
			ev.Fields.SetName(kv.k, kv.v)
		}
	}
	ev.Logsource = event.Logsource{Product: "linux", Service: Service(program)}
}
