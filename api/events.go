package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

type eventsInput struct {
	From   time.Time `query:"from" doc:"Keep events at or after this time (RFC 3339)."`
	To     time.Time `query:"to" doc:"Keep events before this time (RFC 3339)."`
	Entity string    `query:"entity" doc:"Keep events whose indexed common fields (ip, host, account, process, url, database…) hold this value; host names, domains, addresses, accounts and Windows paths compare without regard to case, Unix paths and URLs exactly."`
	Source string    `query:"source" doc:"Keep events of this source."`
	PageQuery
}

// eventJSON is one event in its JSON form, as `vigil decode` shows it.
type eventJSON json.RawMessage

func (e eventJSON) MarshalJSON() ([]byte, error) { return json.RawMessage(e).MarshalJSON() }

// Schema describes the event's flat JSON form; the source's own fields
// vary by format, so the object stays open.
func (eventJSON) Schema(huma.Registry) *huma.Schema {
	str := &huma.Schema{Type: huma.TypeString}
	return &huma.Schema{
		Type:        huma.TypeObject,
		Description: "An event: id, workspace, source, format, logsource, @timestamp and received (RFC 3339, UTC), the common fields under their dotted ECS names (\"source.ip\", \"user.name\"…), the source's own fields under \"fields\". When the record cannot be decoded again, \"raw\" holds it and \"decode_error\" says why.",
		Properties: map[string]*huma.Schema{
			"id":        str,
			"workspace": str,
			"source":    str,
			"format":    str,
			"logsource": {Type: huma.TypeObject, Properties: map[string]*huma.Schema{
				"product": str, "category": str, "service": str,
			}},
			"@timestamp":   {Type: huma.TypeString, Format: "date-time"},
			"received":     {Type: huma.TypeString, Format: "date-time"},
			"fields":       {Type: huma.TypeObject, AdditionalProperties: true},
			"raw":          str,
			"decode_error": str,
		},
		Required:             []string{"id", "source", "logsource", "@timestamp", "received"},
		AdditionalProperties: true,
	}
}

type eventsOutput struct {
	Body struct {
		Events []eventJSON `json:"events"`
		Next   string      `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

type eventIDInput struct {
	ID string `path:"id" doc:"The event's id (a 26-character ULID)."`
}

type eventOutput struct {
	Body eventJSON
}

func (a *API) registerEvents(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-events",
		Method:      http.MethodGet,
		Path:        "/api/v1/events",
		Summary:     "Search events",
		Description: "Events of the key's workspace, decoded again from their stored records, filtered and paged.",
		Tags:        []string{"events"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listEvents)
	huma.Register(h, huma.Operation{
		OperationID: "get-event",
		Method:      http.MethodGet,
		Path:        "/api/v1/events/{id}",
		Summary:     "Get an event",
		Tags:        []string{"events"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, a.getEvent)
}

func (a *API) listEvents(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !in.From.IsZero() && !in.To.IsZero() && !in.From.Before(in.To) {
		return nil, invalid("query.to", "to must be after from", in.To)
	}
	evs, next, err := a.store.Events(ctx, k.Workspace, store.EventQuery{
		From:   in.From,
		To:     in.To,
		Entity: in.Entity,
		Source: in.Source,
		Limit:  in.Limit,
		Cursor: in.Cursor,
	})
	if err != nil {
		return nil, a.storeError(ctx, "events", err)
	}
	r := newEventRenderer()
	out := &eventsOutput{}
	out.Body.Events = make([]eventJSON, len(evs))
	for i := range evs {
		out.Body.Events[i] = r.render(&evs[i])
	}
	out.Body.Next = next
	return out, nil
}

func (a *API) getEvent(ctx context.Context, in *eventIDInput) (*eventOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := event.ParseID(in.ID)
	if err != nil {
		return nil, invalid("path.id", "not an event id (a 26-character ULID): "+err.Error(), in.ID)
	}
	se, err := a.store.Event(ctx, k.Workspace, id)
	if err != nil {
		return nil, a.storeError(ctx, "event "+in.ID, err)
	}
	return &eventOutput{Body: newEventRenderer().render(&se)}, nil
}

// eventRenderer renders stored events in their JSON form for one request.
type eventRenderer struct{ r *decode.Renderer }

func newEventRenderer() eventRenderer { return eventRenderer{decode.NewRenderer()} }

func (r eventRenderer) render(se *store.StoredEvent) eventJSON {
	stored := se.Event()
	ev, err := r.r.Render(&stored)
	return eventJSON(decode.AppendJSON(nil, ev, err))
}
