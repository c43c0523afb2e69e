package store

import (
	"errors"
	"net/netip"
	"testing"
)

func TestNormalizeDecision(t *testing.T) {
	for _, c := range []struct{ kind, in, want string }{
		{DecisionIP, " 203.0.113.7 ", "203.0.113.7"},
		{DecisionIP, "::ffff:203.0.113.7", "203.0.113.7"},
		{DecisionIP, "2001:DB8::1", "2001:db8::1"},
		{DecisionRange, "198.51.100.77/24", "198.51.100.0/24"},
		{DecisionRange, "::ffff:198.51.100.0/120", "198.51.100.0/24"},
		{DecisionRange, "2001:db8::/32", "2001:db8::/32"},
		{DecisionAccount, " alice ", "alice"},
	} {
		got, err := NormalizeDecision(c.kind, c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeDecision(%s, %q) = %q, %v; want %q", c.kind, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ kind, in string }{
		{DecisionIP, "0.0.0.0"}, {DecisionIP, "fe80::1%eth0"}, {DecisionIP, "10.0.0.0/8"},
		{DecisionRange, "0.0.0.0/0"}, {DecisionRange, "10.0.0.0/7"}, {DecisionRange, "::/8"}, {DecisionRange, "::ffff:0.0.0.0/90"},
		{DecisionAccount, ""}, {DecisionAccount, "a\x00b"}, {"host", "x"},
	} {
		if _, err := NormalizeDecision(c.kind, c.in); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeDecision(%s, %q): err = %v, want ErrInvalid", c.kind, c.in, err)
		}
	}
}

// FuzzNormalizeDecision: whatever the input, a value that passes is
// canonical (normalizing it again changes nothing) and of its kind.
func FuzzNormalizeDecision(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "::ffff:1.2.3.4", "198.51.100.0/24", "::ffff:0.0.0.0/96", "2001:db8::/32", "alice", "fe80::1%eth0", ""} {
		f.Add("ip", s)
		f.Add("range", s)
		f.Add("account", s)
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		v, err := NormalizeDecision(kind, value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := NormalizeDecision(kind, v)
		if err != nil || again != v {
			t.Fatalf("NormalizeDecision(%s, %q) = %q, then %q, %v", kind, value, v, again, err)
		}
		switch kind {
		case DecisionIP:
			if a, err := netip.ParseAddr(v); err != nil || a.Is4In6() {
				t.Fatalf("ip %q", v)
			}
		case DecisionRange:
			if p, err := netip.ParsePrefix(v); err != nil || p != p.Masked() {
				t.Fatalf("range %q", v)
			}
		}
	})
}
