package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// registerThreats adds the threat-intelligence pane.
func (h *Handler) registerThreats() {
	h.page("GET /threats", h.threats)
}

// The pane's answers from the API (GET /api/v1/threats/…, /geoip), as
// far as the page shows them.
type (
	threatCount struct {
		ThreatType string `json:"threat_type"`
		Severity   string `json:"severity"`
		Alerts     int64  `json:"alerts"`
	}
	threatTypesAnswer struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
		Bucket string    `json:"bucket"`
		Types  []struct {
			ThreatType string           `json:"threat_type"`
			Alerts     int64            `json:"alerts"`
			Events     int64            `json:"events"`
			BySeverity map[string]int64 `json:"by_severity"`
		} `json:"types"`
		Series []struct {
			Start  time.Time     `json:"start"`
			Counts []threatCount `json:"counts"`
		} `json:"series"`
	}
	// originTotal is a country's, network's or point's count.
	originTotal struct {
		Alerts int64  `json:"alerts"`
		Events int64  `json:"events"`
		Worst  string `json:"worst_severity"`
		Top    []struct {
			ThreatType string `json:"threat_type"`
			Alerts     int64  `json:"alerts"`
		} `json:"top_threat_types"`
	}
	countryOrigin struct {
		Country     string `json:"country"`
		CountryName string `json:"country_name"`
		originTotal
	}
	threatOriginsAnswer struct {
		Countries []countryOrigin `json:"countries"`
		Networks  []struct {
			ASN     uint32 `json:"asn"`
			ASOrg   string `json:"as_org"`
			Country string `json:"country"`
			originTotal
		} `json:"networks"`
		Unknown struct {
			Alerts int64 `json:"alerts"`
		} `json:"unknown"`
		Attribution string `json:"attribution"`
	}
	threatMapAnswer struct {
		Countries []countryOrigin `json:"countries"`
		Points    []struct {
			Lat     float64 `json:"lat"`
			Lon     float64 `json:"lon"`
			Country string  `json:"country"`
			City    string  `json:"city"`
			originTotal
		} `json:"points"`
		Attribution string `json:"attribution"`
	}
	geoIPAnswer struct {
		Databases []struct {
			Path        string    `json:"path"`
			Type        string    `json:"type"`
			Built       time.Time `json:"built"`
			Description string    `json:"description"`
			Attribution string    `json:"attribution"`
		} `json:"databases"`
	}
)

// threatsView is the pane's template data.
type threatsView struct {
	Range   paneRange
	Presets []rangePreset
	Chart   TimeChart
	Types   []typeRow
	Alerts  int64
	Events  int64
	// Severities are those the types' bars show, worst first, for
	// their legend.
	Severities          []sevPart
	Countries, Networks originTable
	Unknown             int64
	Map                 MapOptions
	GeoIP               geoIPAnswer
	// Attribution is the GeoIP data's credit, to show with the origins.
	Attribution string
}

// typeRow is one threat type's line: its totals and its alerts by
// severity, worst first, for a stacked bar.
type typeRow struct {
	ThreatType string
	// Link is the type's alerts in the range.
	Link       string
	Alerts     int64
	Events     int64
	Share      float64
	Severities []sevPart
}

type sevPart struct {
	Severity string
	Alerts   int64
	Pct      float64
}

// Class is the CSS class that colours the severity (fill-high…).
func (p sevPart) Class() string { return "fill-" + strings.TrimPrefix(sevClass(p.Severity), "sev-") }

