// Package cowrie decodes the JSON log of the Cowrie SSH and Telnet
// honeypot (cowrie.json, one event a line): connections, login attempts
// with the user name and password tried, commands typed, downloads and
// proxy requests. Fields keep Cowrie's names (eventid, src_ip, username,
// input …); the ECS common fields make them comparable with sshd's, so
// brute-force and success-after-failure detections run on both.
package cowrie

import (
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "cowrie"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes Cowrie events. The values it stores alias its parse
// buffers and are valid until the next Decode.
type Decoder struct {
	rec *jsonrecord.Record[captured]
}

// captured holds what the ECS mapping reads, whatever the Dict holds.
type captured struct {
	eventid, timestamp, srcIP, srcPort, dstIP, dstPort string
	username, input, sensor, message, url              string
}

func (c *captured) slot(name []byte) *string {
	switch string(name) {
	case "eventid":
		return &c.eventid
	case "timestamp":
		return &c.timestamp
	case "src_ip":
		return &c.srcIP
	case "src_port":
		return &c.srcPort
	case "dst_ip":
		return &c.dstIP
	case "dst_port":
		return &c.dstPort
	case "username":
		return &c.username
	case "input":
		return &c.input
	case "sensor":
		return &c.sensor
	case "message":
		return &c.message
	case "url":
		return &c.url
	}
	return nil
}

// New returns a Cowrie decoder.
func New() decode.Decoder {
	return &Decoder{rec: jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{Slot: (*captured).slot})}
}

// Decode implements decode.Decoder. A record without an eventid or a
// timestamp (Cowrie writes both in every event), with an eventid that is
// not Cowrie's, or with an unreadable timestamp, is refused naming the
// field.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	if err := d.rec.Decode(rec, ev); err != nil {
		return err
	}
	c := &d.rec.C
	if err := d.rec.Require("eventid", c.eventid, "timestamp", c.timestamp); err != nil {
		return err
	}
	if !strings.HasPrefix(c.eventid, "cowrie.") {
		return &decode.Error{Format: Format, Offset: -1, Field: "eventid", Reason: "no Cowrie eventid (cowrie.…)"}
	}
	if err := jsonrecord.FieldTime(Format, "timestamp", c.timestamp, &ev.Time); err != nil {
		return err
	}
	ev.Logsource = event.Logsource{Product: "cowrie"}
	com := &ev.Common
	com[event.EventAction] = c.eventid
	com[event.SourceIP] = c.srcIP
	com[event.SourcePort] = c.srcPort
	com[event.DestinationIP] = c.dstIP
	com[event.DestinationPort] = c.dstPort
	com[event.UserName] = c.username
	com[event.ProcessCommandLine] = c.input
	com[event.HostName] = c.sensor
	com[event.Message] = c.message
	com[event.URLOriginal] = c.url
	com[event.EventCategory], com[event.EventOutcome] = classify(c.eventid)
	return nil
}

// classify gives the ECS category and outcome an eventid implies.
func classify(id string) (category, outcome string) {
	switch id {
	case "cowrie.login.success":
		return "authentication", "success"
	case "cowrie.login.failed":
		return "authentication", "failure"
	case "cowrie.session.connect", "cowrie.session.closed", "cowrie.direct-tcpip.request", "cowrie.direct-tcpip.data":
		return "network", ""
	case "cowrie.command.input":
		return "process", ""
	case "cowrie.command.failed":
		return "process", "failure"
	case "cowrie.session.file_download", "cowrie.session.file_upload":
		return "file", ""
	}
	return "", ""
}
