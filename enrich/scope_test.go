package enrich

import (
	"net/netip"
	"testing"
)

func TestScope(t *testing.T) {
	for ip, want := range map[string]string{
		"8.8.8.8": ScopePublic, "10.1.2.3": ScopePrivate, "172.16.0.1": ScopePrivate, "172.32.0.1": ScopePublic,
		"192.168.1.1": ScopePrivate, "127.0.0.1": ScopeLoopback, "::1": ScopeLoopback, "169.254.10.1": ScopeLinkLocal,
		"fe80::1": ScopeLinkLocal, "100.64.0.1": ScopeCGNAT, "100.128.0.1": ScopePublic, "192.0.2.7": ScopeDocumentation,
		"198.51.100.1": ScopeDocumentation, "203.0.113.9": ScopeDocumentation, "2001:db8::1": ScopeDocumentation,
		"224.0.0.251": ScopeMulticast, "ff02::1": ScopeMulticast, "255.255.255.255": ScopeReserved, "0.0.0.0": ScopeReserved,
		"::": ScopeReserved, "fd00::1": ScopePrivate, "::ffff:10.0.0.1": ScopePrivate, "2606:4700::1111": ScopePublic,
		"198.18.0.1": ScopeReserved, "192.0.0.8": ScopeReserved,
	} {
		if got := Scope(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Scope(%s) = %s, want %s", ip, got, want)
		}
	}
}
