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
	Silence SourceSilence `json:"silence"`
	Health  *SourceHealth `json:"health,omitempty" required:"false" doc:"Absent until the source has sent or its listeners refused a connection."`
}

func (a *API) view(ws string, srcs ...tenant.Source) []SourceView {
	var h map[string]SourceHealth
	if a.health != nil {
		h = a.health(ws)
	}
	out := make([]SourceView, 0, len(srcs))
	for _, s := range srcs {
		v := SourceView{Source: s, Silence: SourceSilence{Alert: !s.NoSilenceAlert}}
		if s.SilentAfter > 0 {
			v.Silence.SilentAfter = s.SilentAfter.String()
		}
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

// sourceControls is the store's side of a source's controls (its
// quarantine and silence alert); the embedded store has it.
type sourceControls interface {
	SetSourceControls(ctx context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error)
}

type patchSourceInput struct {
	Name string `path:"name" doc:"The source's name."`
	Body struct {
		Quarantined  *bool   `json:"quarantined,omitempty" required:"false" doc:"true holds the source's records in the quarantine, undecoded and not detected on; false releases it. Takes effect within the detect stage's lookup time (10 s)."`
		SilentAfter  *string `json:"silent_after,omitempty" required:"false" doc:"The shortest silence that raises a source-fell-silent alert for this source, a Go duration (45m, 2h); empty or 0 goes back to the configuration's."`
		SilenceAlert *bool   `json:"silence_alert,omitempty" required:"false" doc:"false turns the source's silence alert off; true on."`
	}
}

// SourceSilence is what an admin set on a source's silence alert.
type SourceSilence struct {
	SilentAfter string `json:"silent_after,omitempty" doc:"The shortest silence that raises an alert for this source, when set on the source (else the configuration's)."`
	Alert       bool   `json:"alert" doc:"Whether a silence raises an alert (false when turned off on the source)."`
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
		Summary:     "Quarantine or release a source, set its silence alert",
		Description: "A quarantined source's records go to the quarantine (GET /api/v1/quarantine?source=NAME) instead of decoding and detection, until it is released; records held meanwhile are not detected on later. silent_after and silence_alert set the source's silence alert over the configuration's. Fields left out stay as they are. Audited as source.quarantine, source.release or source.silence.",
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
	sc, ok := a.store.(sourceControls)
	if !ok {
		return nil, huma.Error501NotImplemented("this store keeps no source controls")
	}
	b := in.Body
	if b.Quarantined == nil && b.SilentAfter == nil && b.SilenceAlert == nil {
		return nil, invalid("body", "nothing to change: give quarantined, silent_after or silence_alert", nil)
	}
	s, err := a.store.Source(ctx, k.Workspace, in.Name)
	if err != nil {
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	c := s.SourceControls
	if b.Quarantined != nil {
		c.Quarantined = *b.Quarantined
	}
	if b.SilentAfter != nil {
		c.SilentAfter = 0
		if v := strings.TrimSpace(*b.SilentAfter); v != "" && v != "0" {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Minute {
				return nil, invalid("body.silent_after", "want a duration of at least 1m, like 45m or 2h", v)
			}
			c.SilentAfter = d
		}
	}
	if b.SilenceAlert != nil {
		c.NoSilenceAlert = !*b.SilenceAlert
	}
	after, err := sc.SetSourceControls(ctx, k.Workspace, in.Name, c)
	if err != nil {
		return nil, a.storeError(ctx, "source "+in.Name, err)
	}
	if after.Quarantined != s.Quarantined {
		action := "source.release"
		if after.Quarantined {
			action = "source.quarantine"
		}
		a.audit(ctx, k, action, "source:"+s.Name, "format "+s.Format)
	}
	if after.SilentAfter != s.SilentAfter || after.NoSilenceAlert != s.NoSilenceAlert {
		a.audit(ctx, k, "source.silence", "source:"+s.Name, silenceDetail(after))
	}
	return &sourceOutput{Body: a.view(k.Workspace, after)[0]}, nil
}

// silenceDetail says a source's silence settings, for the audit log.
func silenceDetail(s tenant.Source) string {
	alert := "alert on"
	if s.NoSilenceAlert {
		alert = "alert off"
	}
	if s.SilentAfter > 0 {
		return alert + ", silent after " + s.SilentAfter.String()
	}
	return alert + ", silent after the configuration's"
}
