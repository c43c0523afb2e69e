package sshd

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
)

// header is the syslog header of an auth.log line:
// "Mmm dd hh:mm:ss host prog[pid]: msg", or the same with an RFC 3339
// stamp (rsyslog's high-precision format, the default on recent Debian).
type header struct {
	time    time.Time
	host    string
	program string
	pid     string
	msg     string
}

func headerError(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// parseHeader splits line. The RFC 3164 stamp has no year and no zone: the
// year is the one of ref, or the one before when the stamp would lie more
// than a day after ref (a December line read in January: sysloghdr.RecentYear);
// the zone is loc.
func parseHeader(line string, ref time.Time, loc *time.Location) (header, error) {
	var h header
	i := 0
	if strings.HasPrefix(line, "<") { // a priority, when the line comes straight off the wire
		end := strings.IndexByte(line, '>')
		if end < 2 || end > 4 {
			return h, headerError(0, "malformed syslog priority")
		}
		i = end + 1
	}
	rest := line[i:]
	var n int
	var reason string
	if len(rest) >= 10 && rest[4] == '-' && rest[0] >= '0' && rest[0] <= '9' {
		h.time, n, reason = sysloghdr.Read3339(rest)
	} else {
		h.time, n, reason = sysloghdr.Read3164(rest, ref, loc, sysloghdr.RecentYear)
	}
	if reason != "" {
		return h, headerError(i+n, reason)
	}
	if h.time.IsZero() {
		// 0001-01-01T00:00:00Z is the zero time, which Decode's caller
		// takes for no time at all and replaces by the receive time.
		return h, headerError(i, "time stamp is year 1 at midnight, the zero time")
	}
	i += n

	rest = line[i:]
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 {
		return h, headerError(i, "no host name after the time stamp")
	}
	h.host = rest[:sp]
	i += sp + 1

	rest = line[i:]
	colon := strings.Index(rest, ": ")
	if colon < 0 {
		if strings.HasSuffix(rest, ":") {
			colon = len(rest) - 1
		} else {
			return h, headerError(i, "no program tag (\"prog[pid]: \") after the host name")
		}
	}
	tag := rest[:colon]
	if b := strings.IndexByte(tag, '['); b >= 0 {
		if !strings.HasSuffix(tag, "]") || b == 0 {
			return h, headerError(i, "malformed program tag")
		}
		h.program, h.pid = tag[:b], tag[b+1:len(tag)-1]
		for j := 0; j < len(h.pid); j++ {
			if h.pid[j] < '0' || h.pid[j] > '9' {
				return h, headerError(i+b+1+j, "process id is not a number")
			}
		}
	} else {
		h.program = tag
	}
	if h.program == "" || strings.IndexByte(h.program, ' ') >= 0 {
		return h, headerError(i, "malformed program tag")
	}
	if colon+2 <= len(rest) {
		h.msg = rest[colon+2:]
	}
	return h, nil
}
