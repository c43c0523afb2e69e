package intel

import (
	"strings"
	"testing"
)

func TestNormalizeCanonicalForms(t *testing.T) {
	cases := []struct {
		kind Kind
		in   string
		want string
	}{
		{KindIP, "192.0.2.1", "192.0.2.1"},
		{KindIP, "2001:DB8:0:0::1", "2001:db8::1"},
		{KindIP, "::ffff:192.0.2.7", "192.0.2.7"},
		{KindCIDR, "10.1.2.3/8", "10.0.0.0/8"},
		{KindCIDR, "2001:db8:abcd::/32", "2001:db8::/32"},
		{KindCIDR, "::ffff:198.51.100.0/120", "198.51.100.0/24"},
		{KindCIDR, "203.0.113.9", "203.0.113.9/32"},
		{KindCIDR, "2001:db8::5", "2001:db8::5/128"},
		{KindDomain, "Evil.EXAMPLE.com.", "evil.example.com"},
		{KindDomain, "*.evil.example", "evil.example"},
		{KindDomain, "_dmarc.example.org", "_dmarc.example.org"},
		// RFC 3492 section 7.1 sample (German) and a common IDN.
		{KindDomain, "bücher.example", "xn--bcher-kva.example"},
		{KindDomain, "BÜCHER.example", "xn--bcher-kva.example"},
		{KindDomain, "münchen.de", "xn--mnchen-3ya.de"},
		{KindDomain, "例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{KindURL, "HTTP://Evil.Example.COM:80/Path/A%2fb?Q=1#frag", "http://evil.example.com/Path/A%2Fb?Q=1"},
		{KindURL, "https://evil.example:443", "https://evil.example/"},
		{KindURL, "https://evil.example:8443?x=1", "https://evil.example:8443/?x=1"},
		{KindURL, "http://User@Evil.example./a", "http://User@evil.example/a"},
		{KindURL, "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"},
		{KindURL, "http://bücher.example/x", "http://xn--bcher-kva.example/x"},
		{KindMD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
		{KindSHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{KindSHA256, strings.Repeat("AB", 32), strings.Repeat("ab", 32)},
		{KindEmail, "Bad.Actor@Evil.Example.", "bad.actor@evil.example"},
		{KindUserAgent, "  Mozilla/5.0 (X) ", "  Mozilla/5.0 (X) "},
	}
	for _, c := range cases {
		got, err := Normalize(c.kind, c.in)
		if err != nil {
			t.Errorf("Normalize(%s, %q): %v", c.kind, c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
		// The normal form is a fixed point.
		if again, err := Normalize(c.kind, got); err != nil || again != got {
			t.Errorf("Normalize(%s, %q) = %q, %v: not a fixed point", c.kind, got, again, err)
		}
	}
}

func TestNormalizeRefusesWithReason(t *testing.T) {
	cases := []struct {
		kind   Kind
		in     string
		reason string
	}{
		{KindIP, "", "empty"},
		{KindIP, "300.1.1.1", "not an IPv4"},
		{KindIP, "01.2.3.4", "not an IPv4"},
		{KindIP, "fe80::1%eth0", "zone"},
		{KindCIDR, "10.0.0.0/33", "prefix"},
		{KindCIDR, "10.0.0.0/", "prefix"},
		{KindDomain, "com", "two labels"},
		{KindDomain, "a..example", "empty label"},
		{KindDomain, "ev il.example", "character"},
		{KindDomain, "1.2.3.4", "numeric"},
		{KindDomain, strings.Repeat("a", 64) + ".example", "63"},
		{KindDomain, strings.Repeat("abcdefghi.", 26) + "example", "253"},
		{KindDomain, "bad\xffutf8.example", "UTF-8"},
		{KindURL, "evil.example/path", "scheme"},
		{KindURL, "http:///path", "no host"},
		{KindURL, "http://evil.example/a b", "white space"},
		{KindURL, "http://evil.example/%zz", "percent"},
		{KindURL, "1http://evil.example/", "scheme"},
		{KindMD5, "abc", "length"},
		{KindSHA1, strings.Repeat("g", 40), "hexadecimal"},
		{KindSHA256, strings.Repeat("a", 63), "length"},
		{KindEmail, "nobody.example", "'@'"},
		{KindEmail, "@evil.example", "local part"},
		{KindEmail, "a@localhost", "two labels"},
		{KindUserAgent, "", "empty"},
		{KindUserAgent, "a\nb", "control"},
		{Kind("ja3"), "x", "unknown"},
	}
	for _, c := range cases {
		got, err := Normalize(c.kind, c.in)
		if err == nil {
			t.Errorf("Normalize(%s, %q) = %q, want an error", c.kind, c.in, got)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.reason) || !strings.Contains(msg, string(c.kind)) {
			t.Errorf("Normalize(%s, %q) error %q: want the kind and %q", c.kind, c.in, msg, c.reason)
		}
	}
}

func TestInferKinds(t *testing.T) {
	cases := []struct {
		in   string
		kind Kind
		want string
	}{
		{"198.51.100.7", KindIP, "198.51.100.7"},
		{"2001:db8::7", KindIP, "2001:db8::7"},
		{"198.51.100.0/24", KindCIDR, "198.51.100.0/24"},
		{"http://evil.example/x", KindURL, "http://evil.example/x"},
		{"D41D8CD98F00B204E9800998ECF8427E", KindMD5, "d41d8cd98f00b204e9800998ecf8427e"},
		{strings.Repeat("0", 40), KindSHA1, strings.Repeat("0", 40)},
		{strings.Repeat("f", 64), KindSHA256, strings.Repeat("f", 64)},
		{"x@evil.example", KindEmail, "x@evil.example"},
		{"Evil.Example", KindDomain, "evil.example"},
		{"deadbeef.example", KindDomain, "deadbeef.example"},
	}
	for _, c := range cases {
		k, v, err := Infer(c.in)
		if err != nil || k != c.kind || v != c.want {
			t.Errorf("Infer(%q) = %s %q %v, want %s %q", c.in, k, v, err, c.kind, c.want)
		}
	}
	if k, _, err := Infer("2001:db8::zz"); err == nil || k != KindIP {
		t.Errorf("Infer of a bad IPv6 address: kind %s err %v, want an ip error", k, err)
	}
}

// FuzzNormalize: no input panics, an accepted value is a fixed point, and
// Match finds an indicator by its own normal form.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "10.0.0.0/8", "bücher.example", "HTTP://A.b:80/%2f?x#y", "a@b.c", strings.Repeat("a", 32), "::ffff:1.2.3.4/120"} {
		f.Add(s)
	}
	kinds := []Kind{KindIP, KindCIDR, KindDomain, KindURL, KindMD5, KindSHA1, KindSHA256, KindEmail, KindUserAgent}
	f.Fuzz(func(t *testing.T, v string) {
		var inds []Indicator
		var norms []string
		for _, k := range kinds {
			n, err := Normalize(k, v)
			if err != nil {
				continue
			}
			again, err := Normalize(k, n)
			if err != nil || again != n {
				t.Fatalf("%s %q -> %q -> %q, %v: not a fixed point", k, v, n, again, err)
			}
			inds = append(inds, Indicator{Kind: k, Value: v})
			norms = append(norms, n)
		}
		var s Set
		if err := s.Replace("f", inds); err != nil {
			t.Fatalf("Replace of accepted values: %v", err)
		}
		for i, ind := range inds {
			found := false
			for _, m := range s.Match(ind.Kind, norms[i], testNow, nil) {
				found = found || m.Kind == ind.Kind && m.Value == norms[i]
			}
			if !found {
				t.Fatalf("%s %q (normal %q): not matched by its normal form", ind.Kind, v, norms[i])
			}
		}
		Infer(v)
	})
}
