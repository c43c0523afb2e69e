package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

type workspaceOutput struct {
	Body struct {
		Workspace string    `json:"workspace" doc:"The key's workspace."`
		Tier      string    `json:"tier" enum:"free,standard" doc:"free runs signature detections; standard adds stateful and behavioural ones."`
		Created   time.Time `json:"created"`
		Scope     string    `json:"scope" enum:"ingest,read,admin" doc:"The calling key's scope."`
		KeyID     string    `json:"key_id" doc:"The calling key's id."`
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
	out := &workspaceOutput{}
	out.Body.Workspace = ws.Name
	out.Body.Tier = ws.Tier
	out.Body.Created = ws.Created
	out.Body.Scope = k.Scope
	out.Body.KeyID = k.ID
	return out, nil
}
