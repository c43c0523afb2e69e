package web

import (
	"net/http"
	"net/url"
	"sort"
)

// registerRules adds the rules page: each rule that fired, with its
// alerts and how many of them were false positives.
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

// AlertsLink is the alert queue filtered to the rule.
func (r ruleStat) AlertsLink() string { return "/alerts?rule=" + url.QueryEscape(r.Rule) }

// FPPercent is the false-positive rate in percent.
func (r ruleStat) FPPercent() float64 { return 100 * r.FalsePositiveRate }

// ruleSorts are the orders the page offers, by their query value.
var ruleSorts = map[string]func(a, b ruleStat) bool{
	"alerts":     func(a, b ruleStat) bool { return a.Alerts > b.Alerts },
	"fp":         func(a, b ruleStat) bool { return a.FalsePositives > b.FalsePositives },
	"fp_rate":    func(a, b ruleStat) bool { return a.FalsePositiveRate > b.FalsePositiveRate },
	"suppressed": func(a, b ruleStat) bool { return a.Suppressed > b.Suppressed },
	"open":       func(a, b ruleStat) bool { return a.Open > b.Open },
}

func (h *Handler) rules(w http.ResponseWriter, r *http.Request, s Session) {
	var out struct {
		Rules []ruleStat `json:"rules"`
	}
	if err := h.get(r, "/api/v1/rules/stats", nil, &out); err != nil {
		h.fail(w, r, s, err)
		return
	}
	by := r.URL.Query().Get("sort")
	less, ok := ruleSorts[by]
	if !ok {
		by, less = "alerts", ruleSorts["alerts"]
	}
	sort.SliceStable(out.Rules, func(i, j int) bool { return less(out.Rules[i], out.Rules[j]) })
	var alerts, fps, suppressed int64
	for _, rs := range out.Rules {
		alerts += rs.Alerts
		fps += rs.FalsePositives
		suppressed += rs.Suppressed
	}
	pg := pageList(r, len(out.Rules))
	h.render(w, r, http.StatusOK, "rules", Page{Title: "Rules", Nav: "rules", Session: s, Data: map[string]any{
		"Rules": out.Rules[pg.From:pg.To], "Total": len(out.Rules), "Alerts": alerts, "FalsePositives": fps,
		"Suppressed": suppressed, "Sort": by, "URL": r.URL, "Pager": pg.pager(r, len(out.Rules)),
	}})
}
