package worldmap

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/country"
)

// An island across the antimeridian, from 178°E to 178°W, written as
// Natural Earth writes it: its ring steps from 180 to -180 and back.
func TestCutRingAcrossTheAntimeridian(t *testing.T) {
	r := Ring{{178, -16}, {180, -16}, {-180, -16}, {-178, -16}, {-178, -18}, {-180, -18}, {180, -18}, {178, -18}, {178, -16}}
	pieces := cutRing(r)
	if len(pieces) != 2 {
		t.Fatalf("%d pieces %v, want 2", len(pieces), pieces)
	}
	var total float64
	for _, p := range pieces {
		minX, maxX := p[0].X, p[0].X
		for _, q := range p {
			minX, maxX = math.Min(minX, q.X), math.Max(maxX, q.X)
		}
		if minX < -180 || maxX > 180 || maxX-minX > 2+1e-9 {
			t.Errorf("piece %v spans %.1f..%.1f, want one side of 180°", p, minX, maxX)
		}
		total += math.Abs(area(p))
	}
	if math.Abs(total-8) > 1e-9 {
		t.Errorf("pieces' area %.3f, want the island's 8", total)
	}
}

// A ring around the south pole (Antarctica's shape) comes back closed
// along the pole, within [-180°, 180°], with the area down to the pole.
func TestCutRingAroundAPole(t *testing.T) {
	var r Ring
	for lon := -180.0; lon <= 180; lon += 30 {
		r = append(r, Point{lon, -70})
	}
	r = append(r, r[0]) // Natural Earth closes it with the step from 180 to -180
	pieces := cutRing(r)
	if len(pieces) != 1 {
		t.Fatalf("%d pieces, want 1: %v", len(pieces), pieces)
	}
	p := pieces[0]
	if got := math.Abs(area(p)); math.Abs(got-360*20) > 1e-6 {
		t.Errorf("area %.1f, want 360°×20° = 7200 (the cap down to the pole)", got)
	}
	for _, q := range p {
		if q.X < -180 || q.X > 180 || q.Y < -90 || q.Y > -70 {
			t.Errorf("point %v outside the cap", q)
		}
	}
}

func TestCutRingLeavesOthersAlone(t *testing.T) {
	r := Ring{{10, 50}, {20, 50}, {20, 55}, {10, 50}}
	got := cutRing(r)
	if len(got) != 1 || len(got[0]) != len(r) || got[0][1] != r[1] {
		t.Errorf("cutRing(%v) = %v", r, got)
	}
}

// pathPoints reads this package's path data (M x,y then l dx,dy … Z) into
// rings of absolute points.
func pathPoints(t *testing.T, d string) [][]Point {
	t.Helper()
	var rings [][]Point
	var cur []Point
	var at Point
	for _, tok := range strings.FieldsFunc(d, func(r rune) bool { return r == 'Z' }) {
		i := 0
		for i < len(tok) {
			op := tok[i]
			j := i + 1
			for j < len(tok) && tok[j] != 'M' && tok[j] != 'l' {
				j++
			}
			xs, ys, ok := strings.Cut(tok[i+1:j], ",")
			x, err1 := strconv.ParseFloat(xs, 64)
			y, err2 := strconv.ParseFloat(ys, 64)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("bad path element %q", tok[i:j])
			}
			switch op {
			case 'M':
				if len(cur) > 0 {
					rings = append(rings, cur)
				}
				at = Point{x, y}
				cur = []Point{at}
			case 'l':
				at = Point{at.X + x, at.Y + y}
				cur = append(cur, at)
			default:
				t.Fatalf("unknown path command %q", op)
			}
			i = j
		}
		if len(cur) > 0 {
			cur = append(cur, cur[0]) // Z
			rings = append(rings, cur)
			cur = nil
		}
	}
	return rings
}

// The world map has no edge that crosses more than half of it: shapes
// across the antimeridian are cut, not streaked from one side to the
// other; and Fiji and Russia, which cross it, are drawn on both sides.
func TestWorldMapDoesNotStreakAcrossTheAntimeridian(t *testing.T) {
	m, err := World()
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != Width || m.Height < Width/2.2 || m.Height > Width/1.8 {
		t.Errorf("map %v×%v, want Natural Earth's proportions (about 1.9:1)", m.Width, m.Height)
	}
	// The atlas does cross it, so that the check means something.
	tp, err := Decode(atlas)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tp.Features("countries")
	if err != nil {
		t.Fatal(err)
	}
	jumps := map[string]bool{}
	for _, f := range fs {
		for _, p := range f.Polygons {
			for _, r := range p {
				for i := 1; i < len(r); i++ {
					if math.Abs(r[i].X-r[i-1].X) > 180 {
						jumps[f.ID] = true
					}
				}
			}
		}
	}
	for _, id := range []string{"242", "643", "010"} {
		if !jumps[id] {
			t.Errorf("the atlas's %s does not cross the antimeridian: the test checks nothing there", id)
		}
	}
	drawn := 0
	for _, c := range m.Countries {
		rings := pathPoints(t, c.Path)
		if len(rings) == 0 {
			t.Errorf("country %s (%s) has no shape", c.ID, c.Name)
			continue
		}
		drawn++
		west, east := false, false
		for _, r := range rings {
			for i, p := range r {
				if p.X < -1 || p.X > m.Width+1 || p.Y < -1 || p.Y > m.Height+1 {
					t.Errorf("%s (%s): point %v outside the map", c.ID, c.Name, p)
				}
				if i > 0 && math.Abs(p.X-r[i-1].X) > m.Width/2 {
					t.Errorf("%s (%s): an edge from %v to %v spans more than half the map", c.ID, c.Name, r[i-1], p)
				}
				// (Chukotka, at 66°N, lies within a fifth of the edge.)
				west = west || p.X < m.Width*0.2
				east = east || p.X > m.Width*0.8
			}
		}
		if (c.ID == "242" || c.ID == "643") && !(west && east) {
			t.Errorf("%s (%s) should be drawn at both edges of the map (west %v, east %v)", c.ID, c.Name, west, east)
		}
	}
	if drawn != 177 {
		t.Errorf("%d countries drawn, want the atlas's 177", drawn)
	}
	// The marker of a country sits inside the map, in its own region.
	de, ok := m.Country("276")
	if !ok {
		t.Fatal("no Germany (276)")
	}
	x, y := m.Project(10.4, 51.1)
	if math.Hypot(de.X-x, de.Y-y) > 15 {
		t.Errorf("Germany's marker at (%.1f, %.1f), want near (%.1f, %.1f)", de.X, de.Y, x, y)
	}
}

// Every shape with an id on the map has its country in the ISO table, so
// that an alert's alpha-2 country finds its shape.
func TestEveryMapCountryIsInTheTable(t *testing.T) {
	m, err := World()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range m.Countries {
		if c.ID == "" {
			continue // N. Cyprus, Somaliland, Kosovo: no ISO numeric code
		}
		n++
		if _, ok := country.ByNumeric(c.ID); !ok {
			t.Errorf("map country %s (%s) is not in the ISO table", c.ID, c.Name)
		}
	}
	if n < 170 {
		t.Errorf("only %d countries with an id", n)
	}
}
