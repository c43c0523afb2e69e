package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reasons a value is refused. They are fixed values so that the matching
// path, which normalizes what it looks up, never allocates for bad input.
var (
	errEmpty       = errors.New("empty value")
	errZone        = errors.New("an address with a zone (%) is not an indicator")
	errNotAddress  = errors.New("not an IPv4 or IPv6 address")
	errNotPrefix   = errors.New("not an IPv4 or IPv6 prefix (address/bits)")
	errLabelEmpty  = errors.New("empty label (two dots in a row, or a leading dot)")
	errLabelLong   = errors.New("label longer than 63 bytes")
	errLabelChar   = errors.New("label has a character other than a-z, 0-9, '-' or '_'")
	errDomainLong  = errors.New("longer than 253 bytes")
	errOneLabel    = errors.New("needs at least two labels (a top-level domain alone would match too much)")
	errNumericTLD  = errors.New("last label is numeric: an address, not a domain")
	errBadUTF8     = errors.New("not valid UTF-8")
	errPunycode    = errors.New("label cannot be encoded as punycode")
	errNoScheme    = errors.New("no scheme (scheme://host...)")
	errNoHost      = errors.New("no host")
	errSpace       = errors.New("contains white space or a control character")
	errBadEscape   = errors.New("bad percent escape")
	errHashLength  = errors.New("wrong length for this hash kind")
	errHashChar    = errors.New("not hexadecimal")
	errNoAt        = errors.New("no '@'")
	errLocalPart   = errors.New("local part empty or longer than 64 bytes")
	errUnknownKind = errors.New("unknown indicator kind")
)

// Normalize returns the canonical text of an indicator value of kind k —
// the form the Set indexes and the form events are looked up in — or an
// error naming the kind, the value and what is wrong with it.
//
//   - ip: canonical IPv4 or IPv6 text; an IPv4-mapped IPv6 address becomes IPv4.
//   - cidr: the prefix with its host bits cleared ("10.1.2.3/8" is "10.0.0.0/8");
//     a bare address is its full-length prefix.
//   - domain: lowercased, no trailing dot, a leading "*." dropped (subdomains
//     match anyway), non-ASCII labels in their IDNA "xn--" form.
//   - url: scheme and host lowercased, the scheme's default port and the
//     fragment dropped, an empty path made "/", percent escapes in upper case;
//     the path and query keep their case, as servers and logs see them.
//   - md5, sha1, sha256: lowercase hexadecimal of the kind's length.
//   - email: lowercased, its domain as a domain.
//   - user_agent: exact; only an empty value or a line break is refused.
func Normalize(k Kind, v string) (string, error) {
	// The normal form is built in a buffer and v itself returned when it
	// was already normal, as feeds' values mostly are: no copy is kept.
	var buf [256]byte
	var b []byte
	var err error
	switch k {
	case KindIP:
		var a netip.Addr
		if a, err = parseIP(v); err == nil {
			b = a.AppendTo(buf[:0])
		}
	case KindCIDR:
		var p netip.Prefix
		if p, err = parseCIDR(v); err == nil {
			b = p.AppendTo(buf[:0])
		}
	case KindUserAgent:
		if v == "" {
			err = errEmpty
		} else if strings.ContainsAny(v, "\r\n\x00") {
			err = errSpace
		} else {
			return v, nil
		}
	default:
		b, err = appendNormal(buf[:0], k, v)
	}
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", k, v, err)
	}
	if string(b) == v {
		return v, nil
	}
	return string(b), nil
}

// appendNormal appends the normal form of a string-kind value (domain, url,
// hashes, email) to dst. It allocates only when dst must grow.
func appendNormal(dst []byte, k Kind, v string) ([]byte, error) {
	switch k {
	case KindDomain:
		return appendDomain(dst, v)
	case KindURL:
		return appendURL(dst, v)
	case KindMD5, KindSHA1, KindSHA256:
		return appendHash(dst, v, hexDigits(k))
	case KindEmail:
		return appendEmail(dst, v)
	case KindUserAgent:
		if v == "" {
			return dst, errEmpty
		}
		return append(dst, v...), nil
	}
	return dst, errUnknownKind
}

func parseIP(v string) (netip.Addr, error) {
	if v == "" {
		return netip.Addr{}, errEmpty
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, errNotAddress
	}
	if a.Zone() != "" {
		return netip.Addr{}, errZone
	}
	return a.Unmap(), nil
}

