package syslog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
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
		t, good := jsonrecord.ParseTime(stamp)
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
	if len(rest) >= 20 && rest[4] == '-' && rest[0] >= '0' && rest[0] <= '9' {
		t, n, reason := sysloghdr.Read3339(rest)
		if reason != "" {
			return m, fail(i, reason)
		}
		m.time, i = t, i+n
	} else {
		t, n, reason := sysloghdr.Read3164(rest, ref, loc, sysloghdr.LatestYear)
		switch {
		case reason != "" && m.pri >= 0:
			m.msg = rest
			return m, nil
		case reason == sysloghdr.NoStamp:
			return m, fail(i, "no syslog header: no priority and "+reason)
		case reason != "":
			return m, fail(i+n, reason)
		}
		m.time, i = t, i+n
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
