package web

import "testing"

// BenchmarkWorldMap draws the pane's map with every country shaded: the
// outlines are computed once, so a page pays for writing them out.
func BenchmarkWorldMap(b *testing.B) {
	var pts []MapPoint
	for _, c := range []string{"DE", "FR", "US", "CN", "RU", "BR", "JP", "NL", "CA", "FI", "IN", "GB"} {
		pts = append(pts, MapPoint{Country: c, Count: 10, Severity: "high", Link: "/alerts?country=" + c})
	}
	worldMap(MapOptions{Points: pts})
	b.ReportAllocs()
	for b.Loop() {
		worldMap(MapOptions{Points: pts})
	}
}
