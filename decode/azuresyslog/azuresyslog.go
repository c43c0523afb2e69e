// Package azuresyslog decodes the rows of Azure Monitor's Syslog table
// (Log Analytics exports, one JSON object a line: Computer, HostName,
// HostIP, Facility, SeverityLevel, ProcessName, ProcessID, EventTime,
// TimeGenerated, SyslogMessage…). The columns become fields under their
// names, plus the syslog decoder's (hostname, appname, procid, msg), and
// SyslogMessage goes to the decoder registered for ProcessName (sshd,
// sudo, auditd and AUOMS, Sysmon for Linux…), so that a row gets the
// fields of the line it carries.
package azuresyslog

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/carrier"
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "azuresyslog"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes Syslog table rows.
type Decoder struct {
	carrier.Router
	sc jsonscan.Scanner
}

// New returns a Syslog table decoder.
func New() decode.Decoder { return &Decoder{} }

func fail(off int, field, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Field: field, Reason: reason}
}

var fieldRouteErr = []byte("route_error")

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	sc := &d.sc
	sc.Reset(rec)
	if !sc.Object() {
		return d.syntax()
	}
	var msg, program, host, computer, pid, eventTime, generated string
	msgAt := -1
	f := &ev.Fields
	for {
		key, v, ok := sc.Member()
		if !ok {
			break
		}
		if v.Kind == jsonscan.Null {
			continue
		}
		text := view.String(sc.Text(v))
		f.SetName(key, text)
		switch view.String(key) {
		case "SyslogMessage":
			msg, msgAt = text, v.Start
		case "ProcessName":
			program = text
		case "HostName":
			host = text
		case "Computer":
			computer = text
		case "ProcessID":
			pid = text
		case "EventTime":
			eventTime = text
		case "TimeGenerated":
			generated = text
		}
	}
	if sc.Err() != nil || sc.End() != nil {
		return d.syntax()
	}
	if msgAt < 0 {
		return fail(0, "SyslogMessage", "no SyslogMessage: not a Syslog table row")
	}
	for _, ts := range [...]struct{ name, v string }{{"EventTime", eventTime}, {"TimeGenerated", generated}} {
		if ts.v == "" {
			continue
		}
		t, ok := jsonrecord.ParseTime(ts.v)
		if !ok {
			return fail(-1, ts.name, "unreadable time "+ts.v)
		}
		ev.Time = t
		break
	}
	if host == "" {
		host = computer
	}
	carrier.Syslog(ev, host, program, pid, msg)
	t := ev.Time
	if _, err := d.Route(program, msg, ev); err != nil {
		// A good row whose message its program's decoder refuses: kept
		// as a row, with the reason.
		f.SetName(fieldRouteErr, err.Error())
		ev.Logsource = event.Logsource{Product: "linux", Service: carrier.Service(program)}
	}
	if ev.Time.IsZero() {
		ev.Time = t
	}
	return nil
}

func (d *Decoder) syntax() error {
	if se, ok := d.sc.Err().(*jsonscan.SyntaxError); ok {
		return fail(se.Offset, "", "invalid JSON: "+se.Msg)
	}
	return fail(0, "", "not a JSON object")
}

// Sniff scores rec as a Syslog table row: a JSON object with SyslogMessage
// and the table's Type or ProcessName.
func Sniff(rec []byte) int {
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if !bytes.Contains(rec, []byte(`"SyslogMessage"`)) {
		return 0
	}
	if bytes.Contains(rec, []byte(`"Type":"Syslog"`)) || bytes.Contains(rec, []byte(`"ProcessName"`)) {
		return 95
	}
	return 70
}
