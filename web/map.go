package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/country"
	"github.com/vigil-sec/vigil/web/worldmap"
)

// MapPoint is a place on the threat map: a country (ISO alpha-2) and,
// when the GeoIP data has it, a location; with how many alerts come from
// there, their worst severity, a tooltip label and a link to them.
//
// A point without a location stands for its whole country: it shades the
// country by its count. A located point is drawn as a circle sized by its
// count and coloured by its severity. In the Small variant every point is
// a marker, at its location or else in the middle of its country.
type MapPoint struct {
	Country     string
	Lat, Lon    float64
	HasLocation bool
	Count       int64
	Severity    string
	// Label is the tooltip; when empty: country, count, worst severity.
	Label string
	// Link, when set, makes the country or circle a link (to its alerts).
	Link string
}

// MapOptions say what to draw.
type MapOptions struct {
	Label  string
	Points []MapPoint
	// Small draws the map for a side panel (an alert's origin).
	Small bool
}

// shadeClasses is how many classes of count the countries are shaded in.
const shadeClasses = 5

// shadeClass puts a count in one of shadeClasses classes, 1 for the
// fewest, on a logarithmic scale up to peak: a few countries with many
// alerts do not wash out the rest.
func shadeClass(n, peak int64) int {
	if n <= 0 {
		return 0
	}
	if peak <= 1 || n >= peak {
		return shadeClasses
	}
	return min(1+int(float64(shadeClasses-1)*math.Log(float64(n))/math.Log(float64(peak))), shadeClasses)
}

// mapCountry is a country shaded on the map: its total and worst
// severity, and the label and link of its first point.
type mapCountry struct {
	shape    worldmap.Country
	name     string
	count    int64
	worst    alert.Severity
	hasWorst bool
	label    string
	link     string
	located  bool // counted from located points only
}

// severityRank reads a severity; unknown ones rank below informational.
func severityRank(s string) (alert.Severity, bool) {
	v, err := alert.ParseSeverity(strings.ToLower(s))
	return v, err == nil
}

// countryName is the country's English name, else its code.
func countryName(code string) string {
	if c, ok := country.ByAlpha2(code); ok {
		return c.Name
	}
	return strings.ToUpper(code)
}

// tooltip is what a shaded country or a circle says when pointed at.
func tooltip(label, place string, n int64, worst string) string {
	if label != "" {
		return label
	}
	s := place + ": " + num(n) + " alert"
	if n != 1 {
		s += "s"
	}
	if worst != "" {
		s += ", worst " + strings.ToLower(worst)
	}
	return s
}

