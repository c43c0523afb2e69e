package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type sourcesInput struct {
	PageQuery
}

type sourcesOutput struct {
	Body struct {
		Sources []SourceView `json:"sources"`
		Next    string       `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

// SourceHealth is what the source-health monitor knows of a source.
type SourceHealth struct {
	Rate          float64 `json:"rate" doc:"Recent events a second (moving average)."`
	UsualInterval string  `json:"usual_interval,omitempty" doc:"Usual time between the source's batches, once known."`
	Silent        bool    `json:"silent" doc:"The source used to send and has fallen silent (an alert was raised)."`
	// Refused connections of the source's syslog TCP/TLS listeners since
	// start: a sender locked out shows here before anywhere else.
	RefusedConnections int64  `json:"refused_connections,omitempty" required:"false" doc:"Connections the source's syslog TCP/TLS listeners refused since start (connection limits); absent when none."`
	DetectionLag       string `json:"detection_lag,omitempty" doc:"How long the source's records now wait between ingest's acknowledgement and detection: its last batch's wait, or the oldest batch still waiting on the bus if longer."`
}

// SourceView is a source with its health, as the API shows it.
type SourceView struct {
	tenant.Source
	Health *SourceHealth `json:"health,omitempty" required:"false" doc:"Absent until the source has sent or its listeners refused a connection."`
}

func (a *API) view(ws string, srcs ...tenant.Source) []SourceView {
	var h map[string]SourceHealth
	if a.health != nil {
		h = a.health(ws)
	}
	out := make([]SourceView, 0, len(srcs))
	for _, s := range srcs {
		v := SourceView{Source: s}
		if sh, ok := h[s.Name]; ok {
			v.Health = &sh
		}
		out = append(out, v)
	}
	return out
}

type sourceNameInput struct {
	Name string `path:"name" doc:"The source's name."`
}

type putSourceInput struct {
	// The same rule as ingest's ?source=: names show up in URLs, metrics
	// and logs.
	Name string `path:"name" pattern:"^[A-Za-z0-9._:/-]{1,128}$" doc:"The source's name, as ingest is told it: 1 to 128 of A-Z a-z 0-9 . _ - : / (a slash sent as %2F)."`
	Body struct {
		Format    string          `json:"format" doc:"The records' format: one of the decoders this server knows (see vigil decode --help)."`
		Logsource event.Logsource `json:"logsource,omitempty" required:"false" doc:"Sigma logsource applied over the one the format implies."`
		TimeZone  string          `json:"timezone,omitempty" required:"false" doc:"IANA time zone of time stamps that carry none, e.g. Europe/Paris; UTC when empty."`
	}
}

type sourceOutput struct {
	Body SourceView
}

// sourceQuarantine is the store's side of a source's quarantine; the
// embedded store has it.
type sourceQuarantine interface {
	QuarantineSource(ctx context.Context, workspace, name string, on bool) (tenant.Source, error)
}

type patchSourceInput struct {
	Name string `path:"name" doc:"The source's name."`
	Body struct {
		Quarantined bool `json:"quarantined" doc:"true holds the source's records in the quarantine, undecoded and not detected on; false releases it. Takes effect within the detect stage's lookup time (10 s)."`
	}
}

func (a *API) registerSources(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-sources",
		Method:      http.MethodGet,
		Path:        "/api/v1/sources",
		Summary:     "List the workspace's sources",
		Description: "Each source with its format, logsource, counters and when it was last seen, by name, paged.",
		Tags:        []string{"sources"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listSources)
	huma.Register(h, huma.Operation{
		OperationID: "get-source",
		Method:      http.MethodGet,
		Path:        "/api/v1/sources/{name}",
		Summary:     "Get a source",
		Tags:        []string{"sources"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound},
	}, a.getSource)
	huma.Register(h, huma.Operation{
		OperationID: "put-source",
		Method:      http.MethodPut,
		Path:        "/api/v1/sources/{name}",
		Summary:     "Create or change a source",
		Description: "Sets the source's format, logsource and time zone; its counters are kept. Audited as source.put.",
		Tags:        []string{"sources"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.putSource)
	huma.Register(h, huma.Operation{
		OperationID: "patch-source",
		Method:      http.MethodPatch,
		Path:        "/api/v1/sources/{name}",
		Summary:     "Quarantine or release a source",
		Description: "A quarantined source's records go to the quarantine (GET /api/v1/quarantine?source=NAME) instead of decoding and detection, until it is released; records held meanwhile are not detected on later. Audited as source.quarantine or source.release.",
		Tags:        []string{"sources"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, a.patchSource)
}

func (a *API) listSources(ctx context.Context, in *sourcesInput) (*sourcesOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	srcs, next, err := a.store.SourcePage(ctx, k.Workspace, store.SourceQuery{Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, a.storeError(ctx, "sources", err)
	}
	out := &sourcesOutput{}
	out.Body.Sources = a.view(k.Workspace, srcs...)
	out.Body.Next = next
	return out, nil
}

func (a *API) getSource(ctx context.Context, in *sourceNameInput) (*sourceOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	s, err := a.store.Source(ctx, k.Workspace, in.Name)
	if err != nil {
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	return &sourceOutput{Body: a.view(k.Workspace, s)[0]}, nil
}

func (a *API) putSource(ctx context.Context, in *putSourceInput) (*sourceOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !decode.Known(in.Body.Format) {
		return nil, invalid("body.format", "unknown format; known: "+strings.Join(decode.Formats(), ", "), in.Body.Format)
	}
	if tz := in.Body.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, invalid("body.timezone", "not an IANA time zone: "+err.Error(), tz)
		}
	}
	s, err := a.store.Source(ctx, k.Workspace, in.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s = tenant.Source{Workspace: k.Workspace, Name: in.Name, Created: a.now().UTC()}
	case err != nil:
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	s.Format, s.Logsource, s.TimeZone = in.Body.Format, in.Body.Logsource, in.Body.TimeZone
	if err := a.store.PutSource(ctx, s); err != nil {
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	a.audit(ctx, k, "source.put", "source:"+s.Name, "format "+s.Format)
	// Answer with what the store kept (its creation time, its counters).
	if stored, err := a.store.Source(ctx, k.Workspace, in.Name); err == nil {
		s = stored
	}
	return &sourceOutput{Body: a.view(k.Workspace, s)[0]}, nil
}

func (a *API) patchSource(ctx context.Context, in *patchSourceInput) (*sourceOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sq, ok := a.store.(sourceQuarantine)
	if !ok {
		return nil, huma.Error501NotImplemented("this store cannot quarantine a source")
	}
	s, err := sq.QuarantineSource(ctx, k.Workspace, in.Name, in.Body.Quarantined)
	if err != nil {
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	action := "source.release"
	if s.Quarantined {
		action = "source.quarantine"
	}
	a.audit(ctx, k, action, "source:"+s.Name, "format "+s.Format)
	return &sourceOutput{Body: a.view(k.Workspace, s)[0]}, nil
}
