package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/query"
	"github.com/vigil-sec/vigil/store"
)

// MaxScanned bounds the events one search request decodes and tests: a
// query that matches little must not hold the server for the whole
// store. A page cut short by it says so with a cursor that goes on.
const MaxScanned = 10000

// incidentWindow widens an incident's activity, by default, to the
// events that led to it and followed it.
const incidentWindow = time.Hour

// SearchQuery is the query parameter of the searchable event routes.
type SearchQuery struct {
	Q string `query:"q" maxLength:"16384" doc:"A search query (docs/investigation.md): field:value terms with wildcards (* ?), CIDR blocks, ranges ([a TO b], >n), AND, OR, NOT, parentheses; values compare without regard to case. Empty keeps every event."`
}

type incidentEventsInput struct {
	ID   string    `path:"id" doc:"The incident's id."`
	From time.Time `query:"from" doc:"Keep events at or after this time (RFC 3339); default an hour before the incident's first activity."`
	To   time.Time `query:"to" doc:"Keep events before this time (RFC 3339); default an hour after its last activity."`
	SearchQuery
	Source string `query:"source" doc:"Keep events of this source."`
	PageQuery
}

type incidentEventsOutput struct {
	Body struct {
		Events   []eventJSON `json:"events"`
		Next     string      `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
		Scanned  int         `json:"scanned" doc:"Events of the incident's entities and range decoded and tested by this request (at most 10,000)."`
		From     time.Time   `json:"from" doc:"The start of the range searched."`
		To       time.Time   `json:"to" doc:"The end of the range searched."`
		Entities []string    `json:"entities" doc:"The entity values whose events were searched."`
	}
}

func (a *API) registerInvestigate(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "incident-events",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents/{id}/events",
		Summary:     "Search an incident's events",
		Description: "The events of the incident's entities (any of them) over a time range — by default from an hour before its first activity to an hour after its last — filtered by a search query, newest first. A page may hold fewer events than the limit, even none, when 10,000 events were tested without filling it: next then continues the search.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, a.incidentEvents)
}

// incidentReader is what the investigation needs of the incident store.
type incidentReader interface {
	Incident(ctx context.Context, workspace, id string) (incident.Incident, error)
}

func (a *API) incidentEvents(ctx context.Context, in *incidentEventsInput) (*incidentEventsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q, err := parseSearch(in.Q)
	if err != nil {
		return nil, err
	}
	ir, ok := a.store.(incidentReader)
	if !ok {
		// As every incident route answers without an incident store.
		return nil, huma.Error503ServiceUnavailable("this store keeps no incidents")
	}
	inc, err := ir.Incident(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.storeError(ctx, "incident "+in.ID, err)
	}
	from, to := in.From, in.To
	if from.IsZero() && !inc.FirstSeen.IsZero() {
		from = inc.FirstSeen.Add(-incidentWindow)
	}
	if to.IsZero() && !inc.LastSeen.IsZero() {
		to = inc.LastSeen.Add(incidentWindow)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, invalid("query.to", "to must be after from", to)
	}
	out := &incidentEventsOutput{}
	out.Body.From, out.Body.To = from.UTC(), to.UTC()
	out.Body.Entities = incidentEntities(inc)
	out.Body.Events = []eventJSON{}
	if len(out.Body.Entities) == 0 {
		return out, nil // no entity, no event: not every event
	}
	res, err := a.searchEvents(ctx, k.Workspace, store.EventQuery{
		From: from, To: to, Entities: out.Body.Entities, Source: in.Source,
		Limit: in.Limit, Cursor: in.Cursor,
	}, q)
	if err != nil {
		return nil, err
	}
	out.Body.Events, out.Body.Next, out.Body.Scanned = res.events, res.next, res.scanned
	return out, nil
}

// incidentEntities are the distinct entity values of an incident whose
// events an investigation reads, at most store.MaxEventEntities.
func incidentEntities(inc incident.Incident) []string {
	seen := map[string]bool{}
	vals := []string{}
	for _, e := range inc.Entities {
		if e.Value == "" || seen[e.Value] || len(vals) == store.MaxEventEntities {
			continue
		}
		seen[e.Value] = true
		vals = append(vals, e.Value)
	}
	return vals
}

// parseSearch parses q, an invalid query being the client's error with
// the column at fault.
func parseSearch(s string) (*query.Query, error) {
	q, err := query.Parse(s)
	if err != nil {
		var se *query.SyntaxError
		if errors.As(err, &se) {
			return nil, huma.Error422UnprocessableEntity("invalid query.q: "+err.Error(), &huma.ErrorDetail{
				Location: "query.q", Message: se.Msg, Value: se.Token,
			})
		}
		return nil, invalid("query.q", err.Error(), s)
	}
	return q, nil
}

type searchResult struct {
	events  []eventJSON
	next    string
	scanned int
}

// searchEvents pages the events sq selects and keeps those q matches,
// until the page is full or MaxScanned events were tested. The store
// narrows first (workspace, time, source, entities: its indexes), the
// query then tests each event decoded again.
//
// The cursor handed back is the store's own, so it continues exactly
// after the last event returned: when the page fills in the middle of a
// store page, that page is asked for again up to the event that filled
// it, which gives the store's cursor after it.
func (a *API) searchEvents(ctx context.Context, workspace string, sq store.EventQuery, q *query.Query) (searchResult, error) {
	want := sq.Limit
	if want <= 0 {
		want = defaultLimit
	}
	want = min(want, maxLimit)
	r := decode.NewRenderer()
	var fields query.EventFields
	res := searchResult{events: []eventJSON{}}
	for {
		pageQ := sq
		pageQ.Limit = min(maxLimit, MaxScanned-res.scanned)
		evs, next, err := a.store.Events(ctx, workspace, pageQ)
		if err != nil {
			return res, a.storeError(ctx, "events", err)
		}
		for i := range evs {
			res.scanned++
			stored := evs[i].Event()
			ev, derr := r.Render(&stored)
			fields.Reset(ev)
			if !q.Match(&fields) {
				continue
			}
			res.events = append(res.events, eventJSON(decode.AppendJSON(nil, ev, derr)))
			if len(res.events) < want {
				continue
			}
			if i == len(evs)-1 {
				res.next = next
				return res, nil
			}
			upTo := sq
			upTo.Limit = i + 1
			_, res.next, err = a.store.Events(ctx, workspace, upTo)
			if err != nil {
				return res, a.storeError(ctx, "events", err)
			}
			return res, nil
		}
		if next == "" || len(evs) == 0 {
			return res, nil
		}
		sq.Cursor = next
		if res.scanned >= MaxScanned {
			res.next = next // the scan stopped here; the client may go on
			return res, nil
		}
	}
}
