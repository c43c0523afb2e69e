package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/vigil-sec/vigil/store"
)

// streamPath is the live stream of a workspace's alert and incident
// changes, as server-sent events (the dashboard's live updates).
const streamPath = "/api/v1/stream"

// Stream timings; fields of the API (streamPoll…) so that tests wait less.
const (
	// streamPoll is how often a stream reads the change logs when no
	// signal came: the signals cover the changes of this process, the
	// poll those of another one sharing the store (the CLI).
	streamPoll = time.Second
	// streamHeartbeat keeps proxies and the browser from taking an idle
	// stream for a dead one.
	streamHeartbeat = 15 * time.Second
	// streamLife ends a stream after a while: the client reconnects with
	// Last-Event-ID and is authenticated again, so that a revoked key or
	// an ended session does not go on listening.
	streamLife = 10 * time.Minute
	// streamPage is how many changes of a log a stream reads at once.
	streamPage = 1000
)

// errClientGone ends a stream whose client stopped reading.
var errClientGone = errors.New("the client is gone")

// alertFeed is the alert stream as a live stream reads it.
type alertFeed interface {
	AlertChanges(ctx context.Context, afterSeq int64, limit int) ([]store.AlertChange, error)
	AlertChangesSignal() <-chan struct{}
}

// incidentFeed is the incident stream as a live stream reads it.
type incidentFeed interface {
	IncidentChanges(ctx context.Context, afterSeq int64, limit int) ([]store.IncidentChange, error)
	IncidentChangesSignal() <-chan struct{}
	Incident(ctx context.Context, workspace, id string) (incidentView, error)
}

// changeHeads, when the store has it, says where the streams end now
// (the SQLite store: ChangeHeads); otherwise a stream reads them through.
type changeHeads interface {
	ChangeHeads(ctx context.Context) (alerts, incidents int64, err error)
}

// streamInput is the stream's request.
type streamInput struct {
	LastEventID string `header:"Last-Event-ID" maxLength:"64" doc:"The id of the last event received (the browser's EventSource sends it when it reconnects): the stream goes on after it. Without it the stream starts with the changes made from now on."`
}

// AlertEvent is the data of an alert event.
type AlertEvent struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	// Change is what happened: created, updated (new signals) or status.
	Change string `json:"change"`
}

