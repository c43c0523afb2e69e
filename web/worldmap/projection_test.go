package worldmap

import (
	"math"
	"testing"
)

// Natural Earth I's extent: the equator is 0.8707·π long each side, the
// pole 1.4223 up (Šavrič et al., 2011); the projection is symmetric and x
// grows with the longitude along every parallel.
func TestNaturalEarth(t *testing.T) {
	x, y := naturalEarth(180, 0)
	if math.Abs(x-0.8707*math.Pi) > 1e-4 || y != 0 {
		t.Errorf("(180°, 0°) → (%v, %v)", x, y)
	}
	if _, y := naturalEarth(0, 90); math.Abs(y-1.4223) > 1e-3 {
		t.Errorf("the pole at y %v, want 1.4223", y)
	}
	for lat := -90.0; lat <= 90; lat += 15 {
		x1, y1 := naturalEarth(-120, lat)
		x2, y2 := naturalEarth(120, lat)
		if x1 != -x2 || y1 != y2 {
			t.Errorf("not symmetric at %v°: %v,%v vs %v,%v", lat, x1, y1, x2, y2)
		}
		prev := math.Inf(-1)
		for lon := -180.0; lon <= 180; lon += 10 {
			x, _ := naturalEarth(lon, lat)
			if x <= prev {
				t.Errorf("x does not grow with longitude at %v°, %v°", lon, lat)
			}
			prev = x
		}
	}
}
