// Package sysloghdr reads syslog headers and the time stamps in and around
// them. For syslog-borne formats (CEF, LEEF) it reads the header a relay
// puts in front of the payload and the device time stamps ("Sep 19 2012
// 13:53:33", Java date patterns) inside it, and never fails a record: a
// prefix it cannot read is just a prefix. For whole syslog lines (the
// syslog and sshd decoders) it reads the header's stamp strictly
// (Read3164, Read3339), saying where it is malformed.
package sysloghdr

import (
	"strings"
	"time"
)

// Header is what a syslog prefix says.
type Header struct {
	Time time.Time // zero when the prefix has no readable stamp
	Host string
}

// ParsePrefix reads the text in front of a CEF or LEEF payload:
// "[<PRI>][1 ]<stamp> <host> [tag]" with an RFC 3164 or RFC 3339 stamp. A
// prefix that is no syslog header at all (F5's "ASM:") gives a zero Header.
// RFC 3164 stamps have no year and no zone: see Stamp.
func ParsePrefix(p string, ref time.Time, loc *time.Location) Header {
	var h Header
	if strings.HasPrefix(p, "<") {
		end := strings.IndexByte(p, '>')
		if end < 2 || end > 4 {
			return h
		}
		p = p[end+1:]
		// RFC 5424 puts a version after the priority.
		if len(p) > 2 && p[0] >= '1' && p[0] <= '9' && p[1] == ' ' {
			p = p[2:]
		}
	}
	p = strings.TrimLeft(p, " ")
	var t time.Time
	var n int
	switch {
	case len(p) >= 10 && p[4] == '-' && isDigit(p[0]):
		end := strings.IndexByte(p, ' ')
		if end < 0 {
			end = len(p)
		}
		tt, ok := Stamp(p[:end], ref, loc)
		if !ok {
			return h
		}
		t, n = tt, end
	case len(p) >= 15 && p[3] == ' ' && p[6] == ' ' && p[9] == ':':
		tt, ok := Stamp(p[:15], ref, loc)
		if !ok {
			return h
		}
		t, n = tt, 15
	default:
		return h
	}
	h.Time = t
	rest := strings.TrimLeft(p[n:], " ")
	if sp := strings.IndexByte(rest, ' '); sp > 0 {
		h.Host = rest[:sp]
	} else if rest != "" && !strings.HasSuffix(rest, ":") {
		h.Host = rest
	}
	return h
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