// worldMap draws the world map as SVG, countries shaded by count and
// points sized by count and coloured by worst severity. Shaded countries
// and circles with a link are links (focusable, with their tooltip as
// their name); the outlines are computed once (package worldmap).
func worldMap(o MapOptions) template.HTML {
	m, err := worldmap.World()
	if err != nil {
		return mapFallback(o, err)
	}
	// Countries: totals of their unlocated points, or of their located
	// ones when they have none.
	by := map[string]*mapCountry{}
	var order []string
	for _, p := range o.Points {
		if p.Count <= 0 && !o.Small {
			continue // nothing to shade
		}
		code := strings.ToUpper(p.Country)
		iso, ok := country.ByAlpha2(code)
		if !ok {
			continue
		}
		shape, ok := m.Country(iso.Numeric)
		if !ok {
			continue // too small for the 1:110m map (Singapore, Malta…): a circle only
		}
		c := by[code]
		if c == nil {
			c = &mapCountry{shape: shape, name: iso.Name, located: true}
			by[code] = c
			order = append(order, code)
		}
		if !p.HasLocation && c.located {
			// The country's own count replaces what located points added.
			c.count, c.located, c.hasWorst = 0, false, false
		}
		if p.HasLocation && !c.located {
			continue
		}
		c.count += p.Count
		if s, ok := severityRank(p.Severity); ok && (!c.hasWorst || s > c.worst) {
			c.worst, c.hasWorst = s, true
		}
		if c.label == "" && !p.HasLocation {
			c.label, c.link = p.Label, p.Link
		}
		if c.link == "" {
			c.link = p.Link
		}
	}
	var peak int64
	for _, c := range by {
		peak = max(peak, c.count)
	}
	var b strings.Builder
	b.Grow(len(m.Outline) + m.PathBytes + 16<<10)
	cls := "worldmap"
	if o.Small {
		cls += " small"
	}
	fmt.Fprintf(&b, `<figure class="%s"><svg class="map" viewBox="0 0 %.0f %.0f" role="group" aria-label="%s">`,
		cls, m.Width, m.Height, template.HTMLEscapeString(o.Label))
	fmt.Fprintf(&b, `<path class="sea" d="%s"/>`, m.Outline)
	shaded := map[string]bool{}
	for _, c := range by {
		shaded[c.shape.ID] = true
	}
	b.WriteString(`<g class="countries">`)
	for _, s := range m.Countries {
		if !shaded[s.ID] {
			fmt.Fprintf(&b, `<path class="land" d="%s"><title>%s</title></path>`, s.Path, template.HTMLEscapeString(s.Name))
		}
	}
	// Shaded countries last, so that their outlines are on top; fewest
	// first.
	sort.SliceStable(order, func(i, j int) bool { return by[order[i]].count < by[order[j]].count })
	for _, code := range order {
		c := by[code]
		worst := ""
		if c.hasWorst {
			worst = c.worst.String()
		}
		tip := template.HTMLEscapeString(tooltip(c.label, c.name, c.count, worst))
		shade := shadeClass(c.count, peak)
		if o.Small {
			shade = shadeClasses
		}
		path := fmt.Sprintf(`<path class="land shade-%d" d="%s"><title>%s</title></path>`, shade, c.shape.Path, tip)
		if c.link != "" {
			fmt.Fprintf(&b, `<a href="%s" aria-label="%s">%s</a>`, template.HTMLEscapeString(c.link), tip, path)
		} else {
			b.WriteString(path)
		}
	}
	b.WriteString(`</g>`)
	writePoints(&b, m, o)
	b.WriteString(`</svg><figcaption>`)
	if !o.Small {
		writeMapLegend(&b, o, peak, len(by) > 0)
	}
	fmt.Fprintf(&b, `<span class="map-credit">%s</span></figcaption></figure>`, template.HTMLEscapeString(worldmap.Credit))
	return template.HTML(b.String())
}

