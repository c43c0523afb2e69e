package tenant

import "testing"

func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		site, origin, host string
		want               bool
	}{
		{"", "", "vigil.test", true},
		{"same-origin", "", "vigil.test", true},
		{"none", "", "vigil.test", true},
		{"same-origin", "https://vigil.test", "vigil.test", true},
		{"", "https://VIGIL.test:8443", "vigil.test:8443", true},
		{"cross-site", "", "vigil.test", false},
		{"same-site", "https://vigil.test", "vigil.test", false},
		{"same-origin", "https://evil.test", "vigil.test", false},
		{"", "https://evil.test", "vigil.test", false},
		{"", "null", "vigil.test", false},
		{"", "vigil.test", "vigil.test", false},
	} {
		if got := SameOrigin(c.site, c.origin, c.host); got != c.want {
			t.Errorf("SameOrigin(%q, %q, %q) = %v, want %v", c.site, c.origin, c.host, got, c.want)
		}
	}
}
