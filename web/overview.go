package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func (h *Handler) registerOverview() {
	h.page("GET /{$}", h.overview)
}

// The severities from worst to least, as the API writes them, with the
// CSS class of each.
var severities = []struct{ Name, Class string }{
	{"critical", "fill-critical"}, {"high", "fill-high"}, {"medium", "fill-medium"},
	{"low", "fill-low"}, {"informational", "fill-info"},
}

// openStages are the stages of an open incident, in response order.
var openStages = []string{"detect", "assess", "diagnose", "stabilize"}

// overviewAlert is an alert as the overview lists it.
type overviewAlert struct {
	ID   string `json:"id"`
	Rule struct {
		Title string `json:"title"`
	} `json:"rule"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	Priority int       `json:"priority"`
	LastSeen time.Time `json:"last_seen"`
	Count    int       `json:"count"`
}

type overviewAlerts struct {
	Alerts []overviewAlert `json:"alerts"`
	Total  int             `json:"total"`
}

// overviewIncident is an incident as the overview lists it.
type overviewIncident struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	Priority   int       `json:"priority"`
	Stage      string    `json:"stage"`
	Owner      string    `json:"owner"`
	AlertCount int       `json:"alert_count"`
	LastSeen   time.Time `json:"last_seen"`
}

type overviewIncidents struct {
	Incidents []overviewIncident `json:"incidents"`
	Total     int                `json:"total"`
}

// overviewSource is a source with its health as GET /api/v1/sources
// gives it.
type overviewSource struct {
	Name     string     `json:"name"`
	Format   string     `json:"format"`
	LastSeen *time.Time `json:"last_seen"`
	Events   int64      `json:"events"`
	Rejected int64      `json:"rejected"`
	Health   *struct {
		Rate   float64 `json:"rate"`
		Silent bool    `json:"silent"`
	} `json:"health"`
}

// Count is one figure of the overview with the list it links to.
type Count struct {
	Name, Class, Href string
	N                 int
}

// TypeRow is one threat type with its share of the largest.
type TypeRow struct {
	Name   string
	Label  string
	Alerts int64
	Events int64
	Pct    float64
}

// SourceRow is one source's health line.
type SourceRow struct {
	Name, Format, State, StateClass, Rate string
	LastSeen                              time.Time
	Events, Rejected                      int64
}

// overviewData is the overview's Data.
type overviewData struct {
	Range       overviewRange
	Choices     []rangeChoice
	URL         *url.URL
	Chart       TimeChart
	ChartAlerts int64
	OpenAlerts  int
	BySeverity  []Count
	OpenInc     int
	ByStage     []Count
	Types       []TypeRow
	MoreTypes   int
	Alerts      []overviewAlert
	Incidents   []overviewIncident
	Sources     []SourceRow
	SourceTotal int
	Troubled    int
}

// overview is the landing page of a signed-in visitor: what is
// happening, at a glance. Every figure is read through the API.
func (h *Handler) overview(w http.ResponseWriter, r *http.Request, s Session) {
	key := r.URL.Query().Get("range")
	if !validRange(key) {
		key = ""
	}
	var newest overviewAlerts
	if err := h.get(r, "/api/v1/alerts", url.Values{"sort": {"last_seen"}, "limit": {"1"}}, &newest); err != nil {
		h.fail(w, r, s, err)
		return
	}
	var last time.Time
	if len(newest.Alerts) > 0 {
		last = newest.Alerts[0].LastSeen
	}
	d := &overviewData{Range: pickRange(key, h.now(), last), Choices: rangeChoices, URL: r.URL}

	// The figures are independent reads: in parallel.
	open := url.Values{"status": {"new,active"}}
	var (
		urgent    overviewAlerts
		atLeast   = make([]overviewAlerts, len(severities)-1) // critical… low or worse
		incidents overviewIncidents
		stages    = make([]overviewIncidents, len(openStages))
		types     threatTypesAnswer
		sources   struct {
			Sources []overviewSource `json:"sources"`
		}
	)
	reads := []func() error{
		func() error { return h.get(r, "/api/v1/alerts", with(open, "limit", "5"), &urgent) },
		func() error {
			return h.get(r, "/api/v1/incidents", with(with(open, "sort", "priority"), "limit", "5"), &incidents)
		},
		func() error { return h.get(r, "/api/v1/threats/types", d.Range.query(), &types) },
		func() error { return h.get(r, "/api/v1/sources", url.Values{"limit": {"1000"}}, &sources) },
	}
	for i := range atLeast {
		reads = append(reads, func() error {
			return h.get(r, "/api/v1/alerts", with(with(open, "severity", severities[i].Name), "limit", "1"), &atLeast[i])
		})
	}
	for i, st := range openStages {
		reads = append(reads, func() error {
			return h.get(r, "/api/v1/incidents", url.Values{"stage": {st}, "limit": {"1"}}, &stages[i])
		})
	}
	if err := all(reads); err != nil {
		h.fail(w, r, s, err)
		return
	}

	d.OpenAlerts, d.Alerts = urgent.Total, urgent.Alerts
	for i, sev := range severities {
		// A severity or higher, as the API and the alert queue's severity
		// filter count: the link shows the alerts the count counts.
		n := urgent.Total
		if i < len(atLeast) {
			n = atLeast[i].Total
		}
		d.BySeverity = append(d.BySeverity, Count{Name: sev.Name, Class: sev.Class, N: n,
			Href: "/alerts?" + url.Values{"severity": {sev.Name}, "status": {"new,active"}}.Encode()})
	}
	d.OpenInc, d.Incidents = incidents.Total, incidents.Incidents
	for i, st := range openStages {
		d.ByStage = append(d.ByStage, Count{Name: st, N: stages[i].Total, Href: "/incidents"})
	}
	d.Chart, d.ChartAlerts = severityChart(types, d.Range)
	d.Types, d.MoreTypes = typeRows(types, 8)
	d.Sources, d.Troubled = sourceRows(sources.Sources)
	d.SourceTotal = len(sources.Sources)
	if len(d.Sources) > 8 {
		d.Sources = d.Sources[:8]
	}
	h.render(w, r, http.StatusOK, "overview", Page{Title: "Overview", Nav: "overview", Session: s, Data: d, Live: true})
}

// with returns q with key set to value, q untouched.
func with(q url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	out.Set(key, value)
	return out
}

// all runs the reads at once and returns the first error.
func all(reads []func() error) error {
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, f := range reads {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// severityChart turns the threat types' series into alerts by severity a
// bucket, worst at the bottom of each bar, and the sum of its alerts.
func severityChart(t threatTypesAnswer, rg overviewRange) (TimeChart, int64) {
	c := TimeChart{Label: "Alerts by severity, " + rg.From.Format("Jan 2 15:04") + " to " + rg.To.Format("Jan 2 15:04") + " UTC",
		Width: rg.Bucket}
	n := int(rg.To.Sub(rg.From) / rg.Bucket)
	first := 0
	if rg.trim {
		first = n
		for _, b := range t.Series {
			if i := int(b.Start.Sub(rg.From) / rg.Bucket); i >= 0 && i < first {
				first = i
			}
		}
		if first == n { // no alerts at all: the chart says so
			return c, 0
		}
	}
	for i := first; i < n; i++ {
		c.Buckets = append(c.Buckets, rg.From.Add(time.Duration(i)*rg.Bucket))
	}
	index := map[string]int{}
	for i, sev := range severities {
		c.Series = append(c.Series, ChartSeries{Name: sev.Name, Class: sev.Class, Values: make([]int64, len(c.Buckets))})
		index[sev.Name] = i
	}
	var total int64
	for _, b := range t.Series {
		i := int(b.Start.Sub(rg.From)/rg.Bucket) - first
		if i < 0 || i >= len(c.Buckets) {
			continue
		}
		for _, ct := range b.Counts {
			if k, ok := index[ct.Severity]; ok {
				c.Series[k].Values[i] += ct.Alerts
				total += ct.Alerts
			}
		}
	}
	return c, total
}

// typeRows are the top n threat types, and how many more there are.
func typeRows(t threatTypesAnswer, n int) ([]TypeRow, int) {
	var rows []TypeRow
	var top int64
	for _, ty := range t.Types {
		top = max(top, ty.Alerts)
	}
	for i, ty := range t.Types {
		if i == n {
			return rows, len(t.Types) - n
		}
		rows = append(rows, TypeRow{Name: ty.ThreatType, Label: typeLabel(ty.ThreatType), Alerts: ty.Alerts, Events: ty.Events, Pct: pct(ty.Alerts, top)})
	}
	return rows, 0
}

// sourceRows orders the sources for a glance: silent ones first, then
// those with refused records (in quarantine), then by rate; and counts the
// troubled ones.
func sourceRows(list []overviewSource) ([]SourceRow, int) {
	rank := func(s overviewSource) int {
		switch {
		case s.Health != nil && s.Health.Silent:
			return 0
		case s.Rejected > 0:
			return 1
		}
		return 2
	}
	rate := func(s overviewSource) float64 {
		if s.Health == nil {
			return 0
		}
		return s.Health.Rate
	}
	slices.SortStableFunc(list, func(a, b overviewSource) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(rate(b), rate(a)), cmp.Compare(a.Name, b.Name))
	})
	rows := make([]SourceRow, 0, len(list))
	troubled := 0
	for _, s := range list {
		row := SourceRow{Name: s.Name, Format: s.Format, Events: s.Events, Rejected: s.Rejected, Rate: rateText(rate(s))}
		if s.LastSeen != nil {
			row.LastSeen = *s.LastSeen
		}
		switch rank(s) {
		case 0:
			row.State, row.StateClass = "silent", "sev-high"
		case 1:
			row.State, row.StateClass = "records refused", "sev-medium"
		default:
			row.State, row.StateClass = "ok", "sev-low"
		}
		if rank(s) < 2 {
			troubled++
		}
		rows = append(rows, row)
	}
	return rows, troubled
}

// rateText writes events a second readably: 0, 0.02/s, 3.4/s, 1,200/s.
func rateText(r float64) string {
	switch {
	case r <= 0:
		return "0/s"
	case r < 0.01:
		return "<0.01/s"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
	}
	return num(int64(r+0.5)) + "/s"
}

// typeLabel writes a threat type for people: brute_force → brute force.
func typeLabel(t string) string { return strings.ReplaceAll(t, "_", " ") }
