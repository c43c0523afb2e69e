// Package worldmap draws the world's countries for the dashboard's threat
// map: it decodes Natural Earth's 1:110m country outlines (TopoJSON from
// world-atlas 2.0.2, embedded), cuts them at the antimeridian, projects
// them with Natural Earth I and keeps each country as SVG path data,
// computed once and shared by every page.
package worldmap

import (
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// atlas is world-atlas@2.0.2's countries-110m.json, unchanged: Natural
// Earth's outlines (public domain) in a topology by Mike Bostock (ISC,
// LICENSE_world-atlas.txt).
//
//go:embed countries-110m.json
var atlas []byte

// Credit is what the map says of its outlines' origin.
const Credit = "Outlines: Natural Earth (public domain), via world-atlas 2.0.2 (ISC)"

// Width is the width of the map's coordinate space (the SVG's viewBox);
// Map.Height follows from the projection.
const Width = 960.0

// pad keeps the outline's stroke inside the view.
const pad = 2.0

// Country is one country's shape on the map.
type Country struct {
	// ID is its ISO 3166-1 numeric code ("276"); empty for the few shapes
	// that have none (N. Cyprus, Somaliland, Kosovo).
	ID   string
	Name string
	// Path is SVG path data, in map coordinates; its rings are to be
	// filled with fill-rule evenodd (holes such as Lesotho in South
	// Africa are rings of their own).
	Path string
	// X, Y is where a marker for the whole country goes: the centroid
	// of its largest piece.
	X, Y float64
}

// Map is the projected world.
type Map struct {
	Width, Height float64
	// Outline is the path data of the globe's edge (the sphere), to draw
	// the sea.
	Outline   string
	Countries []Country
	// PathBytes is the length of all countries' paths, for sizing the
	// buffer a map is written to.
	PathBytes int
	byID      map[string]int
	scale     float64
}

var world = sync.OnceValues(func() (*Map, error) { return build(atlas, "countries") })

// World is the map of the embedded atlas, built on first use.
func World() (*Map, error) { return world() }

// Country finds a country by its ISO numeric code.
func (m *Map) Country(id string) (Country, bool) {
	i, ok := m.byID[id]
	if !ok {
		return Country{}, false
	}
	return m.Countries[i], true
}

// Project maps a longitude and latitude in degrees to map coordinates.
func (m *Map) Project(lon, lat float64) (x, y float64) {
	px, py := naturalEarth(lon, lat)
	return m.Width/2 + px*m.scale, m.Height/2 - py*m.scale
}

// build decodes a topology and projects the object's features.
func build(topo []byte, object string) (*Map, error) {
	t, err := Decode(topo)
	if err != nil {
		return nil, fmt.Errorf("worldmap: %w", err)
	}
	fs, err := t.Features(object)
	if err != nil {
		return nil, fmt.Errorf("worldmap: %w", err)
	}
	xmax, _ := naturalEarth(180, 0)
	_, ymax := naturalEarth(0, 90)
	m := &Map{Width: Width, byID: map[string]int{}}
	m.scale = (Width - 2*pad) / (2 * xmax)
	m.Height = math.Ceil(2*ymax*m.scale + 2*pad)
	m.Outline = m.outline()
	for _, f := range fs {
		c := Country{ID: f.ID, Name: f.Name}
		var b strings.Builder
		var best float64
		for _, poly := range f.Polygons {
			for ri, ring := range poly {
				for _, piece := range cutRing(ring) {
					pr := m.projectRing(piece)
					if len(pr) < 4 {
						continue
					}
					writeRing(&b, pr)
					// Markers go on the largest exterior piece.
					if a := math.Abs(area(pr)); ri == 0 && a > best {
						best = a
						c.X, c.Y = centroid(pr)
					}
				}
			}
		}
		c.Path = b.String()
		m.PathBytes += len(c.Path)
		if c.ID != "" {
			m.byID[c.ID] = len(m.Countries)
		}
		m.Countries = append(m.Countries, c)
	}
	return m, nil
}

// step is the longest step, in degrees, between two points that are
// projected as they are: longer edges (along a cut, the globe's edge) are
// divided so that they follow the projection's curves.
const step = 2.0

// projectRing projects a ring in degrees, dividing long edges and
// dropping points that fall on the one before at the map's precision. An
// edge longer than 180° in longitude is no edge of a shape but a jump
// across the antimeridian, which cutRing takes out: it is left whole, so
// that one that slipped through shows (and fails the map's test).
func (m *Map) projectRing(r Ring) Ring {
	out := make(Ring, 0, len(r))
	add := func(lon, lat float64) {
		x, y := m.Project(lon, lat)
		p := Point{round1(x), round1(y)}
		if len(out) > 0 && out[len(out)-1] == p {
			return
		}
		out = append(out, p)
	}
	for i, p := range r {
		if i > 0 {
			q := r[i-1]
			if n := int(math.Max(math.Abs(p.X-q.X), math.Abs(p.Y-q.Y)) / step); n > 0 && math.Abs(p.X-q.X) <= 180 {
				for k := 1; k <= n; k++ {
					t := float64(k) / float64(n+1)
					add(q.X+t*(p.X-q.X), q.Y+t*(p.Y-q.Y))
				}
			}
		}
		add(p.X, p.Y)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// writeRing appends a closed ring as SVG path data: a move to its first
// point, then each next point relative to the one before (shorter than
// absolute coordinates), then close.
func writeRing(b *strings.Builder, r Ring) {
	var prev Point
	for i, p := range r {
		if i == len(r)-1 && p == r[0] {
			break // Z closes it
		}
		if i == 0 {
			b.WriteByte('M')
			writeXY(b, p.X, p.Y)
		} else {
			b.WriteByte('l')
			writeXY(b, p.X-prev.X, p.Y-prev.Y)
		}
		prev = p
	}
	b.WriteByte('Z')
}

// writeXY writes a pair of coordinates to one decimal, without a trailing
// ".0".
func writeXY(b *strings.Builder, x, y float64) {
	for i, v := range [2]float64{x, y} {
		if i == 1 {
			b.WriteByte(',')
		}
		s := strconv.FormatFloat(v, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
		if s == "-0" {
			s = "0"
		}
		b.WriteString(s)
	}
}

// outline is the globe's edge: the meridian of 180° west from pole to
// pole and that of 180° east back.
func (m *Map) outline() string {
	var r Ring
	for lat := 90.0; lat >= -90; lat -= step {
		r = append(r, Point{-180, lat})
	}
	for lat := -90.0; lat <= 90; lat += step {
		r = append(r, Point{180, lat})
	}
	r = append(r, r[0])
	var b strings.Builder
	writeRing(&b, m.projectRing(r))
	return b.String()
}

// centroid is the centre of mass of a ring's area.
func centroid(r Ring) (x, y float64) {
	var a, cx, cy float64
	for i := 0; i+1 < len(r); i++ {
		f := r[i].X*r[i+1].Y - r[i+1].X*r[i].Y
		a += f
		cx += (r[i].X + r[i+1].X) * f
		cy += (r[i].Y + r[i+1].Y) * f
	}
	if a == 0 {
		return r[0].X, r[0].Y
	}
	return round1(cx / (3 * a)), round1(cy / (3 * a))
}
