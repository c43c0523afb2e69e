package observable

import (
	"testing"

	"github.com/vigil-sec/vigil/intel"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		kind      intel.Kind
		in        string
		wantKind  intel.Kind
		want      string
		wantError bool
	}{
		{intel.KindIP, " 198.51.100.1 ", intel.KindIP, "198.51.100.1", false},
		{intel.KindIP, "::ffff:198.51.100.1", intel.KindIP, "198.51.100.1", false},
		{intel.KindIP, "2001:DB8:0:0::1", intel.KindIP, "2001:db8::1", false},
		{intel.KindIP, "fe80::1%eth0", intel.KindIP, "", true},
		{intel.KindIP, "10.0.0.1/8", intel.KindCIDR, "10.0.0.0/8", false},
		{intel.KindCIDR, "198.51.100.7/32", intel.KindIP, "198.51.100.7", false},
		{intel.KindCIDR, "::ffff:10.0.0.0/104", intel.KindCIDR, "10.0.0.0/8", false},
		{intel.KindCIDR, "10.0.0.0/33", intel.KindCIDR, "", true},
		{intel.KindIP, "300.1.1.1", intel.KindIP, "", true},
		{intel.KindDomain, "WWW.Example.COM.", intel.KindDomain, "www.example.com", false},
		{intel.KindDomain, "198.51.100.1", intel.KindDomain, "", true},
		{intel.KindDomain, "a..example", intel.KindDomain, "", true},
		{intel.KindDomain, "ex ample.com", intel.KindDomain, "", true},
		{intel.KindDomain, "107.183.86", intel.KindDomain, "", true},
		{intel.KindURL, "HTTPS://Evil.Example:8443/A/b?c=D#frag", intel.KindURL, "https://evil.example:8443/A/b?c=D", false},
		{intel.KindURL, "Evil.example/gate.php", intel.KindURL, "http://evil.example/gate.php", false},
		{intel.KindURL, "www.Example.top", intel.KindURL, "http://www.example.top/", false},
		{intel.KindURL, "http://a.example:80/x", intel.KindURL, "http://a.example/x", false},
		{intel.KindURL, "https://a.example:443", intel.KindURL, "https://a.example/", false},
		{intel.KindURL, "https://a.example:8080/", intel.KindURL, "https://a.example:8080/", false},
		{intel.KindURL, "mailto:x@a.example", intel.KindURL, "", true},
		{intel.KindDomain, "localhost", intel.KindDomain, "", true},
		{intel.KindURL, "http://[2001:db8::1]/x", intel.KindURL, "http://[2001:db8::1]/x", false},
		{intel.KindURL, "Data/x.dat", intel.KindURL, "", true},
		{intel.KindURL, "http:///nohost", intel.KindURL, "", true},
		{intel.KindMD5, "001DD76872D80801692FF942308C64E6", intel.KindMD5, "001dd76872d80801692ff942308c64e6", false},
		{intel.KindMD5, "001dd76872d80801692ff942308c64e", intel.KindMD5, "", true},
		{intel.KindSHA1, "zz8064fc152e23d56e541714af52651cb4ba81aa", intel.KindSHA1, "", true},
		{intel.KindEmail, "Boss@Example.ORG", intel.KindEmail, "boss@example.org", false},
		{intel.KindEmail, "no-at.example.org", intel.KindEmail, "", true},
		{intel.KindUserAgent, "Mozilla/5.0 (X)", intel.KindUserAgent, "Mozilla/5.0 (X)", false},
		{intel.KindUserAgent, "a\nb", intel.KindUserAgent, "", true},
		{"asn", "1", "asn", "", true},
		{intel.KindDomain, "", intel.KindDomain, "", true},
	}
	for _, c := range cases {
		k, v, err := Normalize(c.kind, c.in)
		if (err != nil) != c.wantError || (!c.wantError && (k != c.wantKind || v != c.want)) {
			t.Errorf("Normalize(%s, %q) = %s %q %v; want %s %q error=%v", c.kind, c.in, k, v, err, c.wantKind, c.want, c.wantError)
		}
		if err == nil {
			// Normalizing twice changes nothing.
			if k2, v2, err := Normalize(k, v); err != nil || k2 != k || v2 != v {
				t.Errorf("Normalize(%s, %q) again = %s %q %v", k, v, k2, v2, err)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "10.0.0.1/8", "::ffff:1.2.3.4", "Evil.Example.com.", "HTTP://a.example:80/x#y", "a.example/x", "Boss@Example.org", "001DD76872D80801692FF942308C64E6"} {
		f.Add(s)
	}
	kinds := []intel.Kind{intel.KindIP, intel.KindCIDR, intel.KindDomain, intel.KindURL, intel.KindMD5, intel.KindSHA1, intel.KindSHA256, intel.KindEmail, intel.KindUserAgent}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range kinds {
			k2, v, err := Normalize(k, s)
			if err != nil {
				continue
			}
			// What is accepted is a fixed point.
			if k3, v2, err := Normalize(k2, v); err != nil || k3 != k2 || v2 != v {
				t.Fatalf("Normalize(%s, %q) = %s %q; again %s %q %v", k, s, k2, v, k3, v2, err)
			}
		}
	})
}
