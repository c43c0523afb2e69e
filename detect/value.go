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

// timePart extracts a part of a timestamp. The field must be exactly a
// date, YYYY-MM-DD naming a day of the calendar, optionally followed by
// 'T' or a space and hh:mm:ss (hour 00–23, minute 00–59, second 00–60 for
// a leap second), an optional fraction of a second and an optional zone,
// Z or ±hh:mm: RFC 3339, with the zone optional and a space allowed for
// the T. Anything else (an impossible day, 24:00, a one-digit hour, no
// seconds, text after the time, surrounding spaces) is not a timestamp and
// never matches, as docs/rules.md says: a lenient reading would let a rule
// match text that merely starts like a date. As the specification says,
// time modifiers convert neither zone nor format: the parts are read as
// written. It does not allocate.
func timePart(s string, part rule.TimePart) (float64, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, false
	}
	h, mi := -1, -1 // no time of day
	if len(s) > 10 {
		var ok bool
		if h, mi, ok = clock(s[10:]); !ok {
			return 0, false
		}
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
	case rule.Hour:
		return float64(h), h >= 0
	}
	return float64(mi), mi >= 0
}

// clock reads what follows the date of a timestamp: 'T' or a space,
// hh:mm:ss, an optional fraction and an optional zone, up to the end of t.
func clock(t string) (hour, minute int, ok bool) {
	if len(t) < 9 || t[0] != 'T' && t[0] != ' ' || t[3] != ':' || t[6] != ':' {
		return 0, 0, false
	}
	h, ok1 := digits(t, 1, 2)
	mi, ok2 := digits(t, 4, 2)
	sec, ok3 := digits(t, 7, 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 60 {
		return 0, 0, false
	}
	t = t[9:]
	if len(t) > 0 && t[0] == '.' {
		n := 1
		for n < len(t) && t[n] >= '0' && t[n] <= '9' {
			n++
		}
		if n == 1 {
			return 0, 0, false // a dot without digits
		}
		t = t[n:]
	}
	switch {
	case t == "" || t == "Z":
	case len(t) == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':':
		// RFC 3339's time-numoffset: the offset is an hour and minute.
		oh, ok1 := digits(t, 1, 2)
		om, ok2 := digits(t, 4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	return h, mi, true
}

// digits reads the n decimal digits of s at from, or fails.
func digits(s string, from, n int) (int, bool) {
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

// daysIn is the number of days of month mo (1–12) of year y, in the
// proleptic Gregorian calendar (as time.Date and the ISO week use it).
func daysIn(y, mo int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
