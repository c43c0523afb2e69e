package cef

import (
	"github.com/vigil-sec/vigil/decode/internal/kv"
	"github.com/vigil-sec/vigil/decode/internal/view"
)

// extension splits line[i:] into key=value pairs in d.kv. A key is a run
// of letters, digits, '_', '-' or '.' right before an unescaped '=' and
// after white space; everything up to the next key is the value, trimmed,
// so values may hold spaces and unescaped '=' that follow no key-like
// word ("msg=lang=en"). In values, \= \\ \n and \r are escapes.
func (d *Decoder) extension(line string, i int) {
	d.kv = d.kv[:0]
	key, val := "", -1 // current key and where its value starts
	esc := false       // the current value holds a backslash
	for j := i; j < len(line); j++ {
		switch line[j] {
		case '\\':
			esc = true
			j++ // whatever follows is escaped
			continue
		case '=':
		default:
			continue
		}
		k := j
		for k > i && isKeyByte(line[k-1]) {
			k--
		}
		if k == j {
			continue // "==" or " =": part of a value
		}
		if val >= 0 && !isSpace(line[k-1]) {
			continue // "msg=lang=en": a word glued to text is no key
		}
		if val >= 0 {
			d.add(key, line[val:k], esc)
		}
		// Text before the first key is dropped: Check Point writes an
		// eighth header field ("|Unknown|act=Accept").
		key, val, esc = line[k:j], j+1, false
	}
	if val >= 0 {
		d.add(key, line[val:], esc)
	}
}

func (d *Decoder) add(key, v string, esc bool) {
	v = trimSpace(v)
	if esc {
		v = d.unescape(v, true)
	}
	if v == "" {
		return // "c6a1= c6a1Label=…": no value, as a JSON null
	}
	d.kv = append(d.kv, kv.Pair{Key: key, Val: v})
}

// unescape resolves backslash escapes into d.buf: \| \\ in the header,
// \= \\ \n \r in the extension. An unknown escape keeps its backslash.
func (d *Decoder) unescape(s string, ext bool) string {
	start := len(d.buf)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			switch {
			case n == '\\', !ext && n == '|', ext && n == '=':
				c, i = n, i+1
			case ext && n == 'n':
				c, i = '\n', i+1
			case ext && n == 'r':
				c, i = '\r', i+1
			}
		}
		d.buf = append(d.buf, c)
	}
	return view.String(d.buf[start:])
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
