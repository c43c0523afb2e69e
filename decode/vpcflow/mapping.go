package vpcflow

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// captured holds the values the ECS mapping reads, by role.
type captured struct {
	src, dst, sport, dport, proto, start, end, action, status, account, region string
}

// set keeps s for its role; the first value of a role counts.
func (c *captured) set(role int, s string) {
	if p := c.slot(role); p != nil && *p == "" {
		*p = s
	}
}

// slot is where the value of role goes: nil for a role the mapping does
// not read.
func (c *captured) slot(role int) *string {
	switch role {
	case roleSrcAddr:
		return &c.src
	case roleDstAddr:
		return &c.dst
	case roleSrcPort:
		return &c.sport
	case roleDstPort:
		return &c.dport
	case roleProtocol:
		return &c.proto
	case roleStart:
		return &c.start
	case roleEnd:
		return &c.end
	case roleAction:
		return &c.action
	case roleLogStatus:
		return &c.status
	case roleAccount:
		return &c.account
	case roleRegion:
		return &c.region
	}
	return nil
}

// apply sets the time, logsource and common fields. Text lines were
// checked value by value already; JSON exports are taken as they come, so
// a value that is not what its name promises (an "srcAddr" of "null") is
// left out of the common fields rather than refusing the record.
func (c *captured) apply(ev *event.Event) error {
	for _, f := range [...]struct{ name, v string }{{"start", c.start}, {"end", c.end}} {
		if f.v == "" || f.v == "-" {
			continue
		}
		t, ok := jsonrecord.ParseTime(f.v)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: f.name, Reason: "unreadable time stamp " + decode.QuoteValue(f.v)}
		}
		ev.Time = t
		break
	}
	ev.Logsource = event.Logsource{Product: "aws", Service: "vpcflowlogs"}
	com := &ev.Common
	com[event.CloudProvider] = "aws"
	com[event.CloudAccountID] = dash(c.account)
	com[event.CloudRegion] = dash(c.region)
	if validValue(roleSrcAddr, c.src) {
		com[event.SourceIP] = c.src
	}
	if validValue(roleDstAddr, c.dst) {
		com[event.DestinationIP] = c.dst
	}
	if validValue(roleSrcPort, c.sport) {
		com[event.SourcePort] = c.sport
	}
	if validValue(roleDstPort, c.dport) {
		com[event.DestinationPort] = c.dport
	}
	if validValue(roleProtocol, c.proto) {
		com[event.NetworkTransport] = transport(c.proto)
	}
	switch c.action {
	case "ACCEPT", "accept", "Allowed":
		com[event.EventAction], com[event.EventOutcome] = "allow", "success"
	case "REJECT", "reject", "Blocked":
		com[event.EventAction], com[event.EventOutcome] = "deny", "failure"
	}
	if c.src != "" || c.dst != "" || c.action != "" {
		com[event.EventCategory] = "network"
	}
	return nil
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
