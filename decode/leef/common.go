package leef

import (
	"cmp"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/event"
)

// common fills the ECS fields from LEEF's predefined attributes, and from
// the CEF names some LEEF writers use (CyberArk's shost, duser). The first
// occurrence wins. user.name is usrName, else accountName, identUserName,
// suser, duser. The time is devTime read with devTimeFormat (a Java date
// pattern) when given, else as epoch milliseconds or "MMM dd yyyy
// HH:mm:ss"; failing that, the syslog header's.
func (d *Decoder) common(ev *event.Event, prefix sysloghdr.Header) {
	c := &ev.Common
	var user [5]string // by preference
	var devTime, devTimeFormat string
	set := func(id int, v string) {
		if c[id] == "" {
			c[id] = v
		}
	}
	for _, p := range d.kv {
		v := p.Val
		switch p.Key {
		case "src":
			if addr.IsIP(v) {
				set(event.SourceIP, v)
			}
		case "dst":
			if addr.IsIP(v) {
				set(event.DestinationIP, v)
			}
		case "srcPort":
			if addr.IsPort(v) {
				set(event.SourcePort, v)
			}
		case "dstPort":
			if addr.IsPort(v) {
				set(event.DestinationPort, v)
			}
		case "usrName":
			user[0] = cmp.Or(user[0], v)
		case "accountName":
			user[1] = cmp.Or(user[1], v)
		case "identUserName":
			user[2] = cmp.Or(user[2], v)
		case "suser":
			user[3] = cmp.Or(user[3], v)
		case "duser":
			user[4] = cmp.Or(user[4], v)
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
			devTime = cmp.Or(devTime, v)
		case "devTimeFormat":
			devTimeFormat = cmp.Or(devTimeFormat, v)
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
		if t, ok := sysloghdr.JavaStamp(devTimeFormat, devTime, ev.Received, d.loc); ok {
			ev.Time = t
			return
		}
	}
	if t, ok := sysloghdr.Stamp(devTime, ev.Received, d.loc); ok {
		ev.Time = t
	}
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
