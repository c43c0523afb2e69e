package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/tenant"
)

type workspaceOutput struct {
	Body struct {
		Workspace string    `json:"workspace" doc:"The key's workspace."`
		Tier      string    `json:"tier" enum:"free,standard" doc:"free runs signature rules only; standard adds correlations."`
		Created   time.Time `json:"created"`
		Scope     string    `json:"scope" enum:"ingest,read,admin,metrics" doc:"The calling key's scope."`
		KeyID     string    `json:"key_id" doc:"The calling key's id."`
	}
}

type setTierInput struct {
	Body struct {
		Tier string `json:"tier" enum:"free,standard" doc:"free runs signature rules only; standard adds correlations."`
	}
}

func (a *API) registerWorkspace(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "get-workspace",
		Method:      http.MethodGet,
		Path:        "/api/v1/workspace",
		Summary:     "Who am I: the key's workspace and scope",
		Tags:        []string{"workspace"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden},
	}, a.getWorkspace)
	huma.Register(h, huma.Operation{
		OperationID: "set-workspace-tier",
		Method:      http.MethodPatch,
		Path:        "/api/v1/workspace",
		Summary:     "Change the key's workspace's tier",
		Description: "The detect stage applies the new tier to the batches it processes next. Audited as workspace.tier (old -> new); setting the tier the workspace has changes nothing.",
		Tags:        []string{"workspace"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.setWorkspaceTier)
}

func (a *API) getWorkspace(ctx context.Context, _ *struct{}) (*workspaceOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := a.store.Workspace(ctx, k.Workspace)
	if err != nil {
		return nil, a.storeError(ctx, "workspace "+k.Workspace, err)
	}
	return workspaceOf(ws, k), nil
}

func (a *API) setWorkspaceTier(ctx context.Context, in *setTierInput) (*workspaceOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// The store writes the workspace.tier audit entry in the same
	// transaction.
	ws, err := a.store.SetWorkspaceTier(ctx, k.Workspace, in.Body.Tier, k.Actor())
	if err != nil {
		return nil, a.storeError(ctx, "workspace "+k.Workspace, err)
	}
	if ws.Tier != in.Body.Tier {
		ws.Tier = in.Body.Tier
		if a.tierChanged != nil {
			a.tierChanged(ws.Name)
		}
	}
	return workspaceOf(ws, k), nil
}

// workspaceOf is the answer about workspace ws to the caller k.
func workspaceOf(ws tenant.Workspace, k tenant.APIKey) *workspaceOutput {
	out := &workspaceOutput{}
	out.Body.Workspace = ws.Name
	out.Body.Tier = ws.Tier
	out.Body.Created = ws.Created
	out.Body.Scope = k.Scope
	out.Body.KeyID = k.ID
	return out
}
