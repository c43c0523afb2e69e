package sshd

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
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

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func headerError(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// parseHeader splits line. The RFC 3164 stamp has no year and no zone: the
// year is the one of ref, or the one before when the stamp would lie more
// than a day after ref (a December line read in January); the zone is loc.
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
	switch {
	case len(rest) >= 10 && rest[4] == '-' && rest[0] >= '0' && rest[0] <= '9':
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			return h, headerError(i, "line ends after the time stamp")
		}
		t, ok := jsondec.ParseTime(rest[:end])
		if !ok {
			return h, headerError(i, "unreadable RFC 3339 time stamp")
		}
		h.time = t
		i += end + 1
	default:
		t, n, err := parse3164(rest, ref, loc)
		if err != "" {
			return h, headerError(i+n, err)
		}
		h.time = t
		i += n
	}

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

// parse3164 reads "Mmm dd hh:mm:ss " and returns the time, the bytes read,
// or the reason and offset it failed at.
func parse3164(s string, ref time.Time, loc *time.Location) (time.Time, int, string) {
	if len(s) < 16 {
		return time.Time{}, 0, "no RFC 3164 or RFC 3339 time stamp"
	}
	month := 0
	for m, name := range months {
		if s[:3] == name {
			month = m + 1
			break
		}
	}
	if month == 0 || s[3] != ' ' {
		return time.Time{}, 0, "no RFC 3164 or RFC 3339 time stamp"
	}
	day := 0
	for j := 4; j < 6; j++ {
		switch c := s[j]; {
		case c == ' ' && j == 4:
		case c >= '0' && c <= '9':
			day = day*10 + int(c-'0')
		default:
			return time.Time{}, j, "malformed day of month"
		}
	}
	if day < 1 || day > 31 || s[6] != ' ' {
		return time.Time{}, 4, "malformed day of month"
	}
	clock := s[7:15]
	if clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, 7, "malformed time of day"
	}
	var hms [3]int
	for k := 0; k < 3; k++ {
		a, b := clock[k*3], clock[k*3+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return time.Time{}, 7 + k*3, "malformed time of day"
		}
		hms[k] = int(a-'0')*10 + int(b-'0')
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || s[15] != ' ' {
		return time.Time{}, 7, "malformed time of day"
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(loc)
	year := ref.Year()
	t := time.Date(year, time.Month(month), day, hms[0], hms[1], hms[2], 0, loc)
	if t.After(ref.Add(24*time.Hour)) || t.Day() != day {
		year--
		t = time.Date(year, time.Month(month), day, hms[0], hms[1], hms[2], 0, loc)
	}
	if t.Day() != day { // Feb 29 of no leap year nearby, Apr 31
		return time.Time{}, 4, "no such day in the month"
	}
	return t.UTC(), 16, ""
}
