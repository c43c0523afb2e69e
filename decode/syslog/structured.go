package syslog

import (
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// sdEnd returns the end of the structured data that starts at line[i]
// ('['): one or more elements [id param="value"…].
func sdEnd(line string, i int) (int, error) {
	for i < len(line) && line[i] == '[' {
		end, err := elemEnd(line, i)
		if err != nil {
			return 0, err
		}
		i = end
	}
	return i, nil
}

// elemEnd returns the end of the element at line[i] ('['), values escaping
// '"', '\' and ']' with a backslash.
func elemEnd(line string, i int) (int, error) {
	inQuote := false
	for j := i + 1; j < len(line); j++ {
		c := line[j]
		switch {
		case inQuote && c == '\\':
			j++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ']':
			return j + 1, nil
		}
	}
	return 0, fail(i, "RFC 5424: structured data element not closed with ']'")
}

// structured sets each PARAM of each SD-ELEMENT as field "sd.ID.PARAM".
// Malformed parameters are skipped: the message itself is still worth
// keeping.
func (d *Decoder) structured(sd string, f *event.Fields) {
	for len(sd) > 0 && sd[0] == '[' {
		end, err := elemEnd(sd, 0)
		if err != nil {
			return
		}
		elem := sd[1 : end-1]
		sd = sd[end:]
		sp := strings.IndexByte(elem, ' ')
		id := elem
		if sp >= 0 {
			id, elem = elem[:sp], elem[sp+1:]
		} else {
			elem = ""
		}
		for len(elem) > 0 {
			eq := strings.Index(elem, "=\"")
			if eq <= 0 {
				return
			}
			name := strings.TrimSpace(elem[:eq])
			j, val, ok := sdValue(elem, eq+2)
			if !ok {
				return
			}
			d.name = append(append(append(append(d.name[:0], "sd."...), id...), '.'), name...)
			f.SetName(d.name, val)
			elem = strings.TrimLeft(elem[j:], " ")
		}
	}
}

// sdValue reads a quoted value from s[i] up to the closing quote, and
// returns the index after it and the unescaped value.
func sdValue(s string, i int) (int, string, bool) {
	var b []byte
	start := i
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
				if b == nil {
					b = append(make([]byte, 0, len(s)-start), s[start:i]...)
				}
				b = append(b, s[i+1])
				i++
				continue
			}
		case '"':
			if b == nil {
				return i + 1, s[start:i], true
			}
			return i + 1, string(b), true
		}
		if b != nil {
			b = append(b, s[i])
		}
	}
	return i, "", false
}
