// Package addr tells IP addresses and ports in log text from names and
// other words. Names are screened out before netip sees them: its errors
// allocate, and most values tested are not addresses.
package addr

import "net/netip"

// IsIP reports whether s is an IPv4 or IPv6 address, an IPv6 one perhaps
// with a numeric zone ("fe80::1%2").
func IsIP(s string) bool { return isIP(s, true) }

// IP returns s when it is an IP address without a zone, else "".
func IP(s string) string {
	if !isIP(s, false) {
		return ""
	}
	return s
}

// isIP is IsIP, with zones or without. No address is shorter than 2
// bytes ("::"), nor longer than 64 with a zone.
func isIP(s string, zone bool) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == ':' || c|0x20 >= 'a' && c|0x20 <= 'f' || zone && c == '%') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// IsPort reports whether s is a port number: up to five digits, at most
// 65535.
func IsPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
