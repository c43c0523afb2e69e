package azureactivity

import (
	"net/netip"
	"strings"
)

// Subscription returns the subscription id of an Azure resource id
// ("/subscriptions/<id>/resourceGroups/…"; some logs write it in upper
// case), or "" when the id names none. It does not allocate: the result is
// a slice of id.
func Subscription(id string) string {
	const seg = "/subscriptions/"
	if len(id) < len(seg) || !equalFoldASCII(id[:len(seg)], seg) {
		return ""
	}
	rest := id[len(seg):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		dst = append(dst, lowerByte(c))
	}
	return dst
}

func lower(s string) string { return string(appendLower(nil, []byte(s))) }

// SplitAddr splits a caller address into IP and port. Activity and storage
// logs write "203.0.113.7", "203.0.113.7:4431" or "[2001:db8::1]:4431";
// anything that is not an address (a service name such as
// "Microsoft.Authorization") gives none. The results are slices of s, and
// a failed parse does not allocate an error.
func SplitAddr(s string) (ip, port string) {
	if !maybeAddr(s) {
		return "", ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return s, ""
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", ""
	}
	host, port := s[:i], s[i+1:]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if !maybeAddr(host) || !isPort(port) {
		return "", ""
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return "", ""
	}
	return host, port
}

// maybeAddr screens out names before netip, whose errors allocate.
func maybeAddr(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '[' || c == ']' || c == '%') {
			return false
		}
	}
	return true
}

func isPort(s string) bool {
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