// writePoints draws the circles, largest first so that small ones stay on
// top and can be pointed at: the located points, and a country's own
// point in the middle of the country when none of its points is located
// (a country-level GeoIP database locates none, and a small country is
// easier to see and hit as a circle). A circle that repeats its country's
// link is left out of the keyboard's way: the country has it.
func writePoints(b *strings.Builder, m *worldmap.Map, o MapOptions) {
	type circle struct {
		x, y   float64
		p      MapPoint
		repeat bool
	}
	located := map[string]bool{}
	for _, p := range o.Points {
		if p.HasLocation {
			located[strings.ToUpper(p.Country)] = true
		}
	}
	var cs []circle
	var peak int64
	for _, p := range o.Points {
		if p.Count <= 0 && !o.Small {
			continue
		}
		var x, y float64
		switch {
		case p.HasLocation:
			x, y = m.Project(p.Lon, p.Lat)
		case o.Small || !located[strings.ToUpper(p.Country)]:
			iso, ok := country.ByAlpha2(p.Country)
			if !ok {
				continue
			}
			if s, ok := m.Country(iso.Numeric); ok {
				x, y = s.X, s.Y
				break
			}
			// Too small for the map's outlines (Singapore, Malta): the
			// circle at its centre is all the map has of it, link and all.
			lat, lon, ok := country.Centre(iso.Alpha2)
			if !ok {
				continue
			}
			x, y = m.Project(lon, lat)
			cs = append(cs, circle{x, y, p, false})
			peak = max(peak, p.Count)
			continue
		default:
			continue
		}
		cs = append(cs, circle{x, y, p, !p.HasLocation})
		peak = max(peak, p.Count)
	}
	if len(cs) == 0 {
		return
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].p.Count > cs[j].p.Count })
	b.WriteString(`<g class="points">`)
	for _, c := range cs {
		// Area in proportion to the count: the radius grows with its
		// square root.
		r := 3 + 11*math.Sqrt(float64(max(c.p.Count, 0))/float64(max(peak, 1)))
		place := countryName(c.p.Country)
		tip := template.HTMLEscapeString(tooltip(c.p.Label, place, c.p.Count, c.p.Severity))
		halo := ""
		if o.Small {
			// A marker, not a measure: large enough to find on a map a
			// side panel wide, with a ring around it.
			r = 14
			halo = fmt.Sprintf(`<circle class="halo" cx="%.1f" cy="%.1f" r="28"/>`, c.x, c.y)
		}
		dot := fmt.Sprintf(`%s<circle class="pt %s" cx="%.1f" cy="%.1f" r="%.1f"><title>%s</title></circle>`,
			halo, "fill-"+strings.TrimPrefix(sevClass(c.p.Severity), "sev-"), c.x, c.y, r, tip)
		switch {
		case c.p.Link != "" && c.repeat:
			fmt.Fprintf(b, `<a href="%s" tabindex="-1" aria-hidden="true">%s</a>`, template.HTMLEscapeString(c.p.Link), dot)
		case c.p.Link != "":
			fmt.Fprintf(b, `<a href="%s" aria-label="%s">%s</a>`, template.HTMLEscapeString(c.p.Link), tip, dot)
		default:
			b.WriteString(dot)
		}
	}
	b.WriteString(`</g>`)
}

// writeMapLegend explains the shades (from one alert to the most a
// country has) and the circles' colours.
func writeMapLegend(b *strings.Builder, o MapOptions, peak int64, shaded bool) {
	b.WriteString(`<span class="map-legend">`)
	if !shaded {
		b.WriteString(`<span class="muted">No alerts with a known origin country in this range.</span>`)
	} else {
		b.WriteString(`<span>Alerts by country: 1 `)
		for k := 1; k <= shadeClasses; k++ {
			fmt.Fprintf(b, `<i class="swatch shade-%d"></i>`, k)
		}
		fmt.Fprintf(b, ` %s</span>`, num(peak))
	}
	seen := map[string]bool{}
	for _, p := range o.Points {
		seen[strings.ToLower(p.Severity)] = true
	}
	if len(o.Points) > 0 {
		b.WriteString(`<span>Circles: origins sized by alerts, coloured by worst severity:`)
		for s := alert.Critical; s >= alert.Informational; s-- {
			if seen[s.String()] {
				fmt.Fprintf(b, ` <i class="swatch round fill-%s"></i>%s`, strings.TrimPrefix(sevClass(s.String()), "sev-"), s.String())
			}
		}
		b.WriteString(`</span>`)
	}
	b.WriteString(`</span>`)
}

// mapFallback lists the points when the map cannot be drawn (the embedded
// outlines failed to decode: a broken build).
func mapFallback(o MapOptions, err error) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<p class="form-error">The map cannot be drawn: %s</p>`, template.HTMLEscapeString(err.Error()))
	fmt.Fprintf(&b, `<ul class="map-fallback" aria-label="%s">`, template.HTMLEscapeString(o.Label))
	for _, p := range o.Points {
		label := tooltip(p.Label, countryName(p.Country), p.Count, p.Severity)
		if p.Link != "" {
			fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, template.HTMLEscapeString(p.Link), template.HTMLEscapeString(label))
		} else {
			fmt.Fprintf(&b, `<li>%s</li>`, template.HTMLEscapeString(label))
		}
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}
