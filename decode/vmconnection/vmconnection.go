// Package vmconnection decodes the rows of Azure Monitor's VMConnection
// table (VM insights, collected by the Dependency agent; Log Analytics
// exports, one JSON object a line): the connections of a machine's
// processes, one row a process, remote address, port and direction for
// each minute, with bytes, links established, terminated and failed, and
// response times. The columns become fields under their names (SourceIp,
// DestinationIp, DestinationPort, RemoteIp, Direction, ProcessName,
// LinksFailed…); the common fields are those of a connection seen by the
// host: source and destination as the connection's initiator and acceptor
// (for an inbound row the remote address is the source), the machine as
// host.name, the process as process.name.
package vmconnection

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "vmconnection"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes VMConnection rows.
type Decoder struct {
	sc jsonscan.Scanner
}

// New returns a VMConnection row decoder.
func New() decode.Decoder { return &Decoder{} }

func fail(off int, field, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Field: field, Reason: reason}
}

// logsource: a process's connection as the host sees it, Sigma's
// network_connection; the table names no operating system.
var logsource = event.Logsource{Category: "network_connection", Service: "vmconnection"}

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	sc := &d.sc
	sc.Reset(rec)
	if !sc.Object() {
		return d.syntax()
	}
	var generated, direction, failed, established string
	f := &ev.Fields
	c := &ev.Common
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
		case "TimeGenerated":
			generated = text
		case "Computer":
			c[event.HostName] = text
		case "ProcessName":
			c[event.ProcessName] = text
		case "SourceIp":
			c[event.SourceIP] = text
		case "DestinationIp":
			c[event.DestinationIP] = text
		case "DestinationPort":
			c[event.DestinationPort] = text
		case "Protocol":
			c[event.NetworkTransport] = text
		case "Direction":
			direction = text
		case "LinksFailed":
			failed = text
		case "LinksEstablished":
			established = text
		}
	}
	if sc.Err() != nil || sc.End() != nil {
		return d.syntax()
	}
	if c[event.SourceIP] == "" && c[event.DestinationIP] == "" {
		return fail(0, "SourceIp", "neither SourceIp nor DestinationIp: not a VMConnection row")
	}
	if generated == "" {
		return fail(0, "TimeGenerated", "no TimeGenerated: not a VMConnection row")
	}
	t, ok := jsonrecord.ParseTime(generated)
	if !ok {
		return fail(-1, "TimeGenerated", "unreadable time "+generated)
	}
	ev.Time = t
	ev.Logsource = logsource
	c[event.EventCategory] = "network"
	// Direction is the table's inbound or outbound, kept as the action;
	// a row whose links all failed is a connection that did not happen.
	switch {
	case strings.EqualFold(direction, "inbound"):
		c[event.EventAction] = "inbound"
	case strings.EqualFold(direction, "outbound"):
		c[event.EventAction] = "outbound"
	}
	switch {
	case failed != "" && failed != "0" && (established == "" || established == "0"):
		c[event.EventOutcome] = "failure"
	case established != "" && established != "0":
		c[event.EventOutcome] = "success"
	}
	return nil
}

func (d *Decoder) syntax() error {
	if se, ok := d.sc.Err().(*jsonscan.SyntaxError); ok {
		return fail(se.Offset, "", "invalid JSON: "+se.Msg)
	}
	return fail(0, "", "not a JSON object")
}

// Sniff scores rec as a VMConnection row: a JSON object of the table
// ("Type":"VMConnection", 95), or with its connection columns (Direction,
// RemoteIp and ConnectionId or LinksEstablished at the top level, 80).
func Sniff(rec []byte) int {
	if len(rec) > 8192 {
		rec = rec[:8192]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if bytes.Contains(rec, []byte(`"Type":"VMConnection"`)) || bytes.Contains(rec, []byte(`"Type": "VMConnection"`)) {
		if jsonrecord.TopKeys(rec, false, "Type") != 0 {
			return 95
		}
	}
	if jsonrecord.TopKeys(rec, false, "Direction", "RemoteIp") == 0b11 && jsonrecord.TopKeys(rec, false, "ConnectionId", "LinksEstablished") != 0 {
		return 80
	}
	return 0
}
