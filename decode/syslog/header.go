package syslog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
)

// message is a parsed syslog header; strings alias the line.
type message struct {
	pri                       int // -1 when the line has none
	version                   string
	time                      time.Time
	host, app, pid, msgid, sd string
	msg                       string
}

func fail(off int, reason string) error {
	return &decode.Error{Format: Format, Offset: off, Reason: reason}
}

// parse reads an RFC 5424 line ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD
// [MSG]") or an RFC 3164 one ("[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG",
// also with an RFC 3339 stamp as rsyslog writes it). ref is the receive
// time, from which a year-less stamp takes its year.
func parse(line string, ref time.Time, loc *time.Location) (message, error) {
	m := message{pri: -1}
	i := 0
	if strings.HasPrefix(line, "<") {
		end := strings.IndexByte(line, '>')
		if end < 2 || end > 4 {
			return m, fail(0, "malformed priority: want <0> to <191>")
		}
		p := 0
		for j := 1; j < end; j++ {
			c := line[j]
			if c < '0' || c > '9' {
				return m, fail(j, "malformed priority: want <0> to <191>")
			}
			p = p*10 + int(c-'0')
		}
		if p > 191 {
			return m, fail(1, "priority above 191")
		}
		m.pri, i = p, end+1
	}
	rest := line[i:]
	if len(rest) >= 2 && rest[0] >= '1' && rest[0] <= '9' && (rest[1] == ' ' || rest[1] >= '0' && rest[1] <= '9' && len(rest) > 2 && rest[2] == ' ') && m.pri >= 0 {
		return parse5424(line, i, m)
	}
	return parse3164(line, i, m, ref, loc)
}

// field cuts the next space-separated field of line from i.
func field(line string, i int) (string, int, bool) {
	if i >= len(line) {
		return "", i, false
	}
	sp := strings.IndexByte(line[i:], ' ')
	if sp < 0 {
		return line[i:], len(line), true
	}
	return line[i : i+sp], i + sp + 1, true
}

func parse5424(line string, i int, m message) (message, error) {
	var ok bool
	m.version, i, _ = field(line, i)
	start := i
	var stamp string
	if stamp, i, ok = field(line, i); !ok || stamp == "" {
		return m, fail(start, "RFC 5424: no time stamp")
	}
	if stamp != "-" {
		t, good := jsondec.ParseTime(stamp)
		if !good || len(stamp) < 20 {
			return m, fail(start, "RFC 5424: unreadable time stamp")
		}
		m.time = t
	}
	for _, p := range []*string{&m.host, &m.app, &m.pid, &m.msgid} {
		start = i
		if *p, i, ok = field(line, i); !ok || *p == "" {
			return m, fail(start, "RFC 5424: header ends early (want host, app, procid, msgid, structured data)")
		}
	}
	if i >= len(line) {
		return m, fail(i, "RFC 5424: no structured data")
	}
	switch {
	case line[i] == '-':
		i++
	case line[i] == '[':
		end, err := sdEnd(line, i)
		if err != nil {
			return m, err
		}
		m.sd, i = line[i:end], end
	default:
		return m, fail(i, "RFC 5424: structured data must be '-' or start with '['")
	}
	if i < len(line) {
		if line[i] != ' ' {
			return m, fail(i, "RFC 5424: want a space after the structured data")
		}
		m.msg = strings.TrimPrefix(line[i+1:], "\ufeff")
	}
	return m, nil
}

