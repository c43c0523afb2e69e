package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

// registerAlerts adds the alert queue and the alert page.
func (h *Handler) registerAlerts() {
	h.page("GET /alerts", h.alertQueue)
	h.page("GET /alerts/{id}", h.alertPage)
}

// queueFilters are the queue's filters, as the URL carries them and the
// filter form shows them.
type queueFilters struct {
	Severity, ThreatType, Status, Entity, Source, Country, Rule string
	// Since and Until are in the form's datetime-local shape (UTC).
	Since, Until string
	Active       bool // any filter set
}

// alertQueueData is the queue's data.
type alertQueueData struct {
	Alerts  []alert.Alert
	Total   int
	Pager   Pager
	Filters queueFilters
	// Sources and ThreatTypes are the filter form's suggestions.
	Sources     []string
	ThreatTypes []string
	Severities  []string
	Statuses    []alert.Status
	// ClearRule is this page without its rule filter.
	ClearRule string
	// OtherStatus: the status filter is a list the form has no choice
	// for (from a link); it is shown as one.
	OtherStatus bool
}

// localTime is the datetime-local form's layout; the queue reads and shows
// it as UTC, as every time on the dashboard is.
const localTime = "2006-01-02T15:04"

// parseFormTime reads a time from the filter form (datetime-local, UTC) or
// from a link (RFC 3339, as the threat map writes them).
func parseFormTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.Parse(localTime, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// threatTypes are the threat types alert.ThreatType derives from rules,
// offered in the filter; feeds bring their own words, which the field
// takes as typed.
var threatTypes = []string{alert.ThreatBruteForce, alert.ThreatSQLInjection, alert.ThreatExploit,
	alert.ThreatCredentialDumping, alert.ThreatValidAccounts, alert.ThreatScanner, alert.ThreatPhishing,
	alert.ThreatRansomware, alert.ThreatDenialOfService, alert.ThreatLogTampering, alert.ThreatOther}

// openStatusFilter is the status filter's "open" choice: new and active.
const openStatusFilter = "open"

// alertQueue lists the workspace's alerts in priority order, filtered as
// the URL says, a page at a time.
func (h *Handler) alertQueue(w http.ResponseWriter, r *http.Request, s Session) {
	in := r.URL.Query()
	f := queueFilters{Severity: in.Get("severity"), ThreatType: in.Get("threat_type"), Status: in.Get("status"),
		Entity: in.Get("entity"), Source: in.Get("source"), Country: in.Get("country"), Rule: in.Get("rule")}
	q := url.Values{"limit": {"50"}}
	for k, v := range map[string]string{"severity": f.Severity, "threat_type": f.ThreatType, "entity": f.Entity,
		"source": f.Source, "country": f.Country, "rule": f.Rule, "cursor": in.Get("cursor")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	switch f.Status {
	case "":
	case openStatusFilter:
		q.Set("status", "new,active")
	default:
		q.Set("status", f.Status)
		// Links elsewhere (the overview) ask for "new,active": the form
		// shows that as its "open" choice.
		if sameStatuses(f.Status, "new", "active") {
			f.Status = openStatusFilter
		}
	}
	// The API's refusal of a malformed filter says "validation failed"
	// and lists the fields apart; the page says what to fix itself.
	var problems []string
	if c := f.Country; c != "" && !twoLetters(c) {
		problems = append(problems, "country "+strconv.Quote(c)+" is not two letters (ISO 3166-1, e.g. DE)")
	}
	for _, k := range []string{"since", "until"} {
		v := in.Get(k)
		if v == "" {
			continue
		}
		t, ok := parseFormTime(v)
		if !ok {
			problems = append(problems, k+" "+strconv.Quote(v)+" is no time (want 2026-11-26T14:05 or RFC 3339)")
			continue
		}
		q.Set(k, t.UTC().Format(time.RFC3339))
		if k == "since" {
			f.Since = t.UTC().Format(localTime)
		} else {
			f.Until = t.UTC().Format(localTime)
		}
	}
	f.Active = f.Severity != "" || f.ThreatType != "" || f.Status != "" || f.Entity != "" || f.Source != "" ||
		f.Country != "" || f.Rule != "" || f.Since != "" || f.Until != ""

	var list struct {
		Alerts []alert.Alert `json:"alerts"`
		Next   string        `json:"next"`
		Total  int           `json:"total"`
	}
	data := alertQueueData{Filters: f, ThreatTypes: threatTypes,
		Severities: []string{"critical", "high", "medium", "low", "informational"}, Statuses: alert.Statuses[:]}
	page := Page{Title: "Alerts", Nav: "alerts", Session: s, Live: true, Scripts: []string{"alerts.js"}, Data: &data}
	if len(problems) > 0 {
		page.Error = "The filter was refused: " + strings.Join(problems, "; ") + "."
		h.render(w, r, http.StatusUnprocessableEntity, "alerts", page)
		return
	}
	if err := h.get(r, "/api/v1/alerts", q, &list); err != nil {
		// A filter the API refuses (a malformed time, a country of
		// three letters) is said above the form, which stays to fix it.
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
			page.Error = "The filter was refused: " + ae.Detail
			h.render(w, r, http.StatusUnprocessableEntity, "alerts", page)
			return
		}
		h.fail(w, r, s, err)
		return
	}
	data.Alerts, data.Total = list.Alerts, list.Total
	data.Pager = pager(r.URL, len(list.Alerts), list.Total, list.Next)
	data.ClearRule = withQuery(r.URL, "rule", "")
	data.OtherStatus = f.Status != "" && f.Status != openStatusFilter && !alert.Status(f.Status).Valid()
	var src struct {
		Sources []struct {
			Name string `json:"name"`
		} `json:"sources"`
	}
	// The sources only suggest values: the queue stands without them.
	if err := h.get(r, "/api/v1/sources", url.Values{"limit": {"1000"}}, &src); err == nil {
		for _, x := range src.Sources {
			data.Sources = append(data.Sources, x.Name)
		}
	}
	h.render(w, r, http.StatusOK, "alerts", page)
}

// shortEntities is an alert's entities for a row: the first few values,
// and how many more.
func shortEntities(es []alert.Entity) string {
	const show = 2
	var b strings.Builder
	for i, e := range es {
		if i == show {
			b.WriteString(" +" + strconv.Itoa(len(es)-show))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(e.Value, 40))
	}
	return b.String()
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// sameStatuses reports whether the comma-separated list v names exactly
// the statuses want, in any order.
func sameStatuses(v string, want ...string) bool {
	got := map[string]bool{}
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			got[p] = true
		}
	}
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

// twoLetters reports whether s is two ASCII letters, as a country code is.
func twoLetters(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
