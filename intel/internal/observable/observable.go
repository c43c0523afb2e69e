// Package observable turns the values feeds write into the normalized
// text intel.Indicator holds, so that every feed parser agrees on it:
// canonical IP and prefix text, lowercased domains, hashes and e-mails.
// It lives here, not in package intel, so that the parsers need nothing
// of intel's matching code; intel may adopt it later.
package observable

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/intel"
)

// Normalize checks value as an observable of kind k and returns its
// normalized text and the kind it really is: an IP prefix of full length
// is an address, an address given as kind CIDR too.
func Normalize(k intel.Kind, value string) (intel.Kind, string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return k, "", errors.New("empty value")
	}
	switch k {
	case intel.KindIP, intel.KindCIDR:
		return Address(value)
	case intel.KindDomain:
		d, err := Domain(value)
		return k, d, err
	case intel.KindURL:
		u, err := URL(value)
		return k, u, err
	case intel.KindMD5:
		h, err := hash(value, 32)
		return k, h, err
	case intel.KindSHA1:
		h, err := hash(value, 40)
		return k, h, err
	case intel.KindSHA256:
		h, err := hash(value, 64)
		return k, h, err
	case intel.KindEmail:
		e, err := Email(value)
		return k, e, err
	case intel.KindUserAgent:
		if strings.ContainsAny(value, "\r\n") {
			return k, "", errors.New("user agent has a line break")
		}
		return k, value, nil
	}
	return k, "", fmt.Errorf("unknown kind %q", k)
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

// Domain lowercases a host name and drops its root dot. It refuses what
// cannot be a name: addresses, spaces, slashes, empty or long labels, an
// all-digit last label, and a single label (a top-level domain alone
// would match too much).
func Domain(value string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(value), ".")
	if d == "" || len(d) > 253 {
		return "", fmt.Errorf("not a domain name: %q", value)
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", fmt.Errorf("an IP address, not a domain name: %q", value)
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("not a domain name (empty or long label): %q", value)
		}
		for _, r := range l {
			if r <= ' ' || r == 0x7f || strings.ContainsRune(`/\:@?#[]"'<>,;*%`, r) {
				return "", fmt.Errorf("not a domain name (character %q): %q", r, value)
			}
		}
	}
	if len(labels) < 2 {
		return "", fmt.Errorf("not a domain name (one label): %q", value)
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("not a domain name (numeric top label): %q", value)
	}
	return d, nil
}

// URL lowercases the scheme and host of a URL, drops the scheme's
// default port and the fragment (which never reaches a server), and makes
// an empty path "/". Feeds often write URLs without a scheme
// (example.com/gate.php): those are taken as http, the form a proxy logs,
// and need a host with a dot, which tells them from a mistyped path.
func URL(value string) (string, error) {
	if strings.ContainsAny(value, " \t\r\n") {
		return "", fmt.Errorf("not a URL (white space): %q", value)
	}
	raw := value
	schemeless := !strings.Contains(value, "://")
	if schemeless {
		raw = "http://" + value
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("not a URL: %q", value)
	}
	host := u.Hostname()
	if schemeless && (u.User != nil || !strings.Contains(host, ".") && !strings.Contains(host, ":")) {
		return "", fmt.Errorf("not a URL (no scheme and no domain): %q", value)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if _, err := Domain(host); err != nil {
			return "", fmt.Errorf("not a URL (host %q): %q", host, value)
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if p := u.Port(); p == "80" && u.Scheme == "http" || p == "443" && u.Scheme == "https" {
		u.Host = strings.TrimSuffix(u.Host, ":"+p)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// Email lowercases an address: local parts are case-sensitive in theory
// and never in practice, and feeds and logs disagree on case.
func Email(value string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(value))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n<>,;") {
		return "", fmt.Errorf("not an e-mail address: %q", value)
	}
	if _, err := Domain(e[at+1:]); err != nil {
		if _, err2 := netip.ParseAddr(strings.Trim(e[at+1:], "[]")); err2 != nil {
			return "", fmt.Errorf("not an e-mail address (domain): %q", value)
		}
	}
	return e, nil
}

func hash(value string, n int) (string, error) {
	h := strings.ToLower(value)
	if len(h) != n {
		return "", fmt.Errorf("not a %d-digit hex hash: %q", n, value)
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("not a hex hash: %q", value)
		}
	}
	return h, nil
}

// HostOrAddress reads a value that may be an address, a prefix or a host
// name (a network connection's end, MISP's hostname|port).
func HostOrAddress(value string) (intel.Kind, string, error) {
	if k, v, err := Address(value); err == nil {
		return k, v, nil
	}
	d, err := Domain(value)
	return intel.KindDomain, d, err
}