// SeverityBar draws the type's alerts by severity as one stacked bar
// (SVG: the page's CSP allows no inline style for widths).
func (t typeRow) SeverityBar() template.HTML {
	var b strings.Builder
	var label []string
	for _, p := range t.Severities {
		label = append(label, p.Severity+" "+num(p.Alerts))
	}
	fmt.Fprintf(&b, `<svg class="hbar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="%s">`,
		template.HTMLEscapeString(strings.Join(label, ", ")))
	x := 0.0
	for _, p := range t.Severities {
		fmt.Fprintf(&b, `<rect class="%s" x="%.2f" width="%.2f" height="10"><title>%s: %s</title></rect>`,
			p.Class(), x, p.Pct, p.Severity, num(p.Alerts))
		x += p.Pct
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// originTable is one page of the countries' or networks' table.
type originTable struct {
	Rows  []originRow
	Pager Pager
	// From and To are the ranks of the page's first and last rows
	// (1-based).
	From, To int
}

type originRow struct {
	Name   string
	Code   string
	Org    string
	Link   string
	Alerts int64
	Events int64
	Worst  string
	Top    string
	// Share is the row's alerts in percent of the table's first.
	Share float64
}

// Bar draws the row's share as a bar.
func (o originRow) Bar() template.HTML {
	return template.HTML(fmt.Sprintf(`<svg class="hbar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">`+
		`<rect class="fill-accent" width="%.2f" height="10"/></svg>`, o.Share))
}

// originsPage is how many countries or networks a table shows at once.
const originsPage = 10

func (h *Handler) threats(w http.ResponseWriter, r *http.Request, s Session) {
	pr, err := h.paneRange(r)
	page := Page{Title: "Threat intelligence", Nav: "threats", Session: s}
	var bad *rangeError
	if errors.As(err, &bad) {
		page.Error = bad.msg
	} else if err != nil {
		h.fail(w, r, s, err)
		return
	}
	q := url.Values{"from": {pr.From.Format(time.RFC3339)}, "to": {pr.To.Format(time.RFC3339)}}
	tq := url.Values{"from": q["from"], "to": q["to"], "bucket": {bucketFor(pr.To.Sub(pr.From))}}
	var types threatTypesAnswer
	if err := h.get(r, "/api/v1/threats/types", tq, &types); err != nil {
		h.fail(w, r, s, err)
		return
	}
	var origins threatOriginsAnswer
	if err := h.get(r, "/api/v1/threats/origins", q, &origins); err != nil {
		h.fail(w, r, s, err)
		return
	}
	var tmap threatMapAnswer
	if err := h.get(r, "/api/v1/threats/map", q, &tmap); err != nil {
		h.fail(w, r, s, err)
		return
	}
	v := threatsView{Range: pr, Presets: presets(r.URL, pr), Unknown: origins.Unknown.Alerts, Attribution: origins.Attribution}
	if err := h.get(r, "/api/v1/geoip", nil, &v.GeoIP); err != nil {
		h.fail(w, r, s, err)
		return
	}
	v.Chart, err = typesChart(types)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	v.typeTotals(types, pr)
	var countries []originRow
	for _, c := range origins.Countries {
		name := c.CountryName
		if name == "" {
			name = countryName(c.Country)
		}
		countries = append(countries, originRow{Name: name, Code: c.Country, Link: alertsFrom(c.Country, pr),
			Alerts: c.Alerts, Events: c.Events, Worst: c.Worst, Top: topList(c.originTotal)})
	}
	v.Countries = originPage(r.URL, "cpage", countries)
	var nets []originRow
	for _, n := range origins.Networks {
		row := originRow{Name: "AS" + strconv.FormatUint(uint64(n.ASN), 10), Org: n.ASOrg, Code: n.Country,
			Alerts: n.Alerts, Events: n.Events, Worst: n.Worst, Top: topList(n.originTotal)}
		nets = append(nets, row)
	}
	v.Networks = originPage(r.URL, "npage", nets)
	v.Map = threatMapOptions(tmap, pr)
	page.Data = v
	h.render(w, r, http.StatusOK, "threats", page)
}

// typeTotals fills the figures, the types' rows and the severities'
// legend from the types' totals.
func (v *threatsView) typeTotals(types threatTypesAnswer, pr paneRange) {
	bySev := map[string]int64{}
	for _, t := range types.Types {
		v.Alerts += t.Alerts
		v.Events += t.Events
		for sev, n := range t.BySeverity {
			bySev[sev] += n
		}
	}
	for sev := alert.Critical; sev >= alert.Informational; sev-- {
		if n := bySev[sev.String()]; n > 0 {
			v.Severities = append(v.Severities, sevPart{Severity: sev.String(), Alerts: n})
		}
	}
	for _, t := range types.Types {
		row := typeRow{ThreatType: t.ThreatType, Alerts: t.Alerts, Events: t.Events, Share: pct(t.Alerts, v.Alerts),
			Link: alertsLink("threat_type", t.ThreatType, pr)}
		for sev := alert.Critical; sev >= alert.Informational; sev-- {
			if n := t.BySeverity[sev.String()]; n > 0 {
				row.Severities = append(row.Severities, sevPart{sev.String(), n, pct(n, t.Alerts)})
			}
		}
		v.Types = append(v.Types, row)
	}
}

// bucketFor picks the chart's bucket width for a range: a few dozen bars.
func bucketFor(d time.Duration) string {
	switch {
	case d <= 2*24*time.Hour:
		return "1h"
	case d <= 8*24*time.Hour:
		return "6h"
	case d <= 92*24*time.Hour:
		return "1d"
	}
	return "7d"
}

// typesChart lays the series out in evenly spaced buckets from the
// range's start, the five threat types with most alerts in their own
// colour and the rest as "other".
func typesChart(t threatTypesAnswer) (TimeChart, error) {
	width, err := time.ParseDuration(t.Bucket)
	if err != nil || width <= 0 {
		return TimeChart{}, fmt.Errorf("web: threat types: bucket %q: %w", t.Bucket, err)
	}
	c := TimeChart{Label: "Alerts by threat type over time", Width: width, Height: 180}
	for at := t.From; at.Before(t.To); at = at.Add(width) {
		c.Buckets = append(c.Buckets, at)
	}
	if len(t.Types) == 0 {
		c.Buckets = nil // the chart says there is nothing
		return c, nil
	}
	classes := []string{"fill-t0", "fill-t1", "fill-t2", "fill-t3", "fill-t5"}
	index := map[string]int{}
	for i, ty := range t.Types {
		if i < len(classes) {
			index[ty.ThreatType] = i
			c.Series = append(c.Series, ChartSeries{Name: ty.ThreatType, Class: classes[i], Values: make([]int64, len(c.Buckets))})
		}
	}
	other := -1
	if len(t.Types) > len(classes) {
		other = len(c.Series)
		c.Series = append(c.Series, ChartSeries{Name: "other types", Class: "fill-t4", Values: make([]int64, len(c.Buckets))})
	}
	for _, b := range t.Series {
		i := int(b.Start.Sub(t.From) / width)
		if i < 0 || i >= len(c.Buckets) {
			continue
		}
		for _, n := range b.Counts {
			k, ok := index[n.ThreatType]
			if !ok {
				k = other
			}
			if k >= 0 {
				c.Series[k].Values[i] += n.Alerts
			}
		}
	}
	return c, nil
}

// alertsFrom links to the alerts of a country in the range.
func alertsFrom(code string, pr paneRange) string { return alertsLink("country", code, pr) }

// alertsLink links to the alert queue filtered by one field (country,
// threat_type) and the range.
func alertsLink(key, value string, pr paneRange) string {
	q := url.Values{key: {value}, "since": {pr.From.Format(time.RFC3339)}, "until": {pr.To.Format(time.RFC3339)}}
	return "/alerts?" + q.Encode()
}

func topList(o originTotal) string {
	var parts []string
	for _, t := range o.Top {
		parts = append(parts, t.ThreatType)
	}
	return strings.Join(parts, ", ")
}

// originPage cuts one page of rows out of a table, at the offset in the
// query parameter key, with each row's share of the largest.
func originPage(u *url.URL, key string, rows []originRow) originTable {
	page, off, pager := offsetPage(u, rows, key, originsPage, key)
	t := originTable{Rows: page, From: off + 1, To: off + len(page), Pager: pager}
	var top int64
	if len(rows) > 0 {
		top = rows[0].Alerts
	}
	for i := range t.Rows {
		t.Rows[i].Share = pct(t.Rows[i].Alerts, top)
	}
	return t
}

// threatMapOptions turns the map's answer into the map's points: one a
// country (shading it), one a located origin (a circle).
func threatMapOptions(m threatMapAnswer, pr paneRange) MapOptions {
	o := MapOptions{Label: "Where this range's alerts come from: countries shaded by alerts, located origins as circles"}
	for _, c := range m.Countries {
		name := c.CountryName
		if name == "" {
			name = countryName(c.Country)
		}
		o.Points = append(o.Points, MapPoint{Country: c.Country, Count: c.Alerts, Severity: c.Worst,
			Label: originLabel(name, c.originTotal), Link: alertsFrom(c.Country, pr)})
	}
	for _, p := range m.Points {
		place := countryName(p.Country)
		if p.City != "" {
			place = p.City + ", " + place
		}
		mp := MapPoint{Country: p.Country, Lat: p.Lat, Lon: p.Lon, HasLocation: true, Count: p.Alerts, Severity: p.Worst,
			Label: originLabel(place, p.originTotal)}
		if p.Country != "" {
			mp.Link = alertsFrom(p.Country, pr)
		}
		o.Points = append(o.Points, mp)
	}
	return o
}

// originLabel is a tooltip: place, alerts, worst severity, top types.
func originLabel(place string, o originTotal) string {
	s := tooltip("", place, o.Alerts, o.Worst)
	if top := topList(o); top != "" {
		s += " · " + top
	}
	return s
}

// paneRange is the pane's time range and how it was chosen.
type paneRange struct {
	From, To time.Time
	// Preset is the chosen preset's key ("24h"…); empty for a range
	// given by from and to.
	Preset string
	// Note says why the range is not the one asked for, when it is not
	// (the default moved to the newest alert).
	Note string
}

// FromInput and ToInput are the range's ends for datetime-local inputs
// (UTC, to the minute).
func (p paneRange) FromInput() string { return p.From.UTC().Format(inputTime) }
func (p paneRange) ToInput() string   { return p.To.UTC().Format(inputTime) }

const inputTime = "2006-01-02T15:04"

// presetRanges are the pane's ready-made ranges, ending now.
var presetRanges = []struct {
	Key   string
	Label string
	Span  time.Duration
}{
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"365d", "Year", 365 * 24 * time.Hour},
}

type rangePreset struct {
	Label   string
	URL     string
	Current bool
}

func presets(u *url.URL, pr paneRange) []rangePreset {
	out := make([]rangePreset, 0, len(presetRanges))
	for _, p := range presetRanges {
		q := url.Values{"range": {p.Key}}
		out = append(out, rangePreset{Label: p.Label, URL: u.Path + "?" + q.Encode(), Current: pr.Preset == p.Key})
	}
	return out
}

// rangeError is a range the visitor gave that cannot be used; the page
// says so and shows the default.
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

// maxPaneRange is the API's widest range.
const maxPaneRange = 366 * 24 * time.Hour

// paneRange reads the range from the query: a preset (range=7d), or from
// and to (RFC 3339 or a datetime-local value, UTC). Without either, the
// last 24 hours — unless they have no alerts, then the day up to the
// newest alert, so that a quiet workspace (or the demo, whose data is in
// the past) does not open on an empty pane.
func (h *Handler) paneRange(r *http.Request) (paneRange, error) {
	now := h.now().UTC()
	qs := r.URL.Query()
	if key := qs.Get("range"); key != "" {
		for _, p := range presetRanges {
			if p.Key == key {
				return paneRange{From: now.Add(-p.Span), To: now, Preset: key}, nil
			}
		}
		pr, err := h.defaultRange(r, now)
		if err != nil {
			return pr, err
		}
		return pr, &rangeError{"There is no range " + strconv.Quote(key) + ". Showing the default."}
	}
	if qs.Get("from") != "" || qs.Get("to") != "" {
		from, err1 := parseInputTime(qs.Get("from"))
		to, err2 := parseInputTime(qs.Get("to"))
		if qs.Get("to") == "" {
			to, err2 = now, nil
		}
		if qs.Get("from") == "" && err2 == nil {
			from, err1 = to.Add(-24*time.Hour), nil
		}
		msg := ""
		switch {
		case err1 != nil || err2 != nil:
			msg = "The range's from and to must be times such as 2026-11-26T09:00."
		case !from.Before(to):
			msg = "The range's end must come after its start."
		case to.Sub(from) > maxPaneRange:
			msg = "The range may span at most 366 days."
		}
		if msg == "" {
			return paneRange{From: from, To: to}, nil
		}
		pr, err := h.defaultRange(r, now)
		if err != nil {
			return pr, err
		}
		return pr, &rangeError{msg + " Showing the default."}
	}
	return h.defaultRange(r, now)
}

func parseInputTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.ParseInLocation(inputTime, s, time.UTC)
}

