package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/alert"
)

// maxEvidenceShown bounds the evidence events the alert page reads: each
// is a request to the API that decodes the event again.
const maxEvidenceShown = 10

// alertView is an alert as GET /api/v1/alerts/{id} gives it.
type alertView struct {
	alert.Alert
	Incident string `json:"incident"`
}

// evidenceView is one evidence event as the alert page shows it.
type evidenceView struct {
	ID     string
	Time   string
	Source string
	// Summary is the event in a line: its message or action.
	Summary string
	// Fields are the event's common fields, flattened to dotted names;
	// Own its source's own fields (the record as its format decodes it).
	Fields, Own [][2]string
	// Raw is the event as the API gives it, indented.
	Raw string
	// Missing says why the event is not shown (retention purged it…).
	Missing string
}

// incidentRef is the incident an alert is in, as its page names it.
type incidentRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Stage string `json:"stage"`
}

// incidentChoice is an open incident the alert may be added to.
type incidentChoice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Stage string `json:"stage"`
}

// alertPageData is the alert page's data.
type alertPageData struct {
	Alert alertView
	// Moves are the statuses the alert may move to (besides its own).
	Moves   []alert.Status
	Reasons []alert.Reason
	// ThreatType is the alert's threat type, as the threat pane groups it.
	ThreatType string
	Evidence   []evidenceView
	// EvidenceMore is how many evidence entries are not shown.
	EvidenceMore  int
	OpenIncidents []incidentChoice
	// Incident is the incident the alert is in (its id alone when it
	// cannot be read).
	Incident *incidentRef
	Map      MapOptions
	// Remediation is the rule's advice, a step a line.
	Remediation []string
}

// alertPage shows one alert with what a responder needs to judge it.
func (h *Handler) alertPage(w http.ResponseWriter, r *http.Request, s Session) {
	id := r.PathValue("id")
	var d alertPageData
	if err := h.get(r, "/api/v1/alerts/"+url.PathEscape(id), nil, &d.Alert); err != nil {
		h.fail(w, r, s, err)
		return
	}
	a := &d.Alert.Alert
	d.Moves = a.Status.Next()
	d.Reasons = []alert.Reason{alert.ReasonTruePositive, alert.ReasonFalsePositive, alert.ReasonBenignPositive,
		alert.ReasonDuplicate, alert.ReasonOther}
	d.ThreatType = alert.ThreatType(a)
	d.Remediation = steps(a.Rule.Remediation)
	d.Map = originMap(a)
	d.Evidence, d.EvidenceMore = h.evidence(r, a)
	if id := d.Alert.Incident; id != "" {
		d.Incident = &incidentRef{ID: id}
		// Without its title the link still leads there.
		if err := h.get(r, "/api/v1/incidents/"+url.PathEscape(id), nil, d.Incident); err != nil {
			h.log.WarnContext(r.Context(), "web: the alert's incident", "incident", id, "err", err)
			d.Incident = &incidentRef{ID: id}
		}
	}
	if s.CanRespond() {
		var open struct {
			Incidents []incidentChoice `json:"incidents"`
		}
		q := url.Values{"status": {"new,active"}, "limit": {"100"}, "sort": {"last_seen"}}
		// Without the list the page still offers a new incident.
		if err := h.get(r, "/api/v1/incidents", q, &open); err != nil {
			h.log.WarnContext(r.Context(), "web: open incidents for the alert page", "err", err)
		}
		for _, inc := range open.Incidents {
			if inc.ID != d.Alert.Incident {
				d.OpenIncidents = append(d.OpenIncidents, inc)
			}
		}
	}
	title := a.Rule.Title
	if title == "" {
		title = "Alert " + a.ID
	}
	h.render(w, r, http.StatusOK, "alert", Page{Title: title, Nav: "alerts", Session: s,
		Scripts: []string{"alerts.js"}, Data: &d})
}

