package leef

import (
	"strings"

	"github.com/vigil-sec/vigil/decode"
)

// header reads "Version|Vendor|Product|Version|EventID|" and, for LEEF
// 2.0, the delimiter field, from line[i:]. It returns where the attributes
// start and their delimiter.
func header(line string, i int, head *[5]string) (ext int, delim byte, err error) {
	for n := 0; n < 5; n++ {
		j := strings.IndexByte(line[i:], '|')
		if j < 0 {
			return 0, 0, &decode.Error{Format: Format, Offset: len(line), Field: string(headerNames[n]),
				Reason: "header ends before its five |-separated fields"}
		}
		head[n] = line[i : i+j]
		i += j + 1
	}
	v := head[0]
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, 0, &decode.Error{Format: Format, Offset: strings.Index(line, "LEEF:") + 5, Field: "leefVersion", Reason: "LEEF version is not a number"}
	}
	delim = '\t'
	if v[0] >= '2' {
		// The delimiter field is short and holds no '='; a 2.0 record
		// without one goes straight on to the attributes.
		if j := strings.IndexByte(line[i:], '|'); j >= 0 && j <= 6 && !strings.Contains(line[i:i+j], "=") {
			if c, ok := delimiter(line[i : i+j]); ok {
				delim = c
			} else {
				return 0, 0, &decode.Error{Format: Format, Offset: i, Field: "delimiter", Reason: "unreadable attribute delimiter " + quote(line[i:i+j])}
			}
			i += j + 1
		}
	}
	return i, delim, nil
}

// delimiter reads LEEF 2.0's delimiter field: one character, or its code
// in hex as "x09", "0x09" or "\x09". Empty means the default tab.
func delimiter(s string) (byte, bool) {
	switch {
	case s == "":
		return '\t', true
	case len(s) == 1:
		return s[0], true
	case s == `\t`:
		return '\t', true
	}
	s = strings.TrimPrefix(s, `\`)
	s = strings.TrimPrefix(s, "0")
	if len(s) == 0 || (s[0] != 'x' && s[0] != 'X') || len(s) < 2 || len(s) > 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[1:]) {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v*16 + int(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return byte(v), v != 0
}

func quote(s string) string { return decode.QuoteValue(s) }
