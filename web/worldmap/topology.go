package worldmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// This file reads TopoJSON (the TopoJSON Format Specification, 1.0) as far
// as a map of areas needs: a Topology with its optional transform, its
// arcs, and Polygon, MultiPolygon and GeometryCollection objects made of
// them. Points and lines are not areas and are refused.

// Point is a position in the topology's coordinates: longitude and
// latitude in degrees for world-atlas.
type Point struct{ X, Y float64 }

// Ring is a closed ring: its last point equals its first.
type Ring []Point

// Polygon is an exterior ring followed by its holes.
type Polygon []Ring

// Feature is one geometry of an object with its id and name.
type Feature struct {
	// ID is the geometry's id as a string (a number is written in
	// decimal); empty when it has none.
	ID string
	// Name is properties.name, when it is a string.
	Name     string
	Polygons []Polygon
}

// Topology is a decoded TopoJSON topology: its arcs in absolute
// coordinates (the transform applied, the deltas summed) and its objects
// still to resolve.
type Topology struct {
	arcs    [][]Point
	objects map[string]geometry
}

// geometry is a TopoJSON geometry object as it is written.
type geometry struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties json.RawMessage `json:"properties"`
	// Arcs is [][]int for a Polygon, [][][]int for a MultiPolygon.
	Arcs       json.RawMessage `json:"arcs"`
	Geometries []geometry      `json:"geometries"`
}

type topologyFile struct {
	Type      string `json:"type"`
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	// Positions may carry more than two numbers; only x and y count here.
	Arcs    [][][]float64       `json:"arcs"`
	Objects map[string]geometry `json:"objects"`
}

// Decode reads a TopoJSON topology. With a transform, the arcs are
// quantized and delta-encoded: each position is the difference to the one
// before it (the first is absolute), and a position is mapped to the data's
// coordinates by scale and translate once summed.
func Decode(b []byte) (*Topology, error) {
	var f topologyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("topojson: %w", err)
	}
	if f.Type != "Topology" {
		return nil, fmt.Errorf("topojson: type %q, want Topology", f.Type)
	}
	t := &Topology{arcs: make([][]Point, len(f.Arcs)), objects: f.Objects}
	for i, arc := range f.Arcs {
		pts := make([]Point, len(arc))
		var x, y float64
		for j, pos := range arc {
			if len(pos) < 2 {
				return nil, fmt.Errorf("topojson: arc %d position %d has %d numbers, want at least 2", i, j, len(pos))
			}
			if f.Transform == nil {
				pts[j] = Point{pos[0], pos[1]}
				continue
			}
			x, y = x+pos[0], y+pos[1]
			pts[j] = Point{x*f.Transform.Scale[0] + f.Transform.Translate[0], y*f.Transform.Scale[1] + f.Transform.Translate[1]}
		}
		t.arcs[i] = pts
	}
	return t, nil
}

// Features resolves the named object into its features: a
// GeometryCollection gives one a member (nested collections are
// flattened), any other geometry one.
func (t *Topology) Features(object string) ([]Feature, error) {
	g, ok := t.objects[object]
	if !ok {
		return nil, fmt.Errorf("topojson: no object %q", object)
	}
	var out []Feature
	var walk func(g geometry) error
	walk = func(g geometry) error {
		if g.Type == "GeometryCollection" {
			for _, m := range g.Geometries {
				if err := walk(m); err != nil {
					return err
				}
			}
			return nil
		}
		f, err := t.feature(g)
		if err != nil {
			return fmt.Errorf("topojson: object %q, geometry %s: %w", object, f.ID, err)
		}
		out = append(out, f)
		return nil
	}
	if err := walk(g); err != nil {
		return nil, err
	}
	return out, nil
}

func (t *Topology) feature(g geometry) (Feature, error) {
	f := Feature{ID: geometryID(g.ID)}
	var props struct {
		Name any `json:"name"`
	}
	if len(g.Properties) > 0 && json.Unmarshal(g.Properties, &props) == nil {
		f.Name, _ = props.Name.(string)
	}
	switch g.Type {
	case "Polygon":
		var rings [][]int
		if err := json.Unmarshal(g.Arcs, &rings); err != nil {
			return f, fmt.Errorf("polygon arcs: %w", err)
		}
		p, err := t.polygon(rings)
		if err != nil {
			return f, err
		}
		f.Polygons = []Polygon{p}
	case "MultiPolygon":
		var polys [][][]int
		if err := json.Unmarshal(g.Arcs, &polys); err != nil {
			return f, fmt.Errorf("multipolygon arcs: %w", err)
		}
		for _, rings := range polys {
			p, err := t.polygon(rings)
			if err != nil {
				return f, err
			}
			f.Polygons = append(f.Polygons, p)
		}
	case "", "null":
		// A geometry without coordinates (the specification's null type).
	default:
		return f, fmt.Errorf("type %s is not an area", g.Type)
	}
	return f, nil
}

// geometryID writes an id that may be a string or a number as a string.
func geometryID(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func (t *Topology) polygon(rings [][]int) (Polygon, error) {
	p := make(Polygon, 0, len(rings))
	for _, idx := range rings {
		r, err := t.ring(idx)
		if err != nil {
			return nil, err
		}
		p = append(p, r)
	}
	return p, nil
}

var errOpenRing = errors.New("ring does not close")

// ring stitches arcs into a ring. An index i refers to arc i; a negative
// one, ~i (that is -i-1), to arc i walked backwards. Consecutive arcs
// share their meeting point, which is kept once.
func (t *Topology) ring(idx []int) (Ring, error) {
	var r Ring
	for k, i := range idx {
		rev := i < 0
		if rev {
			i = ^i
		}
		if i >= len(t.arcs) {
			return nil, fmt.Errorf("arc %d of %d", i, len(t.arcs))
		}
		arc := t.arcs[i]
		n := len(arc)
		for j := range n {
			if k > 0 && j == 0 {
				continue // the previous arc's last point
			}
			if rev {
				r = append(r, arc[n-1-j])
			} else {
				r = append(r, arc[j])
			}
		}
	}
	if len(r) < 4 || r[0] != r[len(r)-1] {
		return nil, fmt.Errorf("arcs %v: %w", idx, errOpenRing)
	}
	return r, nil
}

// String is for test failures.
func (p Point) String() string {
	return "(" + strconv.FormatFloat(p.X, 'f', -1, 64) + " " + strconv.FormatFloat(p.Y, 'f', -1, 64) + ")"
}
