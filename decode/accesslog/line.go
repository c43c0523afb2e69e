package accesslog

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/clf"
)

// line is one access log line taken apart; its strings alias the record.
type line struct {
	time                           time.Time
	vhost, client, ident, user     string
	request, method, target, proto string
	status, bytes, referer, agent  string
}

func fail(off int, field, reason string) *decode.Error {
	return &decode.Error{Format: Format, Offset: off, Field: field, Reason: reason}
}

// parse takes s apart. Only the parts up to the status are required; a
// Common Log Format line ends after the byte count.
func parse(s string, loc *time.Location) (line, *decode.Error) {
	var l line
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return l, fail(0, "", "no [time stamp]")
	}
	if err := l.who(s[:open]); err != nil {
		return l, err
	}
	i := open + 1
	t, n, ok := clf.Stamp(s[i:], loc)
	if !ok {
		return l, fail(i, "time", "time stamp is not dd/Mon/yyyy:hh:mm:ss ±hhmm")
	}
	l.time = t
	i += n
	if i >= len(s) || s[i] != ']' {
		return l, fail(i, "time", "no ] after the time stamp")
	}
	i = skipSpace(s, i+1)

	// The request line, in quotes. A format that logs another quoted
	// value first ("-" "GET / HTTP/1.1") is read past it.
	q, n, ok := quoted(s[i:])
	if !ok {
		return l, fail(i, "request", "no quoted request line")
	}
	i = skipSpace(s, i+n)
	if i < len(s) && s[i] == '"' && !strings.Contains(q, " ") {
		if q2, n2, ok := quoted(s[i:]); ok {
			q = q2
			i = skipSpace(s, i+n2)
		}
	}
	l.request = q
	l.splitRequest()

	w := word(s[i:])
	if !isStatus(w) {
		return l, fail(i, "status", "status is not a three-digit number")
	}
	l.status = w
	i = skipSpace(s, i+len(w))
	if i < len(s) && s[i] != '"' {
		l.bytes = word(s[i:])
		i = skipSpace(s, i+len(l.bytes))
	}
	// Referer and user agent: the next two quoted values; unquoted words
	// some formats log between (a duration) are skipped.
	for k := 0; k < 2 && i < len(s); {
		if s[i] != '"' {
			w := word(s[i:])
			i = skipSpace(s, i+len(w))
			continue
		}
		q, n, ok := quoted(s[i:])
		if !ok {
			return l, fail(i, "", "unterminated quoted value")
		}
		if k == 0 {
			l.referer = q
		} else {
			l.agent = q
		}
		k++
		i = skipSpace(s, i+n)
	}
	return l, nil
}

// who reads "[vhost ]client ident user " in front of the time stamp. The
// user may hold spaces ("john doe"), so the client is found first: the
// first word when it is an address or when there are only three, else the
// second when it is an address (after a virtual host).
func (l *line) who(s string) *decode.Error {
	s = strings.TrimRight(s, " ")
	a, rest, ok1 := strings.Cut(s, " ")
	b, rest2, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || a == "" || b == "" || rest2 == "" {
		return fail(0, "", "want client, ident and user before the time stamp")
	}
	if !addr.IsIP(a) && addr.IsIP(b) && strings.Contains(rest2, " ") {
		l.vhost, l.client = a, b
		l.ident, l.user, _ = strings.Cut(rest2, " ")
	} else {
		l.client, l.ident, l.user = a, b, rest2
	}
	return nil
}

// splitRequest splits "METHOD target PROTOCOL". Anything else (a scanner's
// binary junk, "-") stays only the request.
func (l *line) splitRequest() {
	m, rest, ok := strings.Cut(l.request, " ")
	if !ok || m == "" || !isToken(m) {
		return
	}
	l.method = m
	if j := strings.LastIndexByte(rest, ' '); j >= 0 && strings.HasPrefix(rest[j+1:], "HTTP/") {
		l.target, l.proto = rest[:j], rest[j+1:]
	} else {
		l.target = rest // HTTP/0.9 has no protocol
	}
}

// quoted reads a double-quoted value at the start of s, where \" and \\ are
// escapes (Apache's), and returns it without the quotes, kept escaped.
func quoted(s string) (string, int, bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", 0, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], i + 1, true
		}
	}
	return "", 0, false
}

func word(s string) string {
	if j := strings.IndexByte(s, ' '); j >= 0 {
		return s[:j]
	}
	return s
}

func skipSpace(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

// isToken reports whether s is an HTTP method: upper-case letters, as
// servers log them (and WebDAV's, and a scanner's made-up ones).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return len(s) <= 32
}
