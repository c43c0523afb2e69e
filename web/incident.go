package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// Sizes of the incident page's lists.
const (
	incTimelinePage    = 50
	incAlertsPage      = 25
	incSimilarShown    = 5
	incSearchPage      = 25
	incSearchEntities  = 8
	incEventSummaryMax = 6
)

// incidentMove is a move the workflow allows from the incident's stage, as
// a control offers it.
type incidentMove struct {
	To    incident.Stage
	Label string
	// Body is the PATCH body of a move that needs nothing more; a close
	// has its own form.
	Body string
}

// incidentTaskGroup is a stage's checklist.
type incidentTaskGroup struct {
	Stage   incident.Stage
	Current bool
	Tasks   []incident.Task
	Done    int
}

// incidentEventRow is an event the incidentSearch search found, for the results
// table.
type incidentEventRow struct {
	ID      string
	Time    string
	Source  string
	Summary []string
}

// incidentSearch is the search over the incident's entities.
type incidentSearch struct {
	// Query is what the box holds: the visitor's, or one made from the
	// entities.
	Query string
	// Ran is set when the visitor searched (?q= present).
	Ran      bool
	Events   []incidentEventRow
	Scanned  int
	From, To time.Time
	Entities []string
	Next     string
	First    string
	Error    string
}

type incidentData struct {
	Incident incident.Incident
	URL      *url.URL
	Moves    []incidentMove
	// CloseTo is the close move's classifications the workflow accepts
	// from the current stage (a true positive only once diagnosed); empty
	// when closing is not a legal move.
	CloseTo    []incident.Classification
	TPHeld     bool
	Severities []string
	Stages     []incident.Stage
	Tasks      []incidentTaskGroup

	Timeline      []incident.TimelineEntry
	TimelinePager Pager
	Evidence      bool
	EvidenceURL   string

	Alerts      []alert.Alert
	AlertsPager Pager

	Similar      []incident.Similar
	SimilarErr   string
	SimilarAsked bool
	SimilarURL   string
	Search       incidentSearch
	Locked       map[string]bool
	AlertsTotal  int
	// Intents are the estimates a responder may give the intent.
	Intents []string
}

// incidentPage is the incident: its state and controls, checklist,
// assessment, timeline, alerts, similar incidents and the incidentSearch
// search over its entities.
func (h *Handler) incidentPage(w http.ResponseWriter, r *http.Request, s Session) {
	id := r.PathValue("id")
	base := "/api/v1/incidents/" + url.PathEscape(id)
	var inc incident.Incident
	if err := h.get(r, base, nil, &inc); err != nil {
		h.fail(w, r, s, err)
		return
	}
	q := r.URL.Query()
	d := incidentData{Incident: inc, URL: r.URL, Severities: incidentSeverities(), Stages: incident.Stages[:],
		Evidence: q.Get("evidence") == "1", Locked: map[string]bool{},
		Intents: []string{alert.IntentTargeted, alert.IntentRandom, alert.IntentUnknown}}
	for _, l := range inc.Assessment.Locked {
		d.Locked[l] = true
	}
	if d.Evidence {
		d.EvidenceURL = withQuery(r.URL, "evidence", "")
	} else {
		d.EvidenceURL = withQuery(r.URL, "evidence", "1")
	}
	d.Moves, d.CloseTo, d.TPHeld = incidentMoves(inc)
	d.Tasks = incidentTaskGroups(inc)

	var tl struct {
		Entries []incident.TimelineEntry `json:"entries"`
		Next    string                   `json:"next"`
		Total   int                      `json:"total"`
	}
	tq := url.Values{"limit": {strconv.Itoa(incTimelinePage)}, "evidence": {strconv.FormatBool(d.Evidence)}}
	if c := q.Get("tl_cursor"); c != "" {
		tq.Set("cursor", c)
	}
	if err := h.get(r, base+"/timeline", tq, &tl); err != nil {
		h.fail(w, r, s, err)
		return
	}
	d.Timeline, d.TimelinePager = tl.Entries, incidentPager(r.URL, "tl_cursor", len(tl.Entries), tl.Total, tl.Next)

	var al struct {
		Alerts []alert.Alert `json:"alerts"`
		Next   string        `json:"next"`
		Total  int           `json:"total"`
	}
	aq := url.Values{"limit": {strconv.Itoa(incAlertsPage)}}
	if c := q.Get("al_cursor"); c != "" {
		aq.Set("cursor", c)
	}
	if err := h.get(r, base+"/alerts", aq, &al); err != nil {
		h.fail(w, r, s, err)
		return
	}
	d.Alerts, d.AlertsPager, d.AlertsTotal = al.Alerts, incidentPager(r.URL, "al_cursor", len(al.Alerts), al.Total, al.Next), al.Total

	// Similar incidents are looked for on request: the search compares
	// the incident with every other of the workspace, slow in a large
	// store, and is a hint the page stands without.
	d.SimilarURL = withQuery(r.URL, "similar", "1") + "#similar"
	if q.Get("similar") == "1" {
		d.SimilarAsked = true
		var sim struct {
			Similar []incident.Similar `json:"similar"`
		}
		if err := h.get(r, base+"/similar", url.Values{"limit": {strconv.Itoa(incSimilarShown)}}, &sim); err != nil {
			d.SimilarErr = incidentPartError(err)
		}
		d.Similar = sim.Similar
	}

	d.Search = h.searchIncidentEvents(r, base, inc)
	h.render(w, r, http.StatusOK, "incident", Page{Title: inc.Title, Nav: "incidents", Session: s, Data: d, Live: true,
		Scripts: []string{"incident.js"}})
}

