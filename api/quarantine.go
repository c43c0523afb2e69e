package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
)

type quarantineInput struct {
	Source string `query:"source" doc:"Only records of this source."`
	PageQuery
}

type quarantineOutput struct {
	Body struct {
		Records []store.QuarantineEntry `json:"records"`
		Next    string                  `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

func (a *API) registerQuarantine(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-quarantine",
		Method:      http.MethodGet,
		Path:        "/api/v1/quarantine",
		Summary:     "List records the decoders refused",
		Description: "Records that reached the bus but could not be decoded, with their source, position (line in the request or file, record and batch ids), the reason, and the raw record (at most 64 KiB of it), newest first.",
		Tags:        []string{"sources"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listQuarantine)
}

func (a *API) listQuarantine(ctx context.Context, in *quarantineInput) (*quarantineOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	recs, next, err := a.store.Quarantine(ctx, k.Workspace, store.QuarantineQuery{Source: in.Source, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, a.storeError(ctx, "quarantine", err)
	}
	out := &quarantineOutput{}
	out.Body.Records = nonNil(recs)
	out.Body.Next = next
	return out, nil
}
