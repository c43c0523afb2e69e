package web

import (
	"regexp"
	"strings"
	"testing"
)

func TestShadeClass(t *testing.T) {
	if shadeClass(0, 10) != 0 || shadeClass(1, 1) != shadeClasses || shadeClass(10, 10) != shadeClasses {
		t.Errorf("ends: %d %d %d", shadeClass(0, 10), shadeClass(1, 1), shadeClass(10, 10))
	}
	if shadeClass(1, 1000) != 1 {
		t.Errorf("one alert of 1000: class %d, want 1", shadeClass(1, 1000))
	}
	prev := 0
	for n := int64(1); n <= 1000; n++ {
		c := shadeClass(n, 1000)
		if c < prev || c < 1 || c > shadeClasses {
			t.Fatalf("class of %d is %d after %d", n, c, prev)
		}
		prev = c
	}
	// Logarithmic: 10 of 10,000 is in a low class, not washed out to 1.
	if c := shadeClass(100, 10000); c != 3 {
		t.Errorf("100 of 10,000: class %d, want the middle one", c)
	}
}

// shapeOf finds the element (path or circle) whose title starts with
// prefix and returns its opening tag.
func tagWithTitle(out, elem, prefix string) string {
	re := regexp.MustCompile(`<` + elem + ` [^>]*><title>` + regexp.QuoteMeta(prefix))
	m := re.FindString(out)
	return m
}

func TestWorldMapShadesCountriesAndDrawsOrigins(t *testing.T) {
	out := string(worldMap(MapOptions{Label: "origins", Points: []MapPoint{
		{Country: "DE", Count: 1000, Severity: "high", Link: "/alerts?country=DE&since=x"},
		{Country: "fr", Count: 1, Severity: "low", Link: "/alerts?country=FR"},
		{Country: "JP", Count: 5, Severity: "medium", Label: "Japan <script>", Link: "/alerts?country=JP"},
		{Country: "JP", Lat: 35.7, Lon: 139.7, HasLocation: true, Count: 5, Severity: "critical", Label: "Tokyo"},
		{Country: "ZZ", Count: 7},                             // no such country: left out
		{Country: "SG", Count: 3, Link: "/alerts?country=SG"}, // too small for the map: a circle
		{Country: "US", Count: 0, Severity: "info"},           // shaded by nothing
	}}))
	if strings.Contains(out, "<script>") {
		t.Fatal("a label is not escaped")
	}
	if !strings.HasPrefix(out, `<figure class="worldmap"><svg class="map" viewBox="0 0 960 `) {
		t.Errorf("map starts %.120q", out)
	}
	de := tagWithTitle(out, "path", "Germany: 1,000 alerts, worst high")
	if !strings.Contains(de, "shade-5") {
		t.Errorf("Germany (the most alerts) is not in the darkest class: %q", de)
	}
	fr := tagWithTitle(out, "path", "France: 1 alert, worst low")
	if !strings.Contains(fr, "shade-1") {
		t.Errorf("France (one alert) is not in the lightest class: %q", fr)
	}
	if !strings.Contains(out, `<a href="/alerts?country=DE&amp;since=x" aria-label="Germany: 1,000 alerts, worst high">`) {
		t.Error("Germany is not a link to its alerts named by its tooltip")
	}
	if !strings.Contains(tagWithTitle(out, "path", "Japan &lt;script&gt;"), "shade-") {
		t.Error("Japan is not shaded with its own label")
	}
	// Circles: Tokyo (located), and Germany and France in their middle
	// (none of their points is located), Singapore (no shape) at its
	// centre; not Japan's country point.
	if n := strings.Count(out, "<circle"); n != 4 {
		t.Errorf("%d circles, want Tokyo, Germany, France and Singapore", n)
	}
	// Singapore's circle is its only link: in the tab order.
	if !strings.Contains(out, `<a href="/alerts?country=SG" aria-label="Singapore: 3 alerts"><circle`) {
		t.Error("Singapore has no focusable circle")
	}
	if c := tagWithTitle(out, "circle", "Tokyo"); !strings.Contains(c, "fill-critical") {
		t.Errorf("Tokyo's circle is not coloured critical: %q", c)
	}
	// The largest circle is drawn first and the radius grows with the
	// square root of the count.
	big := tagWithTitle(out, "circle", "Germany")
	small := tagWithTitle(out, "circle", "France")
	if !strings.Contains(big, `r="14.0"`) || !strings.Contains(small, `r="3.3"`) || strings.Index(out, big) > strings.Index(out, small) {
		t.Errorf("circles: Germany %q, France %q", big, small)
	}
	// A circle that repeats its country's link stays out of the tab order.
	if !strings.Contains(out, `<a href="/alerts?country=DE&amp;since=x" tabindex="-1" aria-hidden="true"><circle`) {
		t.Error("Germany's circle is in the tab order besides its shape")
	}
	if strings.Contains(out, "ZZ") {
		t.Error("a country that does not exist is drawn")
	}
	if !strings.Contains(out, "Natural Earth") {
		t.Error("no credit for the outlines")
	}
	if !strings.Contains(out, "Alerts by country: 1") {
		t.Error("no legend of the shades")
	}
}

func TestWorldMapSmallMarksTheOrigin(t *testing.T) {
	out := string(worldMap(MapOptions{Label: "origin", Small: true, Points: []MapPoint{{Country: "BR", Count: 1, Severity: "high"}}}))
	if !strings.Contains(out, `class="worldmap small"`) {
		t.Error("not the small variant")
	}
	if n := strings.Count(out, `<circle class="pt`); n != 1 {
		t.Errorf("%d markers, want 1 in Brazil", n)
	}
	if !strings.Contains(out, `<circle class="halo"`) {
		t.Error("the marker has no ring to find it by")
	}
	if !strings.Contains(tagWithTitle(out, "path", "Brazil: 1 alert"), "shade-") {
		t.Error("Brazil is not marked")
	}
	if strings.Contains(out, "Alerts by country") {
		t.Error("the small map has the legend")
	}
	if strings.Contains(out, "<a ") {
		t.Error("a point without a link became a link")
	}
	empty := string(worldMap(MapOptions{Label: "nothing"}))
	if !strings.Contains(empty, "No alerts with a known origin") || strings.Contains(empty, "shade-") {
		t.Error("an empty map does not say so")
	}
}
