package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// suppressionBody is a suppression as a client writes it.
type suppressionBody struct {
	Rule    string        `json:"rule,omitempty" doc:"Suppress the signals of this rule (or correlation) id only; absent: of every rule."`
	Entity  *alert.Entity `json:"entity,omitempty" doc:"Suppress signals about this entity (type ip, host, account, process, file, url, database, application, cloud_resource or hash, and value)."`
	Field   string        `json:"field,omitempty" doc:"A common event field (ECS name, e.g. user.name, source.ip): with value, the event's field must hold that value; with cidr, an address within it."`
	Value   string        `json:"value,omitempty" doc:"The value field must hold (exactly)."`
	CIDR    string        `json:"cidr,omitempty" doc:"A network or address: the event's field, or without field any address entity of the signal, lies within it."`
	Reason  string        `json:"reason" minLength:"1" maxLength:"1000" doc:"Why these signals are not worth an alert. Required."`
	Author  string        `json:"author,omitempty" maxLength:"200" doc:"Who asks for it; default the key (key:<id>). The audit log names the key in any case."`
	Expires *time.Time    `json:"expires,omitempty" doc:"When it stops applying (RFC 3339, in the future); absent: never."`
}

func (b *suppressionBody) suppression(ws string) suppress.Suppression {
	return suppress.Suppression{Workspace: ws, Rule: b.Rule, Entity: b.Entity, Field: b.Field, Value: b.Value,
		CIDR: b.CIDR, Reason: b.Reason, Author: b.Author, Expires: b.Expires}
}

type suppressionsOutput struct {
	Body struct {
		Suppressions []suppress.Suppression `json:"suppressions"`
	}
}

type suppressionOutput struct {
	Body suppress.Suppression
}

type suppressionIDInput struct {
	ID string `path:"id" doc:"The suppression's id."`
}

type createSuppressionInput struct {
	Body suppressionBody
}

type updateSuppressionInput struct {
	ID   string `path:"id" doc:"The suppression's id."`
	Body suppressionBody
}

type ruleStatsOutput struct {
	Body struct {
		Rules []store.RuleStats `json:"rules"`
	}
}

func (a *API) registerSuppressions(h huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotImplemented}
	huma.Register(h, huma.Operation{
		OperationID: "list-suppressions",
		Method:      http.MethodGet,
		Path:        "/api/v1/suppressions",
		Summary:     "List suppressions",
		Description: "The workspace's suppressions and allow-lists, oldest first, expired ones included, each with its hit count and last hit.",
		Tags:        []string{"suppressions"},
		Security:    bearer,
		Errors:      errs,
	}, a.listSuppressions)
	huma.Register(h, huma.Operation{
		OperationID:   "create-suppression",
		Method:        http.MethodPost,
		Path:          "/api/v1/suppressions",
		Summary:       "Create a suppression",
		Description:   "Signals it matches never create or grow an alert, from the next batches on (at once in this process). A reason is required. Audited as suppression.create.",
		Tags:          []string{"suppressions"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        append(errs, http.StatusUnprocessableEntity),
	}, a.createSuppression)
	huma.Register(h, huma.Operation{
		OperationID: "get-suppression",
		Method:      http.MethodGet,
		Path:        "/api/v1/suppressions/{id}",
		Summary:     "Get a suppression",
		Tags:        []string{"suppressions"},
		Security:    bearer,
		Errors:      append(errs, http.StatusNotFound),
	}, a.getSuppression)
	huma.Register(h, huma.Operation{
		OperationID: "update-suppression",
		Method:      http.MethodPut,
		Path:        "/api/v1/suppressions/{id}",
		Summary:     "Replace a suppression",
		Description: "Replaces its conditions, reason and expiry; its author, creation time and hits stay. Audited as suppression.update (before -> after).",
		Tags:        []string{"suppressions"},
		Security:    bearer,
		Errors:      append(errs, http.StatusNotFound, http.StatusUnprocessableEntity),
	}, a.updateSuppression)
	huma.Register(h, huma.Operation{
		OperationID:   "delete-suppression",
		Method:        http.MethodDelete,
		Path:          "/api/v1/suppressions/{id}",
		Summary:       "Delete a suppression",
		Description:   "Audited as suppression.delete, with what it was and its hits.",
		Tags:          []string{"suppressions"},
		Security:      bearer,
		DefaultStatus: http.StatusNoContent,
		Errors:        append(errs, http.StatusNotFound),
	}, a.deleteSuppression)
	huma.Register(h, huma.Operation{
		OperationID: "rule-stats",
		Method:      http.MethodGet,
		Path:        "/api/v1/rules/stats",
		Summary:     "Noise per rule",
		Description: "Per rule: its alerts (open, dismissed, dismissed as false positive, the false-positive rate over closed alerts) and the signals suppressions kept from alerting; rules with most alerts first.",
		Tags:        []string{"suppressions"},
		Security:    bearer,
		Errors:      errs,
	}, a.ruleStats)
}