// steps splits a rule's remediation into steps: one a line, list marks
// ("-", "*", "1.") taken off.
func steps(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimLeft(line, "-*• ")
		// "1." or "2)" then a space: a list mark, not an address.
		if i := strings.IndexAny(line, ".)"); i > 0 && i <= 3 && strings.Trim(line[:i], "0123456789") == "" &&
			(i+1 == len(line) || line[i+1] == ' ') {
			line = strings.TrimSpace(line[i+1:])
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// originMap is the small map of the alert's origin: one point, when the
// origin has a country.
func originMap(a *alert.Alert) MapOptions {
	o := MapOptions{Small: true, Label: "Origin of the alert"}
	if a.Origin == nil || a.Origin.Country == "" {
		return o
	}
	label := a.Origin.Country
	if a.Origin.CountryName != "" {
		label = a.Origin.CountryName
	}
	if a.Origin.City != "" {
		label = a.Origin.City + ", " + label
	}
	o.Points = []MapPoint{{Country: a.Origin.Country, Lat: a.Origin.Lat, Lon: a.Origin.Lon,
		HasLocation: a.Origin.Lat != 0 || a.Origin.Lon != 0, Count: int64(a.Count), Severity: a.Severity.String(),
		Label: label, Link: "/alerts?country=" + url.QueryEscape(a.Origin.Country)}}
	return o
}

// evidence reads the alert's first evidence events from the API.
func (h *Handler) evidence(r *http.Request, a *alert.Alert) ([]evidenceView, int) {
	var out []evidenceView
	more := 0
	for _, e := range a.Evidence {
		if len(out) == maxEvidenceShown {
			more++
			continue
		}
		v := evidenceView{ID: e.EventID, Time: timestamp(e.Time)}
		if e.EventID == "" {
			// Offline scans point at a file and line instead.
			if e.File == "" {
				continue
			}
			v.Missing = fmt.Sprintf("%s, line %d (from an offline scan)", e.File, e.Line)
			out = append(out, v)
			continue
		}
		var ev map[string]any
		err := h.get(r, "/api/v1/events/"+url.PathEscape(e.EventID), nil, &ev)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			v.Missing = "The event is no longer stored (retention)."
		case err != nil:
			v.Missing = "The event could not be read: " + err.Error()
		default:
			v.Source, _ = ev["source"].(string)
			v.Fields, v.Own = flatten(ev)
			v.Summary = summary(v.Fields)
			raw, _ := json.MarshalIndent(ev, "", "  ")
			v.Raw = string(raw)
		}
		out = append(out, v)
	}
	return out, more
}

// flatten lists an event's fields under dotted names, each list by name,
// the event's place (id, workspace) left out: the common fields, and the
// source's own.
func flatten(ev map[string]any) (common, own [][2]string) {
	var walk func(prefix string, v any, into *[][2]string)
	walk = func(prefix string, v any, into *[][2]string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(prefix+"."+k, c, into)
			}
		case nil:
		default:
			s := fmt.Sprint(x)
			if b, err := json.Marshal(x); err == nil && !isString(x) {
				s = string(b)
			}
			*into = append(*into, [2]string{strings.TrimPrefix(prefix, "."), s})
		}
	}
	for k, v := range ev {
		switch k {
		case "id", "workspace":
		case "fields":
			walk("", v, &own)
		default:
			walk(k, v, &common)
		}
	}
	byName := func(l [][2]string) {
		sort.Slice(l, func(i, j int) bool { return l[i][0] < l[j][0] })
	}
	byName(common)
	byName(own)
	return common, own
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// summary is an event's line in the evidence list: the first of its
// message, its action and outcome, or its category that it has.
func summary(fields [][2]string) string {
	get := func(name string) string {
		for _, f := range fields {
			if f[0] == name {
				return f[1]
			}
		}
		return ""
	}
	if m := get("message"); m != "" {
		return clip(m, 160)
	}
	if a := get("event.action"); a != "" {
		if o := get("event.outcome"); o != "" {
			return a + " (" + o + ")"
		}
		return a
	}
	return get("event.category")
}
