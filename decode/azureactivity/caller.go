package azureactivity

import (
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/addr"
)

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
	if !maybeAddr(host) || !addr.IsPort(port) {
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