// incidentMoves lists the moves the incident package allows from inc's stage,
// and which classifications a close may give (CheckClose decides, so the
// page never offers what the API would refuse). tpHeld reports that a
// true positive cannot be closed yet from here.
func incidentMoves(inc incident.Incident) (out []incidentMove, closeTo []incident.Classification, tpHeld bool) {
	if inc.MergedInto != "" {
		return nil, nil, false // a merged incident is worked on in the one it went into
	}
	for _, to := range inc.Stage.Next() {
		if to == incident.StageClose {
			for _, c := range incident.Classifications {
				if incident.CheckClose(inc.Stage, c, "reason") == nil {
					closeTo = append(closeTo, c)
				} else if c.TruePositive() {
					tpHeld = true
				}
			}
			continue
		}
		if incident.CheckStage(inc.Stage, to) != nil {
			continue
		}
		label := "Move to " + titleCase(string(to))
		if inc.Stage == incident.StageClose {
			label = "Reopen into " + titleCase(string(to))
		}
		body, _ := json.Marshal(map[string]string{"stage": string(to)})
		out = append(out, incidentMove{To: to, Label: label, Body: string(body)})
	}
	return out, closeTo, tpHeld
}

// incidentTaskGroups groups the checklist by stage, in stage order.
func incidentTaskGroups(inc incident.Incident) []incidentTaskGroup {
	var out []incidentTaskGroup
	for _, st := range incident.Stages {
		g := incidentTaskGroup{Stage: st, Current: st == inc.Stage}
		for _, t := range inc.Tasks {
			if t.Stage == st {
				g.Tasks = append(g.Tasks, t)
				if t.Done {
					g.Done++
				}
			}
		}
		if len(g.Tasks) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// incidentEntityQuery is the incidentSearch box's first query: any of the
// incident's main entities, as free text (the API searches the events of
// all its entities; the query is the responder's to narrow).
func incidentEntityQuery(inc incident.Incident) string {
	var terms []string
	for _, e := range inc.Entities {
		if len(terms) == incSearchEntities {
			break
		}
		if e.Value == "" || strings.ContainsAny(e.Value, `"\`) {
			continue
		}
		t := strconv.Quote(e.Value)
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	return strings.Join(terms, " OR ")
}

// searchIncidentEvents runs the search when the visitor asked for it (?q=).
func (h *Handler) searchIncidentEvents(r *http.Request, base string, inc incident.Incident) incidentSearch {
	q := r.URL.Query()
	inv := incidentSearch{Query: incidentEntityQuery(inc)}
	if _, ok := q["q"]; !ok {
		return inv
	}
	inv.Ran, inv.Query = true, q.Get("q")
	var res struct {
		Events   []map[string]any `json:"events"`
		Next     string           `json:"next"`
		Scanned  int              `json:"scanned"`
		From     time.Time        `json:"from"`
		To       time.Time        `json:"to"`
		Entities []string         `json:"entities"`
	}
	sq := url.Values{"q": {inv.Query}, "limit": {strconv.Itoa(incSearchPage)}}
	if c := q.Get("ev_cursor"); c != "" {
		sq.Set("cursor", c)
	}
	if err := h.get(r, base+"/events", sq, &res); err != nil {
		inv.Error = incidentPartError(err)
		return inv
	}
	inv.Scanned, inv.From, inv.To, inv.Entities = res.Scanned, res.From, res.To, res.Entities
	for _, ev := range res.Events {
		inv.Events = append(inv.Events, incidentEventRowOf(ev))
	}
	if res.Next != "" {
		inv.Next = withQuery(r.URL, "ev_cursor", res.Next) + "#investigate"
	}
	if q.Get("ev_cursor") != "" {
		inv.First = withQuery(r.URL, "ev_cursor", "") + "#investigate"
	}
	return inv
}

// incEventLead are the common fields a results row shows first.
var incEventLead = []string{"event.action", "event.outcome", "user.name", "source.ip", "destination.ip", "destination.port",
	"host.name", "process.name", "process.command_line", "url.original", "db.statement", "file.path", "http.response.status_code"}

// incidentEventRowOf picks an event's time, source and first common fields.
func incidentEventRowOf(ev map[string]any) incidentEventRow {
	str := func(k string) string {
		if v, ok := ev[k].(string); ok {
			return v
		}
		return ""
	}
	row := incidentEventRow{ID: str("id"), Time: str("@timestamp"), Source: str("source")}
	if f := str("format"); f != "" {
		row.Source += " (" + f + ")"
	}
	if t, err := time.Parse(time.RFC3339Nano, row.Time); err == nil {
		row.Time = timestamp(t)
	}
	var keys []string
	for k, v := range ev {
		switch k {
		case "id", "workspace", "source", "format", "logsource", "@timestamp", "received", "fields":
			continue
		}
		if _, ok := v.(string); ok {
			keys = append(keys, k)
		}
	}
	// The fields that tell what happened come first, the rest by name.
	rank := func(k string) int {
		if i := slices.Index(incEventLead, k); i >= 0 {
			return i
		}
		return len(incEventLead)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		if len(row.Summary) == incEventSummaryMax {
			break
		}
		row.Summary = append(row.Summary, k+"="+str(k))
	}
	return row
}

// incidentPager is pager for a list whose cursor has its own query key, as
// a page with several lists needs.
func incidentPager(u *url.URL, key string, shown, total int, next string) Pager {
	p := Pager{Shown: shown, Total: total}
	if next != "" {
		p.Next = withQuery(u, key, next)
	}
	if u.Query().Get(key) != "" {
		p.First = withQuery(u, key, "")
	}
	return p
}

// incidentPartError is what a page says of a part it could not read.
func incidentPartError(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s (%d)", ae.Detail, ae.Status)
	}
	return "could not be read"
}