// parse3164 reads the BSD header. A line that has a priority but no
// recognizable stamp keeps its whole text as the message (RFC 3164 asks a
// relay to accept it so); a line with neither is not syslog.
func parse3164(line string, i int, m message, ref time.Time, loc *time.Location) (message, error) {
	rest := line[i:]
	switch {
	case len(rest) >= 20 && rest[4] == '-' && rest[0] >= '0' && rest[0] <= '9':
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			return m, fail(i, "line ends after the time stamp")
		}
		t, ok := jsondec.ParseTime(rest[:end])
		if !ok {
			return m, fail(i, "unreadable RFC 3339 time stamp")
		}
		m.time = t
		i += end + 1
	default:
		t, n, reason := stamp3164(rest, ref, loc)
		if reason != "" {
			if m.pri >= 0 {
				m.msg = rest
				return m, nil
			}
			return m, fail(i+n, reason)
		}
		m.time = t
		i += n
	}
	// HOST, unless the next word is already the tag (local logging via
	// /dev/log writes no host).
	word, next, _ := field(line, i)
	if word != "" && !isTag(word) {
		m.host, i = word, next
	}
	rest = line[i:]
	colon := strings.IndexByte(rest, ':')
	if colon > 0 && colon <= 64 && (colon+1 == len(rest) || rest[colon+1] == ' ') && isTag(rest[:colon+1]) {
		tag := rest[:colon]
		if b := strings.IndexByte(tag, '['); b > 0 && strings.HasSuffix(tag, "]") {
			m.app, m.pid = tag[:b], tag[b+1:len(tag)-1]
		} else {
			m.app = tag
		}
		i += colon + 1
		if i < len(line) && line[i] == ' ' {
			i++
		}
	}
	m.msg = line[i:]
	return m, nil
}

// isTag reports whether w is "prog:" or "prog[123]:", the TAG of RFC 3164
// with its colon.
func isTag(w string) bool {
	w, ok := strings.CutSuffix(w, ":")
	if !ok {
		return false
	}
	if b := strings.IndexByte(w, '['); b > 0 && strings.HasSuffix(w, "]") {
		for _, c := range w[b+1 : len(w)-1] {
			if c < '0' || c > '9' {
				return false
			}
		}
		w = w[:b]
	}
	if w == "" {
		return false
	}
	for _, c := range w {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' || c == '@') {
			return false
		}
	}
	return true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// stamp3164 reads "Mmm dd hh:mm:ss " and returns the time and bytes read,
// or the reason and offset it failed at. The stamp has no year and no
// zone: the zone is loc; the year is the latest of ref's year plus one,
// ref's year or the one before that does not put the stamp more than a day
// after ref. So a December line read in January is last year's, and a
// "Jan 1" line from a sender whose clock runs a little ahead, received on
// December 31, is next year's: the year never jumps at New Year.
func stamp3164(s string, ref time.Time, loc *time.Location) (time.Time, int, string) {
	if len(s) < 16 {
		return time.Time{}, 0, "no syslog header: no priority and no RFC 3164 or RFC 3339 time stamp"
	}
	month := 0
	for k, name := range months {
		if s[:3] == name {
			month = k + 1
			break
		}
	}
	if month == 0 || s[3] != ' ' {
		return time.Time{}, 0, "no syslog header: no priority and no RFC 3164 or RFC 3339 time stamp"
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
	for k := range 3 {
		a, b := clock[k*3], clock[k*3+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return time.Time{}, 7 + k*3, "malformed time of day"
		}
		hms[k] = int(a-'0')*10 + int(b-'0')
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || s[15] != ' ' {
		return time.Time{}, 7, "malformed time of day"
	}
	t, ok := InferYear(time.Month(month), day, hms[0], hms[1], hms[2], ref, loc)
	if !ok {
		return time.Time{}, 4, "no such day in the month"
	}
	return t, 16, ""
}

// InferYear dates a year-less stamp (month, day, clock in loc) by the
// receive time ref (now when zero): the latest year among ref's next, own
// and previous whose date is no more than a day after ref. ok is false for
// a date that exists in none of them (Feb 30; Feb 29 far from a leap year).
func InferYear(month time.Month, day, h, m, s int, ref time.Time, loc *time.Location) (time.Time, bool) {
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(loc)
	limit := ref.Add(24 * time.Hour)
	for y := ref.Year() + 1; y >= ref.Year()-1; y-- {
		t := time.Date(y, month, day, h, m, s, 0, loc)
		if t.Day() != day { // normalised: no such day that year
			continue
		}
		if !t.After(limit) {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
