package auditd

import (
	"strconv"
	"strings"
	"time"
)

// pair is one key=value of an audit record; both alias the line, except
// values hex-decoded, which are copies.
type pair struct{ key, val string }

// line is one audit record: "[node=N ]type=T msg=audit(SECS.MS:SERIAL): k=v …",
// as auditd writes it to audit.log (AUOMS writes "type=T audit(…): …"). A
// user-space record (USER_LOGIN, USER_CMD…) holds its own pairs in
// msg='…', which are read as the record's.
type line struct {
	node, typ, id string // id is "SECS.MS:SERIAL"
	time          time.Time
	serial        string
	pairs         []pair
	enriched      []pair // after the 0x1d of log_format=ENRICHED: SYSCALL=execve AUID="alice" …
}

// stampOf returns the "audit(…)" id of an audit line and where it starts,
// "" when it has none.
func stampOf(s string) (string, int) {
	i := strings.Index(s, "audit(")
	if i < 0 {
		return "", -1
	}
	end := strings.IndexByte(s[i:], ')')
	if end < 0 {
		return "", -1
	}
	return s[i+len("audit(") : i+end], i
}

// parseLine reads one record; off is its offset in the event's record, for
// errors.
func (d *Decoder) parseLine(s string, off int) (line, error) {
	var l line
	rest := s
	if strings.HasPrefix(rest, "node=") {
		var ok bool
		l.node, rest, ok = strings.Cut(rest[len("node="):], " ")
		if !ok {
			return l, fail(off, "node= but no type= after it")
		}
	}
	if !strings.HasPrefix(rest, "type=") {
		return l, fail(off+len(s)-len(rest), "no type= at the start of the audit record")
	}
	l.typ, rest, _ = strings.Cut(rest[len("type="):], " ")
	if l.typ == "" {
		return l, fail(off+len(s)-len(rest), "empty record type")
	}
	rest = strings.TrimPrefix(rest, "msg=")
	if !strings.HasPrefix(rest, "audit(") {
		return l, fail(off+len(s)-len(rest), "no msg=audit(TIME:SERIAL) after the type")
	}
	end := strings.Index(rest, "):")
	if end < 0 {
		return l, fail(off+len(s)-len(rest), "audit(TIME:SERIAL) not closed by \"):\"")
	}
	l.id = rest[len("audit("):end]
	at := off + len(s) - len(rest) + len("audit(")
	secs, serial, ok := strings.Cut(l.id, ":")
	if !ok {
		return l, fail(at, "audit(TIME:SERIAL) without a serial")
	}
	t, ok := parseStamp(secs)
	if !ok {
		return l, fail(at, "unreadable audit time stamp (want seconds.milliseconds)")
	}
	l.time, l.serial = t, serial
	body := strings.TrimPrefix(rest[end+2:], " ")
	if i := strings.IndexByte(body, 0x1d); i >= 0 {
		l.enriched = d.pairs("", body[i+1:], nil)
		body = body[:i]
	}
	l.pairs = d.pairs(l.typ, body, nil)
	// A user-space message nests its pairs in msg='…'.
	for i, p := range l.pairs {
		if p.key == "msg" {
			inner := d.pairs(l.typ, p.val, nil)
			l.pairs = append(l.pairs[:i:i], l.pairs[i+1:]...)
			l.pairs = append(l.pairs, inner...)
			break
		}
	}
	return l, nil
}

