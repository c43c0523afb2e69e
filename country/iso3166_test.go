package country

import (
	"math"
	"testing"
)

func TestTable(t *testing.T) {
	all := All()
	if len(all) != 249 {
		t.Errorf("%d countries, want ISO 3166-1's 249", len(all))
	}
	nums := map[string]string{}
	for _, c := range all {
		if len(c.Alpha2) != 2 || len(c.Numeric) != 3 || c.Name == "" {
			t.Errorf("%+v", c)
		}
		if o, dup := nums[c.Numeric]; dup {
			t.Errorf("numeric %s is both %s and %s", c.Numeric, o, c.Alpha2)
		}
		nums[c.Numeric] = c.Alpha2
	}
	for a2, num := range map[string]string{"DE": "276", "FR": "250", "JP": "392", "BR": "076", "US": "840", "GB": "826", "RU": "643"} {
		c, ok := ByAlpha2(a2)
		if !ok || c.Numeric != num {
			t.Errorf("%s: %+v, want numeric %s", a2, c, num)
		}
		if back, ok := ByNumeric(num); !ok || back.Alpha2 != a2 {
			t.Errorf("numeric %s: %+v, want %s", num, back, a2)
		}
	}
	if c, ok := ByAlpha2("de"); !ok || c.Name != "Germany" {
		t.Errorf("lower case de: %+v %v", c, ok)
	}
	if _, ok := ByAlpha2("ZZ"); ok {
		t.Error("ZZ found")
	}
}

func TestCentres(t *testing.T) {
	n := 0
	for _, c := range All() {
		lat, lon, ok := Centre(c.Alpha2)
		if !ok {
			continue
		}
		n++
		if math.Abs(lat) > 90 || math.Abs(lon) > 180 {
			t.Errorf("%s: centre %v, %v", c.Alpha2, lat, lon)
		}
	}
	if n < 150 {
		t.Errorf("%d countries with a centre", n)
	}
	for a2 := range centres {
		if _, ok := ByAlpha2(a2); !ok {
			t.Errorf("centre of %s, which is not in the ISO table", a2)
		}
	}
	// Singapore is too small for the map's outlines; its centre is what
	// places it.
	if lat, lon, ok := Centre("sg"); !ok || math.Abs(lat-1.4) > 1 || math.Abs(lon-103.8) > 1 {
		t.Errorf("Singapore: %v, %v, %v", lat, lon, ok)
	}
}
