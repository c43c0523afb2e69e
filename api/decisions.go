package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// decisionsPath is the decisions' collection; its GET routes also take
// bouncer keys (scopesFor).
const decisionsPath = "/api/v1/decisions"

type decisionBody struct {
	Kind       string `json:"kind" enum:"ip,range,account" doc:"What is blocked: ip (one address), range (a network in CIDR notation, at most /8 wide for IPv4, /16 for IPv6) or account."`
	Value      string `json:"value" minLength:"1" maxLength:"256" doc:"The address, network or account name; addresses and networks are stored in canonical form."`
	Duration   string `json:"duration" doc:"How long the block lasts, as a Go duration (90s, 30m, 4h, 168h), at most 8760h; the decision expires then."`
	Reason     string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why. Required."`
	IncidentID string `json:"incident_id,omitempty" maxLength:"64" doc:"The incident the block is part of."`
}

type createDecisionInput struct {
	Body decisionBody
}

type decisionOutput struct {
	Body store.Decision
}

type decisionIDInput struct {
	ID string `path:"id" doc:"The decision's id."`
}

type listDecisionsInput struct {
	PageQuery
	Active   bool   `query:"active" doc:"Only the decisions in force: neither revoked nor expired."`
	Kind     string `query:"kind" enum:"ip,range,account" doc:"Only decisions of this kind."`
	Value    string `query:"value" maxLength:"256" doc:"Only decisions on this value (compared in canonical form when kind is given)."`
	Incident string `query:"incident" maxLength:"64" doc:"Only decisions made for this incident."`
}

