package worldmap

import "math"

// Natural Earth's outlines are not cut at the antimeridian: a ring of
// Fiji, of Russia's Chukotka or of Antarctica steps from 180° to -180° (or
// further) between two points. Drawn as they are, those steps streak across
// the whole map. cutRing puts such a ring back together on a continuous
// longitude, closes a ring around a pole along the pole, and cuts the
// result into pieces that each lie within [-180°, 180°].

// cutRing returns r as rings that do not cross the antimeridian; a ring
// that does not cross it comes back as it is.
func cutRing(r Ring) []Ring {
	if len(r) < 4 {
		return nil
	}
	u := unwrap(r)
	minX, maxX := u[0].X, u[0].X
	for _, p := range u {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
	}
	polar := math.Abs(u[len(u)-1].X-u[0].X) > 180
	if polar {
		u = closeAtPole(u)
	}
	kmin := int(math.Floor((minX + 180) / 360))
	kmax := int(math.Ceil((maxX+180)/360)) - 1
	if kmin == kmax && !polar {
		if kmin == 0 {
			return []Ring{r}
		}
		return []Ring{shift(u, -360*float64(kmin))}
	}
	var out []Ring
	for k := kmin; k <= kmax; k++ {
		lo, hi := 360*float64(k)-180, 360*float64(k)+180
		c := clipX(clipX(u, lo, true), hi, false)
		if len(c) < 4 || math.Abs(area(c)) < 1e-9 {
			continue // the ring only touches this strip
		}
		out = append(out, shift(c, -360*float64(k)))
	}
	return out
}

// unwrap makes the longitudes continuous: every step is taken the short
// way round, so a ring that crosses the antimeridian leaves [-180°, 180°]
// instead of jumping, and one around a pole ends 360° from its start.
func unwrap(r Ring) Ring {
	u := make(Ring, len(r))
	u[0] = r[0]
	for i := 1; i < len(r); i++ {
		d := r[i].X - r[i-1].X
		for d > 180 {
			d -= 360
		}
		for d < -180 {
			d += 360
		}
		u[i] = Point{u[i-1].X + d, r[i].Y}
	}
	return u
}

// closeAtPole closes an unwrapped ring that goes once around a pole: from
// its end down (or up) to the pole, along the pole back to the start's
// longitude, and to the start. The pole is the one on the ring's side of
// the equator (Antarctica's south).
func closeAtPole(u Ring) Ring {
	var sum float64
	for _, p := range u {
		sum += p.Y
	}
	pole := 90.0
	if sum < 0 {
		pole = -90
	}
	end, start := u[len(u)-1], u[0]
	out := append(Ring{}, u...)
	// Along the pole in steps, so that no edge of it spans the map.
	n := int(math.Ceil(math.Abs(start.X-end.X) / step))
	for k := 0; k <= n; k++ {
		out = append(out, Point{end.X + (start.X-end.X)*float64(k)/float64(n), pole})
	}
	return append(out, start)
}

// clipX clips a closed ring to the half plane x ≥ edge (keepAbove) or
// x ≤ edge, one edge of Sutherland and Hodgman's algorithm. A concave
// ring cut in several places comes back as one ring whose parts are joined
// by edges along the cut, which have no area and fill nothing.
func clipX(r Ring, edge float64, keepAbove bool) Ring {
	in := func(p Point) bool {
		if keepAbove {
			return p.X >= edge
		}
		return p.X <= edge
	}
	cross := func(a, b Point) Point {
		t := (edge - a.X) / (b.X - a.X)
		return Point{edge, a.Y + t*(b.Y-a.Y)}
	}
	var out Ring
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		switch {
		case in(a) && in(b):
			out = append(out, b)
		case in(a):
			out = append(out, cross(a, b))
		case in(b):
			out = append(out, cross(a, b), b)
		}
	}
	if len(out) > 0 && out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

func shift(r Ring, dx float64) Ring {
	out := make(Ring, len(r))
	for i, p := range r {
		out[i] = Point{p.X + dx, p.Y}
	}
	return out
}

// area is the ring's signed area by the shoelace formula.
func area(r Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i].X*r[i+1].Y - r[i+1].X*r[i].Y
	}
	return a / 2
}
