package leef

import (
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/syslog"
	"github.com/vigil-sec/vigil/event"
)

// common fills the ECS fields from LEEF's predefined attributes, and from
// the CEF names some LEEF writers use (CyberArk's shost, duser). The first
// occurrence wins. user.name is usrName, else accountName, identUserName,
// suser, duser. The time is devTime read with devTimeFormat (a Java date
// pattern) when given, else as epoch milliseconds or "MMM dd yyyy
// HH:mm:ss"; failing that, the syslog header's.
func (d *Decoder) common(ev *event.Event, prefix syslog.Header) {
	c := &ev.Common
	var user [5]string // by preference
	var devTime, devTimeFormat string
	set := func(id int, v string) {
		if c[id] == "" {
			c[id] = v
		}
	}
	for _, p := range d.kv {
		v := p.val
		switch p.key {
		case "src":
			if isIP(v) {
				set(event.SourceIP, v)
			}
		case "dst":
			if isIP(v) {
				set(event.DestinationIP, v)
			}
		case "srcPort":
			if isPort(v) {
				set(event.SourcePort, v)
			}
		case "dstPort":
			if isPort(v) {
				set(event.DestinationPort, v)
			}
		case "usrName":
			user[0] = first(user[0], v)
		case "accountName":
			user[1] = first(user[1], v)
		case "identUserName":
			user[2] = first(user[2], v)
		case "suser":
			user[3] = first(user[3], v)
		case "duser":
			user[4] = first(user[4], v)
		case "domain":
			set(event.UserDomain, v)
		case "proto":
			set(event.NetworkTransport, transport(v))
		case "url":
			set(event.URLOriginal, v)
		case "action":
			set(event.EventAction, v)
		case "outcome":
			set(event.EventOutcome, outcome(v))
		case "msg":
			set(event.Message, v)
		case "devTime":
			devTime = first(devTime, v)
		case "devTimeFormat":
			devTimeFormat = first(devTimeFormat, v)
		}
	}
	for _, u := range user {
		if u != "" {
			c[event.UserName] = u
			break
		}
	}
	set(event.HostName, prefix.Host)
	ev.Time = prefix.Time
	if devTime == "" {
		return
	}
	// A stamp vigil cannot read is passed over rather than losing the
	// record: devTimeFormat is free-form Java.
	if devTimeFormat != "" {
		if t, ok := syslog.JavaStamp(devTimeFormat, devTime, ev.Received, d.loc); ok {
			ev.Time = t
			return
		}
	}
	if t, ok := syslog.Stamp(devTime, ev.Received, d.loc); ok {
		ev.Time = t
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func outcome(v string) string {
	switch {
	case strings.EqualFold(v, "success"), strings.EqualFold(v, "succeeded"), strings.EqualFold(v, "successful"):
		return "success"
	case strings.EqualFold(v, "failure"), strings.EqualFold(v, "failed"), strings.EqualFold(v, "fail"):
		return "failure"
	}
	return ""
}

// transport names IANA protocol numbers as ECS does; LEEF writes either.
func transport(v string) string {
	switch v {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	}
	return v
}

func isIP(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	// netip allocates its error: rule out names first, cheaply.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == ':' || c|0x20 >= 'a' && c|0x20 <= 'f' || c == '%') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