type decisionsOutput struct {
	Body struct {
		Decisions []store.Decision `json:"decisions"`
		Next      string           `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

type decisionStreamInput struct {
	Startup bool `query:"startup" doc:"true at the bouncer's start: every decision in force is new, none deleted, and the bouncer's position is reset."`
}

type decisionStreamOutput struct {
	Body store.DecisionDelta
}

func (a *API) registerDecisions(h huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotImplemented}
	huma.Register(h, huma.Operation{
		OperationID: "list-decisions",
		Method:      http.MethodGet,
		Path:        decisionsPath,
		Summary:     "List block decisions",
		Description: "The workspace's block decisions, newest first, ended ones included unless active=true. Scope read, admin or bouncer.",
		Tags:        []string{"decisions"},
		Security:    bearer,
		Errors:      append(errs, http.StatusUnprocessableEntity),
	}, a.listDecisions)
	huma.Register(h, huma.Operation{
		OperationID:   "create-decision",
		Method:        http.MethodPost,
		Path:          decisionsPath,
		Summary:       "Block an address, a network or an account",
		Description:   "Makes a decision that bouncers (firewalls, proxies) enforce until it expires or is revoked. A value with a decision in force is refused (409): revoke it first. Audited as decision.create.",
		Tags:          []string{"decisions"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        append(errs, http.StatusConflict, http.StatusUnprocessableEntity),
	}, a.createDecision)
	huma.Register(h, huma.Operation{
		OperationID: "decision-stream",
		Method:      http.MethodGet,
		Path:        decisionsPath + "/stream",
		Summary:     "Poll decisions as a bouncer",
		Description: "What changed since this key's previous poll: the decisions made since that still apply (new) and those it was given that were revoked or expired since (deleted), each told once. With startup=true, or at a key's first poll, every decision in force is new. Scope bouncer, read or admin; each key has its own position.",
		Tags:        []string{"decisions"},
		Security:    bearer,
		Errors:      errs,
	}, a.decisionStream)
	huma.Register(h, huma.Operation{
		OperationID: "get-decision",
		Method:      http.MethodGet,
		Path:        decisionsPath + "/{id}",
		Summary:     "Get a block decision",
		Tags:        []string{"decisions"},
		Security:    bearer,
		Errors:      append(errs, http.StatusNotFound),
	}, a.getDecision)
	huma.Register(h, huma.Operation{
		OperationID: "revoke-decision",
		Method:      http.MethodDelete,
		Path:        decisionsPath + "/{id}",
		Summary:     "Revoke a block decision",
		Description: "Ends the decision at once: bouncers are told it is deleted at their next poll. Answers the decision as it ended. A decision that ended already is a 409. Audited as decision.revoke.",
		Tags:        []string{"decisions"},
		Security:    bearer,
		Errors:      append(errs, http.StatusNotFound, http.StatusConflict),
	}, a.revokeDecision)
}

// decisionScope is the preamble of the decision routes: the caller's key
// and the store's decisions.
func (a *API) decisionScope(ctx context.Context) (tenant.APIKey, store.Decisions, error) {
	k, err := caller(ctx)
	if err != nil {
		return k, nil, err
	}
	d, ok := a.store.(store.Decisions)
	if !ok {
		return k, nil, huma.Error501NotImplemented("this store keeps no decisions")
	}
	return k, d, nil
}

func (a *API) listDecisions(ctx context.Context, in *listDecisionsInput) (*decisionsOutput, error) {
	k, d, err := a.decisionScope(ctx)
	if err != nil {
		return nil, err
	}
	list, next, err := d.ListDecisions(ctx, k.Workspace, store.DecisionQuery{Active: in.Active, Now: a.now().UTC(),
		Kind: in.Kind, Value: in.Value, IncidentID: in.Incident, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, a.storeError(ctx, "decisions", err)
	}
	out := &decisionsOutput{}
	out.Body.Decisions = nonNil(list)
	out.Body.Next = next
	return out, nil
}

func (a *API) createDecision(ctx context.Context, in *createDecisionInput) (*decisionOutput, error) {
	k, d, err := a.decisionScope(ctx)
	if err != nil {
		return nil, err
	}
	dur, err := time.ParseDuration(in.Body.Duration)
	if err != nil || dur <= 0 || dur > store.MaxDecisionDuration {
		return nil, invalid("body.duration", "want a duration from 1s to 8760h, e.g. 4h", in.Body.Duration)
	}
	now := a.now().UTC()
	dec, err := d.CreateDecision(ctx, store.Decision{Workspace: k.Workspace, Kind: in.Body.Kind, Value: in.Body.Value,
		Reason: in.Body.Reason, IncidentID: in.Body.IncidentID, CreatedBy: k.Actor(), Created: now, Expires: now.Add(dur)})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, huma.Error409Conflict(err.Error())
	case err != nil:
		return nil, a.storeError(ctx, "decision", err)
	}
	return &decisionOutput{Body: dec}, nil
}

func (a *API) getDecision(ctx context.Context, in *decisionIDInput) (*decisionOutput, error) {
	k, d, err := a.decisionScope(ctx)
	if err != nil {
		return nil, err
	}
	dec, err := d.Decision(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.storeError(ctx, "decision "+in.ID, err)
	}
	return &decisionOutput{Body: dec}, nil
}

func (a *API) revokeDecision(ctx context.Context, in *decisionIDInput) (*decisionOutput, error) {
	k, d, err := a.decisionScope(ctx)
	if err != nil {
		return nil, err
	}
	dec, err := d.RevokeDecision(ctx, k.Workspace, in.ID, k.Actor(), a.now().UTC())
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, huma.Error409Conflict(err.Error())
	case err != nil:
		return nil, a.storeError(ctx, "decision "+in.ID, err)
	}
	return &decisionOutput{Body: dec}, nil
}

func (a *API) decisionStream(ctx context.Context, in *decisionStreamInput) (*decisionStreamOutput, error) {
	k, d, err := a.decisionScope(ctx)
	if err != nil {
		return nil, err
	}
	delta, err := d.DecisionStream(ctx, k.Workspace, "key:"+k.ID, in.Startup, a.now().UTC())
	if err != nil {
		return nil, a.storeError(ctx, "decision stream", err)
	}
	return &decisionStreamOutput{Body: delta}, nil
}
