package enrich

import "net/netip"

// scopes are the special-purpose ranges (IANA's IPv4 and IPv6
// special-purpose registries, RFC 6890 and its updates) and what an
// address inside them is. Looked up in order; the first that holds wins.
var scopes = func() []struct {
	p     netip.Prefix
	scope string
} {
	list := []struct{ p, scope string }{
		{"0.0.0.0/8", ScopeReserved},
		{"10.0.0.0/8", ScopePrivate},
		{"100.64.0.0/10", ScopeCGNAT},
		{"127.0.0.0/8", ScopeLoopback},
		{"169.254.0.0/16", ScopeLinkLocal},
		{"172.16.0.0/12", ScopePrivate},
		{"192.0.0.0/24", ScopeReserved}, // IETF protocol assignments
		{"192.0.2.0/24", ScopeDocumentation},
		{"192.168.0.0/16", ScopePrivate},
		{"198.18.0.0/15", ScopeReserved}, // benchmarking
		{"198.51.100.0/24", ScopeDocumentation},
		{"203.0.113.0/24", ScopeDocumentation},
		{"224.0.0.0/4", ScopeMulticast},
		{"240.0.0.0/4", ScopeReserved}, // and 255.255.255.255
		{"::/128", ScopeReserved},
		{"::1/128", ScopeLoopback},
		{"fc00::/7", ScopePrivate},
		{"fe80::/10", ScopeLinkLocal},
		{"ff00::/8", ScopeMulticast},
		{"2001:db8::/32", ScopeDocumentation},
		{"3fff::/20", ScopeDocumentation}, // RFC 9637
		{"100::/64", ScopeReserved},       // discard-only
	}
	out := make([]struct {
		p     netip.Prefix
		scope string
	}, len(list))
	for i, l := range list {
		out[i].p, out[i].scope = netip.MustParsePrefix(l.p), l.scope
	}
	return out
}()

// Scope says what kind of address a is: public, or one of the
// special-purpose ranges. An IPv4-mapped IPv6 address is judged as its
// IPv4 address.
func Scope(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		// Fast path for the common public case: no special range starts
		// with these first octets except the ones checked below.
		switch {
		case b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224:
		case b[0] == 100 || b[0] == 169 || b[0] == 172 || b[0] == 192 || b[0] == 198 || b[0] == 203:
		default:
			return ScopePublic
		}
	}
	for _, s := range scopes {
		if s.p.Contains(a) {
			return s.scope
		}
	}
	return ScopePublic
}
