package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// Board sizes: an open column shows its most urgent incidents, the closed
// column its latest few; "N more" opens the stage's paged list.
const (
	boardColumnSize  = 8
	boardClosedSize  = 5
	incStageListSize = 50
)

// incidentListAnswer is the API's answer to GET /api/v1/incidents.
type incidentListAnswer struct {
	Incidents []incident.Incident `json:"incidents"`
	Next      string              `json:"next"`
	Total     int                 `json:"total"`
}

// boardFilters are the board's filters, as the page's query and the API's
// share them.
type boardFilters struct {
	MinSeverity string
	Owner       string
	Tag         string
	Q           string
}

func boardFiltersOf(u *url.URL) boardFilters {
	q := u.Query()
	return boardFilters{MinSeverity: q.Get("min_severity"), Owner: q.Get("owner"), Tag: q.Get("tag"), Q: q.Get("q")}
}

// query is the API query of the filters.
func (f boardFilters) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"min_severity": f.MinSeverity, "owner": f.Owner, "tag": f.Tag, "q": f.Q} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Any reports whether a filter is set.
func (f boardFilters) Any() bool { return f != boardFilters{} }

// boardColumn is one stage's column.
type boardColumn struct {
	Stage     incident.Stage
	Incidents []incident.Incident
	Total     int
	// More is how many the column leaves out; MoreURL lists them all.
	More    int
	MoreURL string
	Closed  bool
}

// incidentStageList is the paged list of one stage's incidents (?stage=).
type incidentStageList struct {
	Stage     incident.Stage
	Incidents []incident.Incident
	Pager     Pager
	BoardURL  string
}

type boardData struct {
	Filters    boardFilters
	Columns    []boardColumn
	List       *incidentStageList
	Severities []string
	URL        *url.URL
	// MineURL filters the board to the visitor's incidents.
	MineURL string
	Total   int
}

func (h *Handler) registerIncidents() {
	h.page("GET /incidents", h.incidents)
	h.page("GET /incidents/{id}", h.incidentPage)
}

// incidentSeverities are the severities from the least, as the API spells them.
func incidentSeverities() []string {
	var out []string
	for s := alert.Informational; s <= alert.Critical; s++ {
		out = append(out, s.String())
	}
	return out
}

// incidents is the board: a column a stage, or with ?stage= that stage's
// paged list.
func (h *Handler) incidents(w http.ResponseWriter, r *http.Request, s Session) {
	f := boardFiltersOf(r.URL)
	d := boardData{Filters: f, Severities: incidentSeverities(), URL: r.URL,
		MineURL: withQuery(r.URL, "owner", s.User)}
	if st := r.URL.Query().Get("stage"); st != "" {
		list, err := h.readStageList(r, f, incident.Stage(st))
		if err != nil {
			h.fail(w, r, s, err)
			return
		}
		d.List = list
		title := "Incidents in " + titleCase(st)
		if incident.Stage(st) == incident.StageClose {
			title = "Closed incidents"
		}
		h.render(w, r, http.StatusOK, "incidents", Page{Title: title, Nav: "incidents",
			Session: s, Data: d, Live: true})
		return
	}
	for _, st := range incident.Stages {
		q := f.query()
		q.Set("stage", string(st))
		size, closed := boardColumnSize, st == incident.StageClose
		q.Set("sort", "priority")
		if closed {
			// The closed column is a record of what was done lately.
			size = boardClosedSize
			q.Set("sort", "last_seen")
		}
		q.Set("limit", strconv.Itoa(size))
		var l incidentListAnswer
		if err := h.get(r, "/api/v1/incidents", q, &l); err != nil {
			h.fail(w, r, s, err)
			return
		}
		c := boardColumn{Stage: st, Incidents: l.Incidents, Total: l.Total, Closed: closed,
			More: l.Total - len(l.Incidents), MoreURL: withQuery(r.URL, "stage", string(st))}
		d.Columns = append(d.Columns, c)
		d.Total += l.Total
	}
	h.render(w, r, http.StatusOK, "incidents", Page{Title: "Incidents", Nav: "incidents", Session: s, Data: d, Live: true})
}

// readStageList reads one page of a stage's incidents: open ones by priority,
// closed ones latest first.
func (h *Handler) readStageList(r *http.Request, f boardFilters, st incident.Stage) (*incidentStageList, error) {
	if !st.Valid() {
		return nil, &APIError{Status: http.StatusNotFound, Detail: "There is no stage " + strconv.Quote(string(st)) +
			": the stages are detect, assess, diagnose, stabilize and close.", Path: r.URL.Path}
	}
	q := f.query()
	q.Set("stage", string(st))
	q.Set("sort", "priority")
	if st == incident.StageClose {
		q.Set("sort", "last_seen")
	}
	q.Set("limit", strconv.Itoa(incStageListSize))
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var l incidentListAnswer
	if err := h.get(r, "/api/v1/incidents", q, &l); err != nil {
		return nil, err
	}
	return &incidentStageList{Stage: st, Incidents: l.Incidents, Pager: pager(r.URL, len(l.Incidents), l.Total, l.Next),
		BoardURL: withQuery(r.URL, "stage", "")}, nil
}

// classificationLabel is a close classification in words.
func classificationLabel(c incident.Classification) string {
	switch c {
	case incident.TruePositiveImpact:
		return "True positive, with impact"
	case incident.TruePositiveNoImpact:
		return "True positive, no impact"
	case incident.BenignPositive:
		return "Benign positive"
	case incident.FalsePositive:
		return "False positive"
	}
	return string(c)
}
