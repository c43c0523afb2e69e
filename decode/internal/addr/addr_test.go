package addr

import "testing"

func TestIP(t *testing.T) {
	for _, tt := range []struct {
		s        string
		isIP, ip bool // IsIP(s), and IP(s) != ""
	}{
		{"192.0.2.1", true, true},
		{"2001:db8::1", true, true},
		{"::", true, true},
		{"fe80::1%2", true, false},
		{"fe80::1%eth0", false, false},
		{"", false, false},
		{"1", false, false},
		{"cafe", false, false},
		{"host.example", false, false},
		{"192.0.2.1:80", false, false},
		{"[2001:db8::1]", false, false},
		{"0000000000000000000000000000000000000000000000000000000000000000a", false, false},
	} {
		if got := IsIP(tt.s); got != tt.isIP {
			t.Errorf("IsIP(%q) = %v", tt.s, got)
		}
		if got := IP(tt.s); (got != "") != tt.ip || got != "" && got != tt.s {
			t.Errorf("IP(%q) = %q", tt.s, got)
		}
	}
}

func TestIsPort(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "22": true, "65535": true, "65536": false, "": false, "123456": false, "8a": false, "-1": false} {
		if got := IsPort(s); got != want {
			t.Errorf("IsPort(%q) = %v", s, got)
		}
	}
}

func TestIPDoesNotAllocate(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { IsIP("not-an-address"); IP("host.example") }); a != 0 {
		t.Errorf("%.1f allocs", a)
	}
}