// IncidentEvent is the data of an incident event.
type IncidentEvent struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Stage    string `json:"stage"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	// Change is what happened (store.IncidentChangeKind): created,
	// updated, stage, merged, split or reopened.
	Change string `json:"change"`
}

// incidentView is what an incident event tells of an incident.
type incidentView struct{ Title, Stage, Severity, Status string }

// incidentsOf adapts the store's incidents to incidentFeed.
type incidentsOf struct{ store.Incidents }

func (s incidentsOf) Incident(ctx context.Context, ws, id string) (incidentView, error) {
	inc, err := s.Incidents.Incident(ctx, ws, id)
	if err != nil {
		return incidentView{}, err
	}
	return incidentView{Title: inc.Title, Stage: string(inc.Stage), Severity: inc.Severity.String(), Status: string(inc.Status)}, nil
}

func (a *API) registerStream(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "stream",
		Method:      http.MethodGet,
		Path:        streamPath,
		Summary:     "Follow new and changed alerts and incidents",
		Description: "Server-sent events (text/event-stream) of the workspace: event `alert` (id, title, severity, status, change) for each alert created, grown or changed in status, event `incident` (id, title, stage, severity, status, change) for each incident change, as they are committed. Every event has an id; a client that reconnects with it as Last-Event-ID goes on after it. A comment line is sent every 15 s when nothing happens; the stream ends after 10 minutes (the client reconnects) and when the server shuts down.",
		Tags:        []string{"stream"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusNotImplemented},
		Responses: map[string]*huma.Response{
			"200": {Description: "The event stream.", Content: map[string]*huma.MediaType{
				"text/event-stream": {Schema: &huma.Schema{Type: "string"}},
			}},
		},
	}, a.stream)
}

// streamPos is where a stream is in the two change logs.
type streamPos struct{ alerts, incidents int64 }

func (p streamPos) String() string { return fmt.Sprintf("%d-%d", p.alerts, p.incidents) }

// parseStreamPos reads an event id ("alerts-incidents").
func parseStreamPos(s string) (streamPos, error) {
	as, is, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseInt(as, 10, 64)
	i, err2 := strconv.ParseInt(is, 10, 64)
	if !ok || err1 != nil || err2 != nil || a < 0 || i < 0 {
		return streamPos{}, fmt.Errorf("want an event id of this stream, two numbers joined by -, like 120-7")
	}
	return streamPos{a, i}, nil
}

func (a *API) stream(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	alerts, _ := a.store.(alertFeed)
	var incidents incidentFeed
	if st, ok := a.store.(store.Incidents); ok {
		incidents = incidentsOf{st}
	}
	if alerts == nil && incidents == nil {
		return nil, huma.Error501NotImplemented("this store keeps no change logs to follow")
	}
	head, err := a.streamHeads(ctx, alerts, incidents)
	if err != nil {
		return nil, a.storeError(ctx, "stream", err)
	}
	pos := head
	if in.LastEventID != "" {
		p, err := parseStreamPos(in.LastEventID)
		if err != nil {
			return nil, invalid("header.Last-Event-ID", err.Error(), in.LastEventID)
		}
		// An id beyond the heads is of another store (the data directory
		// was replaced): start from now rather than wait for its numbers.
		pos = streamPos{min(p.alerts, head.alerts), min(p.incidents, head.incidents)}
	}
	s := &liveStream{api: a, ws: k.Workspace, alerts: alerts, incidents: incidents, pos: pos}
	return &huma.StreamResponse{Body: s.run}, nil
}

// streamHeads is where the change logs end now.
func (a *API) streamHeads(ctx context.Context, alerts alertFeed, incidents incidentFeed) (streamPos, error) {
	if h, ok := a.store.(changeHeads); ok {
		al, in, err := h.ChangeHeads(ctx)
		return streamPos{al, in}, err
	}
	var p streamPos
	for alerts != nil {
		cs, err := alerts.AlertChanges(ctx, p.alerts, 1000)
		if err != nil || len(cs) == 0 {
			return p, err
		}
		p.alerts = cs[len(cs)-1].Seq
	}
	for incidents != nil {
		cs, err := incidents.IncidentChanges(ctx, p.incidents, 1000)
		if err != nil || len(cs) == 0 {
			return p, err
		}
		p.incidents = cs[len(cs)-1].Seq
	}
	return p, nil
}

// CloseStreams ends the live streams being served (one that starts later
// ends at once); the server calls it as it shuts down (http.Server.Shutdown
// waits for open requests, which a stream would hold until its end).
func (a *API) CloseStreams() { a.streamsOnce.Do(func() { close(a.streamsDone) }) }

// liveStream is one client's stream.
type liveStream struct {
	api       *API
	ws        string
	alerts    alertFeed
	incidents incidentFeed
	pos       streamPos
	w         http.ResponseWriter
	rc        *http.ResponseController
}

func (s *liveStream) run(hctx huma.Context) {
	_, w := humago.Unwrap(hctx)
	s.w, s.rc = w, http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	ctx := hctx.Context()
	// The browser reconnects 3 s after a stream ends.
	if !s.send("retry: 3000\n\n") {
		return
	}
	a := s.api
	life := time.NewTimer(a.streamLife)
	defer life.Stop()
	poll := time.NewTicker(a.streamPoll)
	defer poll.Stop()
	beat := time.NewTicker(a.streamBeat)
	defer beat.Stop()
	for {
		// The signals are taken before reading, so that a change
		// committed while reading wakes the next round.
		var aSig, iSig <-chan struct{}
		if s.alerts != nil {
			aSig = s.alerts.AlertChangesSignal()
		}
		if s.incidents != nil {
			iSig = s.incidents.IncidentChangesSignal()
		}
		sent, more, err := s.catchUp(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, errClientGone) {
				a.log.WarnContext(ctx, "api: live stream", "workspace", s.ws, "err", err)
			}
			return
		}
		if sent {
			beat.Reset(a.streamBeat)
		}
		if more { // a full page: read on before waiting
			select {
			case <-ctx.Done():
				return
			case <-a.streamsDone:
				return
			default:
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.streamsDone:
			return
		case <-life.C:
			return
		case <-aSig:
		case <-iSig:
		case <-poll.C:
		case <-beat.C:
			if !s.send(": keep-alive\n\n") {
				return
			}
		}
	}
}

// catchUp sends the workspace's changes after the stream's position, a
// page of each log; it reports whether it sent any and whether a log had
// more than a page. Changes of one alert or incident in one read are sent
// once, as they stand after the last.
func (s *liveStream) catchUp(ctx context.Context) (sent, more bool, err error) {
	from := s.pos
	var evs []streamEvent
	if s.alerts != nil {
		cs, err := s.alerts.AlertChanges(ctx, s.pos.alerts, streamPage)
		if err != nil {
			return false, false, err
		}
		last := map[string]store.AlertChange{}
		for _, c := range cs {
			if c.Workspace == s.ws {
				last[c.AlertID] = c
			}
		}
		for _, c := range last {
			al, err := s.api.store.Alert(ctx, s.ws, c.AlertID)
			if errors.Is(err, store.ErrNotFound) {
				continue // purged since
			}
			if err != nil {
				return false, false, err
			}
			evs = append(evs, streamEvent{name: "alert", alertSeq: c.Seq, data: AlertEvent{ID: al.ID, Title: al.Rule.Title,
				Severity: al.Severity.String(), Status: string(al.Status), Change: string(c.Kind)}})
		}
		if len(cs) > 0 {
			s.pos.alerts = cs[len(cs)-1].Seq
		}
		more = more || len(cs) == streamPage
	}
	if s.incidents != nil {
		cs, err := s.incidents.IncidentChanges(ctx, s.pos.incidents, streamPage)
		if err != nil {
			return false, false, err
		}
		last := map[string]store.IncidentChange{}
		for _, c := range cs {
			if c.Workspace == s.ws {
				last[c.IncidentID] = c
			}
		}
		for _, c := range last {
			inc, err := s.incidents.Incident(ctx, s.ws, c.IncidentID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return false, false, err
			}
			evs = append(evs, streamEvent{name: "incident", incidentSeq: c.Seq, data: IncidentEvent{ID: c.IncidentID,
				Title: inc.Title, Stage: inc.Stage, Severity: inc.Severity, Status: inc.Status, Change: string(c.Kind)}})
		}
		if len(cs) > 0 {
			s.pos.incidents = cs[len(cs)-1].Seq
		}
		more = more || len(cs) == streamPage
	}
	if len(evs) == 0 {
		return false, more, nil
	}
	// In the order of the logs; each event's id is the position after it,
	// the last one's the position after everything read.
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].name != evs[j].name {
			return evs[i].name == "alert"
		}
		if evs[i].name == "alert" {
			return evs[i].alertSeq < evs[j].alertSeq
		}
		return evs[i].incidentSeq < evs[j].incidentSeq
	})
	var b strings.Builder
	for i, e := range evs {
		id := s.pos
		switch {
		case i == len(evs)-1:
		case e.name == "alert":
			id = streamPos{alerts: e.alertSeq, incidents: from.incidents}
		default:
			id = streamPos{alerts: s.pos.alerts, incidents: e.incidentSeq}
		}
		data, err := json.Marshal(e.data)
		if err != nil {
			return false, false, fmt.Errorf("stream event %s: %w", e.name, err)
		}
		fmt.Fprintf(&b, "id: %s\nevent: %s\ndata: %s\n\n", id, e.name, data)
	}
	if !s.send(b.String()) {
		return false, false, errClientGone
	}
	return true, more, nil
}

type streamEvent struct {
	name                  string
	alertSeq, incidentSeq int64
	data                  any
}

// send writes and flushes; false when the client is gone.
func (s *liveStream) send(text string) bool {
	if _, err := s.w.Write([]byte(text)); err != nil {
		return false
	}
	return s.rc.Flush() == nil
}

// streamState is the API's part in the live streams.
type streamState struct {
	streamPoll, streamBeat, streamLife time.Duration
	streamsDone                        chan struct{}
	streamsOnce                        sync.Once
}
