package cef

import (
	"cmp"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/event"
)

// common fills the ECS fields from the standard extension keys, by their
// short or full names. The first occurrence of a key wins. User and time
// have fallbacks: user.name is suser, else duser; the time is rt (receipt
// time), else start, else end, else the syslog header's.
func (d *Decoder) common(ev *event.Event, prefix sysloghdr.Header) {
	c := &ev.Common
	var suser, duser, sdom, ddom, rt, st, end string
	set := func(id int, v string) {
		if c[id] == "" {
			c[id] = v
		}
	}
	for _, p := range d.kv {
		v := p.Val
		if v == "-" || v == `"-"` {
			continue
		}
		switch p.Key {
		case "src", "sourceAddress":
			if addr.IsIP(v) {
				set(event.SourceIP, v)
			}
		case "spt", "sourcePort":
			if addr.IsPort(v) {
				set(event.SourcePort, v)
			}
		case "dst", "destinationAddress":
			if addr.IsIP(v) {
				set(event.DestinationIP, v)
			}
		case "dpt", "destinationPort":
			if addr.IsPort(v) {
				set(event.DestinationPort, v)
			}
		case "suser", "sourceUserName":
			suser = cmp.Or(suser, v)
		case "duser", "destinationUserName":
			duser = cmp.Or(duser, v)
		case "sntdom", "sourceNtDomain":
			sdom = cmp.Or(sdom, v)
		case "dntdom", "destinationNtDomain":
			ddom = cmp.Or(ddom, v)
		case "dvchost", "deviceHostName":
			set(event.HostName, v)
		case "dvc", "deviceAddress":
			if addr.IsIP(v) {
				set(event.HostIP, v)
			}
		case "act", "deviceAction":
			set(event.EventAction, v)
		case "outcome", "eventOutcome":
			if o := Outcome(v); o != "" {
				set(event.EventOutcome, o)
			}
		case "rt", "deviceReceiptTime":
			rt = cmp.Or(rt, v)
		case "start", "startTime":
			st = cmp.Or(st, v)
		case "end", "endTime":
			end = cmp.Or(end, v)
		case "request", "requestURL":
			set(event.URLOriginal, v)
			set(event.URLPath, URLPath(v))
		case "requestMethod":
			set(event.HTTPRequestMethod, v)
		case "requestClientApplication":
			set(event.UserAgentOriginal, v)
		case "proto", "transportProtocol":
			set(event.NetworkTransport, Transport(v))
		case "msg", "message":
			set(event.Message, v)
		case "filePath":
			c[event.FilePath] = v // the full path beats fname
		case "fname", "fileName":
			set(event.FilePath, v)
		}
	}
	if suser != "" {
		c[event.UserName], c[event.UserDomain] = suser, sdom
	} else if duser != "" {
		c[event.UserName], c[event.UserDomain] = duser, ddom
	}
	set(event.HostName, prefix.Host)
	for _, s := range [...]string{rt, st, end} {
		// Vendors write many stamp formats; one vigil cannot read is passed
		// over rather than losing the record, and the next is tried.
		if t, ok := sysloghdr.Stamp(s, ev.Received, d.loc); ok {
			ev.Time = t
			return
		}
	}
	ev.Time = prefix.Time
}

// Outcome brings the outcome words devices write to ECS's success,
// failure or unknown; "" for anything else (Barracuda writes the HTTP
// status there).
func Outcome(v string) string {
	for _, w := range successWords {
		if strings.EqualFold(v, w) {
			return "success"
		}
	}
	for _, w := range failureWords {
		if strings.EqualFold(v, w) {
			return "failure"
		}
	}
	if strings.EqualFold(v, "unknown") {
		return "unknown"
	}
	return ""
}

var (
	successWords = []string{"success", "succeeded", "successful", "succeed", "ok", "allowed", "allow", "accepted", "accept", "pass", "passed"}
	failureWords = []string{"failure", "failed", "fail", "denied", "deny", "rejected", "reject", "blocked", "block", "error"}
)

// Transport names IANA protocol numbers the way ECS network.transport
// does; names are kept as written.
func Transport(v string) string {
	switch v {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	}
	return v
}

// URLPath is the path of a URL or of a request target ("/a/b?q" → "/a/b").
func URLPath(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		j := strings.IndexByte(u, '/')
		if j < 0 {
			return ""
		}
		u = u[j:]
	}
	if !strings.HasPrefix(u, "/") {
		return ""
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}
