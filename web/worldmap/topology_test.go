package worldmap

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(a, b Point) bool { return math.Abs(a.X-b.X) < 1e-9 && math.Abs(a.Y-b.Y) < 1e-9 }

func sameRing(t *testing.T, what string, got Ring, want ...Point) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d points %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Fatalf("%s: point %d is %v, want %v (ring %v)", what, i, got[i], want[i], got)
		}
	}
}

// A square of two arcs that meet at (0,0) and (10,10): the second is
// walked backwards (~1). Without a transform the positions are absolute.
func TestDecodeReversedArcs(t *testing.T) {
	topo := `{"type":"Topology","objects":{"sq":{"type":"Polygon","id":7,"properties":{"name":"Square"},"arcs":[[0,-2]]}},
	  "arcs":[[[0,0],[10,0],[10,10]], [[0,0],[0,10],[10,10]]]}`
	tp, err := Decode([]byte(topo))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tp.Features("sq")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].ID != "7" || fs[0].Name != "Square" || len(fs[0].Polygons) != 1 {
		t.Fatalf("features %+v", fs)
	}
	sameRing(t, "square", fs[0].Polygons[0][0], Point{0, 0}, Point{10, 0}, Point{10, 10}, Point{0, 10}, Point{0, 0})
}

// With a transform, arcs are quantized and delta-encoded: positions are
// summed, then scaled and translated.
func TestDecodeQuantizedDeltaArcs(t *testing.T) {
	topo := `{"type":"Topology",
	  "transform":{"scale":[0.5,0.25],"translate":[100,-20]},
	  "objects":{"c":{"type":"GeometryCollection","geometries":[
	    {"type":"MultiPolygon","id":"250","arcs":[[[0]],[[1],[-3]]]},
	    {"type":"Polygon","id":"276","arcs":[[-2]]}
	  ]}},
	  "arcs":[
	    [[0,0],[4,0],[0,4],[-4,-4]],
	    [[10,10],[8,0],[0,8],[-8,0],[0,-8]],
	    [[12,12],[0,2],[2,0],[-2,-2]]
	  ]}`
	tp, err := Decode([]byte(topo))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tp.Features("c")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].ID != "250" || fs[1].ID != "276" {
		t.Fatalf("features %+v", fs)
	}
	fr := fs[0]
	if len(fr.Polygons) != 2 || len(fr.Polygons[1]) != 2 {
		t.Fatalf("250: %+v", fr.Polygons)
	}
	// Arc 0: (0,0) (4,0) (4,4) (0,0) quantized → x*0.5+100, y*0.25-20.
	sameRing(t, "triangle", fr.Polygons[0][0], Point{100, -20}, Point{102, -20}, Point{102, -19}, Point{100, -20})
	// Arc 1: (10,10) (18,10) (18,18) (10,18) (10,10).
	sameRing(t, "square", fr.Polygons[1][0], Point{105, -17.5}, Point{109, -17.5}, Point{109, -15.5}, Point{105, -15.5}, Point{105, -17.5})
	// Arc 2 backwards, as a hole: (12,12) (12,14) (14,14) (12,12) reversed.
	sameRing(t, "hole", fr.Polygons[1][1], Point{106, -17}, Point{107, -16.5}, Point{106, -16.5}, Point{106, -17})
	sameRing(t, "276 is arc 1 reversed", fs[1].Polygons[0][0], Point{105, -17.5}, Point{105, -15.5}, Point{109, -15.5}, Point{109, -17.5}, Point{105, -17.5})
}

func TestDecodeRefuses(t *testing.T) {
	for name, c := range map[string]struct{ topo, want string }{
		"not a topology": {`{"type":"FeatureCollection"}`, "want Topology"},
		"not json":       {`{"type":`, "topojson"},
		"a point":        {`{"type":"Topology","objects":{"o":{"type":"Point","coordinates":[1,2]}},"arcs":[]}`, "not an area"},
		"no such arc":    {`{"type":"Topology","objects":{"o":{"type":"Polygon","arcs":[[3]]}},"arcs":[[[0,0],[1,1]]]}`, "arc 3 of 1"},
		"open ring":      {`{"type":"Topology","objects":{"o":{"type":"Polygon","arcs":[[0]]}},"arcs":[[[0,0],[1,0],[1,1],[0,1]]]}`, "does not close"},
		"short position": {`{"type":"Topology","objects":{},"arcs":[[[0]]]}`, "want at least 2"},
	} {
		tp, err := Decode([]byte(c.topo))
		if err == nil {
			_, err = tp.Features("o")
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	tp, err := Decode([]byte(`{"type":"Topology","objects":{"o":{"type":"Polygon","arcs":[[0]]}},"arcs":[[[0,0],[1,0],[1,1],[0,1]]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Features("o"); !errors.Is(err, errOpenRing) {
		t.Errorf("open ring: %v", err)
	}
	if _, err := tp.Features("nope"); err == nil {
		t.Error("a missing object gave no error")
	}
}
