package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// registerRules adds the rules page: every detection rule, whether the
// workspace runs it, and its alerts and false positives.
func (h *Handler) registerRules() {
	h.page("GET /rules", h.rules)
}

// ruleStat is a rule's noise as GET /api/v1/rules/stats counts it.
type ruleStat struct {
	Rule              string  `json:"rule"`
	Title             string  `json:"title"`
	Alerts            int64   `json:"alerts"`
	Open              int64   `json:"open"`
	Dismissed         int64   `json:"dismissed"`
	FalsePositives    int64   `json:"false_positives"`
	FalsePositiveRate float64 `json:"false_positive_rate"`
	Suppressed        int64   `json:"suppressed"`
}

// ruleEntry is a rule as GET /api/v1/rules lists it.
type ruleEntry struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Severity    string     `json:"severity"`
	Correlation bool       `json:"correlation"`
	Enabled     bool       `json:"enabled"`
	DisabledBy  string     `json:"disabled_by"`
	Disabled    *time.Time `json:"disabled"`
}

// ruleRow is one row of the page: the rule (when the server runs it) and
// its counts.
type ruleRow struct {
	ruleStat
	Severity    string
	Correlation bool
	// Known: the server runs it, so it can be turned off or on (a
	// built-in source like the silence monitor cannot).
	Known      bool
	Enabled    bool
	DisabledBy string
}

// AlertsLink is the alert queue filtered to the rule.
func (r ruleRow) AlertsLink() string { return "/alerts?rule=" + url.QueryEscape(r.Rule) }

// SwitchAPI is the rule's on/off route.
func (r ruleRow) SwitchAPI() string { return "PATCH /api/v1/rules/" + url.PathEscape(r.Rule) }

// TestAPI is the rule's test route.
func (r ruleRow) TestAPI() string { return "/api/v1/rules/" + url.PathEscape(r.Rule) + "/test" }

// FPPercent is the false-positive rate in percent.
func (r ruleRow) FPPercent() float64 { return 100 * r.FalsePositiveRate }

// ruleSorts are the orders the page offers, by their query value; ties go
// by title.
var ruleSorts = map[string]func(a, b ruleRow) int{
	"alerts":     func(a, b ruleRow) int { return cmp64(a.Alerts, b.Alerts) },
	"fp":         func(a, b ruleRow) int { return cmp64(a.FalsePositives, b.FalsePositives) },
	"fp_rate":    func(a, b ruleRow) int { return cmp64(int64(a.FalsePositiveRate*1e6), int64(b.FalsePositiveRate*1e6)) },
	"suppressed": func(a, b ruleRow) int { return cmp64(a.Suppressed, b.Suppressed) },
	"open":       func(a, b ruleRow) int { return cmp64(a.Open, b.Open) },
	"title":      func(a, b ruleRow) int { return 0 },
}

// cmp64 orders the larger first.
func cmp64(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// ruleFilter is the page's filters.
type ruleFilter struct {
	Show, Sort, Q string
}

// Shows are the "show" filter's choices.
func (ruleFilter) Shows() [][2]string {
	return [][2]string{{"", "all rules"}, {"alerting", "rules with alerts"}, {"off", "rules turned off"}}
}

// Sorts are the orders' choices.
func (ruleFilter) Sorts() [][2]string {
	return [][2]string{{"alerts", "most alerts"}, {"open", "most open alerts"}, {"fp", "most false positives"},
		{"fp_rate", "highest false-positive rate"}, {"suppressed", "most suppressed"}, {"title", "title"}}
}

func (h *Handler) rules(w http.ResponseWriter, r *http.Request, s Session) {
	var stats struct {
		Rules []ruleStat `json:"rules"`
	}
	if err := h.get(r, "/api/v1/rules/stats", nil, &stats); err != nil {
		h.fail(w, r, s, err)
		return
	}
	// Every rule the server runs, read page by page (hundreds to a few
	// thousand): the page sorts and filters them with their counts.
	var list []ruleEntry
	q := url.Values{"limit": {"1000"}}
	for {
		var out struct {
			Rules []ruleEntry `json:"rules"`
			Next  string      `json:"next"`
		}
		if err := h.get(r, "/api/v1/rules", q, &out); err != nil {
			h.fail(w, r, s, err)
			return
		}
		list = append(list, out.Rules...)
		if out.Next == "" {
			break
		}
		q.Set("cursor", out.Next)
	}
	rows := map[string]*ruleRow{}
	var all []*ruleRow
	for _, e := range list {
		row := &ruleRow{ruleStat: ruleStat{Rule: e.ID, Title: e.Title}, Severity: e.Severity, Correlation: e.Correlation,
			Known: true, Enabled: e.Enabled, DisabledBy: e.DisabledBy}
		rows[e.ID] = row
		all = append(all, row)
	}
	var alerts, fps, suppressed int64
	for _, st := range stats.Rules {
		alerts += st.Alerts
		fps += st.FalsePositives
		suppressed += st.Suppressed
		if row, ok := rows[st.Rule]; ok {
			title := row.Title
			row.ruleStat = st
			if title != "" {
				row.Title = title
			}
			continue
		}
		// Alerts of a rule the server no longer runs, or of a built-in
		// check (source silence, intelligence matches).
		row := &ruleRow{ruleStat: st, Enabled: true}
		rows[st.Rule] = row
		all = append(all, row)
	}
	f := ruleFilter{Show: r.URL.Query().Get("show"), Sort: r.URL.Query().Get("sort"), Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	less, ok := ruleSorts[f.Sort]
	if !ok {
		f.Sort, less = "alerts", ruleSorts["alerts"]
	}
	var shown []ruleRow
	off := 0
	for _, row := range all {
		if !row.Enabled {
			off++
		}
		switch {
		case f.Show == "alerting" && row.Alerts == 0 && row.Suppressed == 0,
			f.Show == "off" && row.Enabled,
			f.Q != "" && !strings.Contains(strings.ToLower(row.Title+" "+row.Rule), strings.ToLower(f.Q)):
			continue
		}
		shown = append(shown, *row)
	}
	sort.SliceStable(shown, func(i, j int) bool {
		if c := less(shown[i], shown[j]); c != 0 {
			return c < 0
		}
		return strings.ToLower(shown[i].Title) < strings.ToLower(shown[j].Title)
	})
	// ?test=ID opens the test form of a rule the server runs (admins).
	var test *ruleRow
	if id := r.URL.Query().Get("test"); id != "" && s.CanAdmin() {
		if row, ok := rows[id]; ok && row.Known && !row.Correlation {
			test = row
		}
	}
	page, _, pgr := offsetPage(r.URL, shown, "cursor", listPageSize, "")
	h.render(w, r, http.StatusOK, "rules", Page{Title: "Rules", Nav: "rules", Session: s, Data: map[string]any{
		"Rules": page, "Shown": len(shown), "Total": len(all), "Off": off, "Alerts": alerts,
		"FalsePositives": fps, "Suppressed": suppressed, "Filter": f, "URL": r.URL, "Pager": pgr,
		"Test": test,
	}, Scripts: []string{"rules.js"}})
}
