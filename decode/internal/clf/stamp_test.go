package clf

import (
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	for _, c := range []struct {
		in   string
		loc  *time.Location
		want string
		n    int
	}{
		{"10/Oct/2000:13:55:36 -0700] x", nil, "2000-10-10T20:55:36Z", 26},
		{"10/Oct/2000:13:55:36 +0130", nil, "2000-10-10T12:25:36Z", 26},
		{"06/Feb/2009:12:14:14.655] f", nil, "2009-02-06T12:14:14.655Z", 24}, // HAProxy: no offset
		{"06/Feb/2009:12:14:14", paris, "2009-02-06T11:14:14Z", 20},          // no offset: loc
		{"06/Feb/2009:12:14:14 +0000", paris, "2009-02-06T12:14:14Z", 26},    // an offset wins over loc
	} {
		got, n, ok := Stamp(c.in, c.loc)
		if !ok || n != c.n || got.Format(time.RFC3339Nano) != c.want {
			t.Errorf("Stamp(%q) = %v %d %v, want %s %d", c.in, got, n, ok, c.want, c.n)
		}
	}
	for _, bad := range []string{"", "31/Apr/2024:08:00:00 +0000", "06/Mai/2024:08:00:00", "06/Feb/2009:24:00:00", "6/Feb/2009:12:14:14", "06/Feb/2009:12:14:14 +1560"} {
		if _, _, ok := Stamp(bad, nil); ok {
			t.Errorf("Stamp(%q) accepted", bad)
		}
	}
}
