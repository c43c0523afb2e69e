package web

import (
	"fmt"
	"html/template"
	"strings"
)

// MapPoint is a place on the threat map: a country (ISO alpha-2) and,
// when the GeoIP data has it, a location; with how many alerts come from
// there, their worst severity, a tooltip label and a link to them.
type MapPoint struct {
	Country     string
	Lat, Lon    float64
	HasLocation bool
	Count       int64
	Severity    string
	Label       string
	Link        string
}

// MapOptions say what to draw.
type MapOptions struct {
	Label  string
	Points []MapPoint
	// Small draws the map for a side panel (an alert's origin).
	Small bool
}

// worldMap draws the world map as SVG, countries shaded by count and
// points sized by count and coloured by worst severity. (To be built: for
// now a list.)
func worldMap(o MapOptions) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<ul class="map-fallback" aria-label="%s">`, template.HTMLEscapeString(o.Label))
	for _, p := range o.Points {
		fmt.Fprintf(&b, `<li>%s: %s</li>`, template.HTMLEscapeString(p.Label), num(p.Count))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}
