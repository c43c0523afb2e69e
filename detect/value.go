package detect

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/rule"
)

// parseNumber parses a decimal number (optional sign, digits, optional
// fraction) without allocating: strconv allocates an error for every value
// that is not a number, and most field values are not. Hexadecimal and
// exponents are not numbers here.
func parseNumber(s string) (float64, bool) {
	// A cheap syntax check first (plain decimals only: no exponent, hex,
	// Inf or NaN), then strconv for the exact, correctly rounded value —
	// the rule's number is read the same way, so 0.3 equals 0.3.
	t := s
	if t != "" && (t[0] == '-' || t[0] == '+') {
		t = t[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false // out of range
	}
	return v, true
}

// parseIP parses an IPv4 or IPv6 address. Strings that cannot be addresses
// are turned away before netip sees them, since netip allocates its error.
func parseIP(s string) (netip.Addr, bool) {
	if len(s) < 2 || len(s) > 64 {
		return netip.Addr{}, false
	}
	colon := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c == '.':
		case c == ':':
			colon = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '%':
			if !colon && strings.IndexByte(s, ':') < 0 {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	if !colon {
		return parseIPv4(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func parseIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			b[part] = byte(n)
			part++
			n, digits = 0, 0
			continue
		}
		if digits > 0 && n == 0 { // leading zero
			return netip.Addr{}, false
		}
		n = n*10 + int(s[i]-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// timePart extracts a part of a timestamp written as YYYY-MM-DD, optionally
// followed by 'T' or a space and hh:mm[:ss[.fraction]] and a zone. As the
// specification says, time modifiers convert neither zone nor format: the
// parts are read as written. It does not allocate.
func timePart(s string, part rule.TimePart) (float64, bool) {
	num := func(from, n int) (int, bool) {
		if from+n > len(s) {
			return 0, false
		}
		v := 0
		for i := from; i < from+n; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	s = strings.TrimSpace(s)
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return 0, false
	}
	if len(s) > 10 && s[10] != 'T' && s[10] != 't' && s[10] != ' ' {
		return 0, false
	}
	switch part {
	case rule.Year:
		return float64(y), true
	case rule.Month:
		return float64(mo), true
	case rule.Day:
		return float64(d), true
	case rule.Week:
		_, w := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).ISOWeek()
		return float64(w), true
	}
	if len(s) < 16 || s[13] != ':' {
		return 0, false
	}
	h, ok1 := num(11, 2)
	mi, ok2 := num(14, 2)
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false
	}
	if part == rule.Hour {
		return float64(h), true
	}
	return float64(mi), true
}
