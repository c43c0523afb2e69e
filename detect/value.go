package detect

import (
	"net/netip"
	"strings"
)

// parseNumber parses a decimal number (optional sign, digits, optional
// fraction) without allocating: strconv allocates an error for every value
// that is not a number, and most field values are not. Hexadecimal and
// exponents are not numbers here.
func parseNumber(s string) (float64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v float64
	i, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + float64(s[i]-'0')
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		scale := 0.1
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			v += float64(s[i]-'0') * scale
			scale /= 10
			digits++
		}
	}
	if i != len(s) || digits == 0 {
		return 0, false
	}
	if neg {
		v = -v
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