// parseStamp reads audit's "1700000000.123".
func parseStamp(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || len(sec) > 12 {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			return time.Time{}, false
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(n, ns).UTC(), true
}

// pairs splits "k=v k=\"v w\" k='v'" into pairs, appending to dst. A
// quoted value ends at the quote that is followed by the end or by " key="
// (AUOMS writes quotes inside quotes unescaped: cmdline="bash -c "x""); a
// word that is no "key=" continues the value before it (AUOMS's unquoted
// proctitle). Values hex-encoded by the kernel are decoded.
func (d *Decoder) pairs(typ, s string, dst []pair) []pair {
	// open is where the last value starts in s when it is unquoted and
	// kept as written: a word after it extends it in place.
	open := -1
	i := 0
	for i < len(s) {
		if s[i] == ' ' {
			i++
			continue
		}
		rest := s[i:]
		wend := strings.IndexByte(rest, ' ')
		if wend < 0 {
			wend = len(rest)
		}
		eq := strings.IndexByte(rest[:wend], '=')
		if eq <= 0 || !isKey(rest[:eq]) {
			// no key: the word belongs to the value before
			if n := len(dst); n > 0 {
				if open >= 0 {
					dst[n-1].val = s[open : i+wend]
				} else {
					dst[n-1].val += " " + rest[:wend]
				}
			}
			i += wend
			continue
		}
		key := rest[:eq]
		v := rest[eq+1:]
		if v != "" && (v[0] == '"' || v[0] == '\'') {
			end := closing(v, v[0])
			if end < 0 {
				dst = append(dst, pair{key, v[1:]})
				return dst
			}
			dst = append(dst, pair{key, v[1:end]})
			open = -1
			i += eq + 1 + end + 1
			continue
		}
		val := rest[eq+1 : wend]
		u := unhex(typ, key, val)
		dst = append(dst, pair{key, u})
		open = -1
		if u == val {
			open = i + eq + 1
		}
		i += wend
	}
	return dst
}

// closing finds the quote q that ends a quoted value starting at v[0].
func closing(v string, q byte) int {
	for i := 1; i < len(v); i++ {
		if v[i] != q {
			continue
		}
		if i+1 == len(v) {
			return i
		}
		if v[i+1] == ' ' {
			rest := strings.TrimLeft(v[i+1:], " ")
			if rest == "" {
				return i
			}
			if eq := strings.IndexByte(rest, '='); eq > 0 && isKey(rest[:eq]) {
				return i
			}
		}
	}
	return -1
}

// isKey reports whether k is an audit field name: letters, digits, '_'
// and '-' (AUOMS's key_r), starting with a letter or digit… not '-'
// (a command-line option "-Dx=y" is no key).
func isKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}

// hexFields are the fields the kernel writes as hex when their value holds
// a space, a quote or a control character (audit_log_untrustedstring),
// besides EXECVE's arguments.
var hexFields = map[string]bool{
	"proctitle": true, "name": true, "comm": true, "exe": true, "cwd": true, "path": true,
	"key": true, "data": true, "cmd": true, "acct": true, "ocomm": true, "watch": true,
	"old-chardev": true, "new-chardev": true,
}

// unhex decodes an unquoted val when key's values are untrusted strings
// (an EXECVE argument, or one of hexFields) and val is the kernel's hex
// (even length, only 0-9A-F). NULs (between proctitle's arguments) become
// spaces, \x01 (between the keys of a multi-key rule) commas.
func unhex(typ, key, val string) string {
	if typ == "EXECVE" {
		if !isArg(key) {
			return val
		}
	} else if !hexFields[key] {
		return val
	}
	if len(val) < 2 || len(val)%2 != 0 || val == "(null)" {
		return val
	}
	for i := 0; i < len(val); i++ {
		c := val[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return val
		}
	}
	b := make([]byte, len(val)/2)
	for i := range b {
		b[i] = hexVal(val[2*i])<<4 | hexVal(val[2*i+1])
		switch b[i] {
		case 0:
			b[i] = ' '
		case 1:
			b[i] = ','
		}
	}
	return strings.TrimRight(string(b), " ")
}

// isArg reports whether key is an EXECVE argument: a0, a1, … or a
// long argument's piece a2[0].
func isArg(key string) bool {
	if len(key) < 2 || key[0] != 'a' {
		return false
	}
	for i := 1; i < len(key); i++ {
		c := key[i]
		if !(c >= '0' && c <= '9' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
