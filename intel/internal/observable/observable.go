// Package observable is what the feed parsers add to intel.Normalize:
// the kind an address really is (a full-length prefix is an address),
// values that may be a host or an address, and the schemeless URLs feeds
// write.
package observable

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vigil-sec/vigil/intel"
)

// Normalize checks value as an observable of kind k and returns its
// normalized text (intel.Normalize, the form the set matches) and the kind
// it really is: an IP prefix of full length is an address, an address
// given as kind CIDR too.
func Normalize(k intel.Kind, value string) (intel.Kind, string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return k, "", errors.New("empty value")
	}
	if k == intel.KindIP || k == intel.KindCIDR {
		return Address(value)
	}
	if k == intel.KindURL && !strings.Contains(value, "://") {
		// Feeds (MISP's above all) write URLs without a scheme; one is
		// taken as http:// when what comes before its path is a host
		// name or an address, which tells it from a file path.
		host, _, _ := strings.Cut(value, "/")
		if _, _, err := HostOrAddress(host); err != nil {
			return k, "", fmt.Errorf("url %q: no scheme, and %q is not a host", value, host)
		}
		value = "http://" + value
	}
	n, err := intel.Normalize(k, value)
	return k, n, err
}

// Address reads an IP address or a CIDR prefix. Host bits of a prefix are
// cleared (feeds write 10.0.0.1/8 meaning 10.0.0.0/8); IPv4-mapped IPv6
// addresses become IPv4 so that they match what events carry.
func Address(value string) (intel.Kind, string, error) {
	if strings.Contains(value, "/") {
		p, err := netip.ParsePrefix(value)
		if err != nil {
			return intel.KindCIDR, "", fmt.Errorf("not an IP prefix: %q", value)
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		p = netip.PrefixFrom(a, bits).Masked()
		if bits == a.BitLen() {
			return intel.KindIP, p.Addr().String(), nil
		}
		return intel.KindCIDR, p.String(), nil
	}
	a, err := netip.ParseAddr(value)
	if err != nil || a.Zone() != "" {
		return intel.KindIP, "", fmt.Errorf("not an IP address: %q", value)
	}
	return intel.KindIP, a.Unmap().String(), nil
}

// HostOrAddress reads a value that may be an address, a prefix or a host
// name (a network connection's end, MISP's hostname|port).
func HostOrAddress(value string) (intel.Kind, string, error) {
	if k, v, err := Address(value); err == nil {
		return k, v, nil
	}
	d, err := intel.Normalize(intel.KindDomain, value)
	return intel.KindDomain, d, err
}
