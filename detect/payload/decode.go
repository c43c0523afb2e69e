package payload

import (
	"strings"
)

// maxDecodeRounds bounds repeated URL decoding: attackers double- and
// triple-encode to slip past filters that decode once; more rounds than
// this are not seen in practice and would let one value cost too much.
const maxDecodeRounds = 3

// maxInput bounds the bytes of a value that are inspected, so that one huge
// request line cannot stall the stream; the start of a value is where an
// injection into a parameter sits.
const maxInput = 8192

// URLDecode decodes %XX escapes and `+` (a space in a query string),
// repeating while the result still holds escapes, up to maxDecodeRounds
// times. Malformed escapes are kept as written, as servers do. %uXXXX (the
// IIS form) is decoded too.
func URLDecode(s string) string {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	for round := 0; round < maxDecodeRounds; round++ {
		if !strings.ContainsAny(s, "%+") {
			return s
		}
		d, changed := decodeOnce(s, round == 0)
		if !changed {
			return d
		}
		s = d
	}
	return s
}

// decodeOnce is one round of URL decoding; plus turns `+` into a space (only
// in the first round: a `+` produced by decoding %2B is a plus).
func decodeOnce(s string, plus bool) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plus:
			b.WriteByte(' ')
			changed = true
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			changed = true
		case c == '%' && i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') &&
			isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
			r := rune(unhex(s[i+2]))<<12 | rune(unhex(s[i+3]))<<8 | rune(unhex(s[i+4]))<<4 | rune(unhex(s[i+5]))
			b.WriteRune(r)
			i += 5
			changed = true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), changed
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// Inputs calls fn with each value of a request target worth inspecting, URL
// decoded: the whole value, and when it holds a query string (after `?`,
// or pairs joined by `&` and `=`) the path and each parameter's name and
// value on their own, since an injection is written for one parameter and
// the parser of the target sees that parameter alone. It stops when fn
// returns true and reports whether fn did.
func Inputs(s string, fn func(string) bool) bool {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	query := s
	if i := strings.IndexByte(s, '?'); i >= 0 && !strings.ContainsAny(s[:i], " '\"+") {
		// A path and a query string: the parts are inspected on their own
		// (the whole adds nothing an injection into one part lacks).
		query = s[i+1:]
		if fn(URLDecode(s[:i])) {
			return true
		}
	} else if fn(URLDecode(s)) {
		return true
	}
	if !strings.ContainsAny(query, "&=;") {
		return false
	}
	parts := 0
	for query != "" {
		var part string
		part, query, _ = strings.Cut(query, "&")
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			if part != s && part != query && fn(URLDecode(part)) {
				return true
			}
			continue
		}
		if parts++; parts > 64 {
			return false
		}
		if value != "" && fn(URLDecode(value)) {
			return true
		}
		if len(name) > 2 && fn(URLDecode(name)) {
			return true
		}
	}
	return false
}