// noise is the store's noise-control side.
func (a *API) noise() (store.Noise, error) {
	n, ok := a.store.(store.Noise)
	if !ok {
		return nil, huma.Error501NotImplemented("this store keeps no suppressions")
	}
	return n, nil
}

// noiseScope is the preamble of the noise-control routes: the caller's
// key (its workspace) and the store's noise-control side.
func (a *API) noiseScope(ctx context.Context) (tenant.APIKey, store.Noise, error) {
	k, err := caller(ctx)
	if err != nil {
		return tenant.APIKey{}, nil, err
	}
	n, err := a.noise()
	return k, n, err
}

func (a *API) listSuppressions(ctx context.Context, _ *struct{}) (*suppressionsOutput, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	list, err := n.Suppressions(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "suppressions", err)
	}
	out := &suppressionsOutput{}
	out.Body.Suppressions = nonNil(list)
	return out, nil
}

func (a *API) getSuppression(ctx context.Context, in *suppressionIDInput) (*suppressionOutput, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	s, err := n.Suppression(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.storeError(ctx, "suppression "+in.ID, err)
	}
	return &suppressionOutput{Body: s}, nil
}

// checkBody refuses what a client cannot mean: an expiry in the past,
// and whatever suppress.Validate refuses, naming the body.
func (a *API) checkBody(s *suppress.Suppression) error {
	if s.Expires != nil && !s.Expires.After(a.now()) {
		return invalid("body.expires", "expires must be in the future", s.Expires)
	}
	if err := s.Validate(); err != nil {
		return huma.Error422UnprocessableEntity(err.Error())
	}
	return nil
}

func (a *API) createSuppression(ctx context.Context, in *createSuppressionInput) (*suppressionOutput, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	s := in.Body.suppression(k.Workspace)
	if s.Author == "" {
		s.Author = k.Actor()
	}
	if err := a.checkBody(&s); err != nil {
		return nil, err
	}
	// The store writes the suppression.create audit entry in the same
	// transaction.
	s, err = n.CreateSuppression(ctx, s, k.Actor())
	if err != nil {
		return nil, a.storeError(ctx, "suppression", err)
	}
	a.suppressionsChanged(k.Workspace)
	return &suppressionOutput{Body: s}, nil
}

func (a *API) updateSuppression(ctx context.Context, in *updateSuppressionInput) (*suppressionOutput, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	s := in.Body.suppression(k.Workspace)
	s.ID = in.ID
	if err := a.checkBody(&s); err != nil {
		return nil, err
	}
	s, err = n.UpdateSuppression(ctx, s, k.Actor())
	if err != nil {
		return nil, a.storeError(ctx, "suppression "+in.ID, err)
	}
	a.suppressionsChanged(k.Workspace)
	return &suppressionOutput{Body: s}, nil
}

func (a *API) deleteSuppression(ctx context.Context, in *suppressionIDInput) (*struct{}, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := n.DeleteSuppression(ctx, k.Workspace, in.ID, k.Actor()); err != nil {
		return nil, a.storeError(ctx, "suppression "+in.ID, err)
	}
	a.suppressionsChanged(k.Workspace)
	return nil, nil
}

func (a *API) suppressionsChanged(ws string) {
	if a.supChanged != nil {
		a.supChanged(ws)
	}
}

func (a *API) ruleStats(ctx context.Context, _ *struct{}) (*ruleStatsOutput, error) {
	k, n, err := a.noiseScope(ctx)
	if err != nil {
		return nil, err
	}
	stats, err := n.RuleStats(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "rule stats", err)
	}
	out := &ruleStatsOutput{}
	out.Body.Rules = nonNil(stats)
	return out, nil
}