// defaultRange is the last 24 hours, or, when they have no alerts, the
// 24 hours up to the end of the hour of the newest alert of the last
// year. The pane's own counts decide (not the alert list, which also
// holds source health alerts the pane leaves out).
func (h *Handler) defaultRange(r *http.Request, now time.Time) (paneRange, error) {
	pr := paneRange{From: now.Add(-24 * time.Hour), To: now, Preset: "24h"}
	recent, err := h.newestBucket(r, pr.From, pr.To, "1d")
	if err != nil || !recent.IsZero() {
		return pr, err
	}
	// Buckets from midnight and on the hour, so that the range ends on a
	// whole hour; the year back starts at a midnight within the API's
	// widest range.
	day, err := h.newestBucket(r, now.Add(-maxPaneRange+24*time.Hour).Truncate(24*time.Hour), now, "1d")
	if err != nil || day.IsZero() {
		return pr, err
	}
	end := day.Add(24 * time.Hour)
	if end.After(now) {
		end = now
	}
	hour, err := h.newestBucket(r, day, end, "1h")
	if err != nil || hour.IsZero() {
		return pr, err
	}
	to := hour.Add(time.Hour)
	return paneRange{From: to.Add(-24 * time.Hour), To: to,
		Note: "Nothing in the last 24 hours: showing the 24 hours up to the newest alerts (last seen " +
			hour.Format("2 Jan 2006 15:04") + "–" + to.Format("15:04") + " UTC)."}, nil
}

// newestBucket is the start of the newest bucket of the threat series
// in [from, to) that has alerts; zero when none has.
func (h *Handler) newestBucket(r *http.Request, from, to time.Time, bucket string) (time.Time, error) {
	var t threatTypesAnswer
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "bucket": {bucket}}
	if err := h.get(r, "/api/v1/threats/types", q, &t); err != nil {
		return time.Time{}, err
	}
	var newest time.Time
	for _, b := range t.Series {
		if len(b.Counts) > 0 && b.Start.After(newest) {
			newest = b.Start
		}
	}
	return newest.UTC(), nil
}