func parseCIDR(v string) (netip.Prefix, error) {
	if v == "" {
		return netip.Prefix{}, errEmpty
	}
	if !strings.Contains(v, "/") {
		a, err := parseIP(v)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, errNotPrefix
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// appendDomain appends the normal form of a domain name.
func appendDomain(dst []byte, v string) ([]byte, error) {
	v = strings.TrimSuffix(v, ".")
	v = strings.TrimPrefix(v, "*.")
	if v == "" {
		return dst, errEmpty
	}
	if len(v) > 253*4 { // even all-multibyte, far too long
		return dst, errDomainLong
	}
	start := len(dst)
	labels := 0
	for {
		label, rest, more := strings.Cut(v, ".")
		var err error
		if dst, err = appendLabel(dst, label); err != nil {
			return dst[:start], err
		}
		labels++
		if !more {
			// The last label decides whether this is a dotted address.
			if isDigits(label) {
				return dst[:start], errNumericTLD
			}
			break
		}
		dst = append(dst, '.')
		v = rest
	}
	if len(dst)-start > 253 {
		return dst[:start], errDomainLong
	}
	if labels < 2 {
		return dst[:start], errOneLabel
	}
	return dst, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// appendLabel appends one label lowercased, in its ASCII form.
func appendLabel(dst []byte, label string) ([]byte, error) {
	if label == "" {
		return dst, errLabelEmpty
	}
	ascii := true
	for i := 0; i < len(label); i++ {
		if label[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	start := len(dst)
	if ascii {
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return dst[:start], errLabelChar
			}
			dst = append(dst, c)
		}
	} else {
		if !utf8.ValidString(label) {
			return dst, errBadUTF8
		}
		var runes [64]rune
		n := 0
		for _, r := range label {
			if n == len(runes) {
				return dst, errLabelLong
			}
			r = unicode.ToLower(r)
			if r < utf8.RuneSelf && !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return dst, errLabelChar
			}
			runes[n] = r
			n++
		}
		var ok bool
		dst = append(dst, "xn--"...)
		if dst, ok = appendPunycode(dst, runes[:n]); !ok {
			return dst[:start], errPunycode
		}
	}
	if len(dst)-start > 63 {
		return dst[:start], errLabelLong
	}
	return dst, nil
}

// appendURL appends the normal form of an absolute URL.
func appendURL(dst []byte, v string) ([]byte, error) {
	if v == "" {
		return dst, errEmpty
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return dst, errSpace
		}
	}
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || scheme == "" || !isScheme(scheme) {
		return dst, errNoScheme
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, pathQuery := rest[:end], rest[end:]
	start := len(dst)
	for i := 0; i < len(scheme); i++ {
		dst = append(dst, lower(scheme[i]))
	}
	dst = append(dst, "://"...)
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		dst = append(dst, authority[:i+1]...) // user info keeps its case
		authority = authority[i+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host, port = host[:i+1], host[i+1:]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i:]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return dst[:start], errNoHost
	}
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for i := 0; i < len(host); i++ {
			dst = append(dst, lower(host[i]))
		}
	} else {
		var err error
		if dst, err = appendIDNHost(dst, host); err != nil {
			return dst[:start], err
		}
	}
	switch {
	case port == "" || port == ":":
	case port == ":80" && (len(scheme) == 4 && strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "ws")):
	case port == ":443" && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "wss")):
	default:
		dst = append(dst, port...)
	}
	if pathQuery == "" || pathQuery[0] == '?' {
		dst = append(dst, '/')
	}
	for i := 0; i < len(pathQuery); i++ {
		c := pathQuery[i]
		if c == '%' {
			if i+2 >= len(pathQuery) || !isHex(pathQuery[i+1]) || !isHex(pathQuery[i+2]) {
				return dst[:start], errBadEscape
			}
			dst = append(dst, '%', upper(pathQuery[i+1]), upper(pathQuery[i+2]))
			i += 2
			continue
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// appendIDNHost converts a non-ASCII host name label by label.
func appendIDNHost(dst []byte, host string) ([]byte, error) {
	for {
		label, rest, more := strings.Cut(host, ".")
		var err error
		if dst, err = appendLabel(dst, label); err != nil {
			return dst, err
		}
		if !more {
			return dst, nil
		}
		dst = append(dst, '.')
		host = rest
	}
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !alpha && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func appendHash(dst []byte, v string, n int) ([]byte, error) {
	if v == "" {
		return dst, errEmpty
	}
	if len(v) != n {
		return dst, errHashLength
	}
	start := len(dst)
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return dst[:start], errHashChar
		}
		dst = append(dst, lower(v[i]))
	}
	return dst, nil
}

func appendEmail(dst []byte, v string) ([]byte, error) {
	if v == "" {
		return dst, errEmpty
	}
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return dst, errNoAt
	}
	local, domain := v[:at], v[at+1:]
	if local == "" || len(local) > 64 {
		return dst, errLocalPart
	}
	start := len(dst)
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c == 0x7f {
			return dst[:start], errSpace
		}
		dst = append(dst, lower(c))
	}
	dst = append(dst, '@')
	dst, err := appendDomain(dst, domain)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Infer guesses the kind of a bare value, as a list with one indicator a
// line but no column for the kind needs, and returns it normalized: a URL
// has "://"; an address or prefix parses as one; 32, 40 or 64 hexadecimal
// digits are an MD5, SHA-1 or SHA-256; an "@" makes an e-mail address; the
// rest is read as a domain. User agents are never inferred.
func Infer(v string) (Kind, string, error) {
	var k Kind
	switch {
	case strings.Contains(v, "://"):
		k = KindURL
	case strings.Contains(v, "/"):
		k = KindCIDR
	case strings.Contains(v, "@"):
		k = KindEmail
	default:
		if _, err := netip.ParseAddr(v); err == nil || strings.Contains(v, ":") {
			k = KindIP
			break
		}
		k = KindDomain
		if allHex(v) {
			for _, h := range []Kind{KindMD5, KindSHA1, KindSHA256} {
				if len(v) == hexDigits(h) {
					k = h
				}
			}
		}
	}
	n, err := Normalize(k, v)
	if err != nil {
		return k, "", err
	}
	return k, n, nil
}

func allHex(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return false
		}
	}
	return v != ""
}
