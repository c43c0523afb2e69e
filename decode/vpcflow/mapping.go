package vpcflow

import (
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
	"github.com/vigil-sec/vigil/event"
)

// captured holds the values the ECS mapping reads, by role.
type captured struct {
	src, dst, sport, dport, proto, start, end, action, status, account, region string
}

func (c *captured) set(role int, s string) {
	var p *string
	switch role {
	case roleSrcAddr:
		p = &c.src
	case roleDstAddr:
		p = &c.dst
	case roleSrcPort:
		p = &c.sport
	case roleDstPort:
		p = &c.dport
	case roleProtocol:
		p = &c.proto
	case roleStart:
		p = &c.start
	case roleEnd:
		p = &c.end
	case roleAction:
		p = &c.action
	case roleLogStatus:
		p = &c.status
	case roleAccount:
		p = &c.account
	case roleRegion:
		p = &c.region
	default:
		return
	}
	if *p == "" {
		*p = s
	}
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
		t, ok := jsondec.ParseTime(f.v)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: f.name, Reason: "unreadable time stamp " + strconv.Quote(f.v)}
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

// validAddr is validValue for addresses, kept apart because netip's
// errors allocate: names are screened out first.
func validAddr(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// bytesString views b as a string without copying; b is the record or the
// parser's buffer, which the caller keeps until the event is consumed.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
