package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type auditInput struct {
	PageQuery
}

type auditOutput struct {
	Body struct {
		Entries []store.AuditEntry `json:"entries"`
		Next    string             `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
	}
}

func (a *API) registerAudit(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "list-audit",
		Method:      http.MethodGet,
		Path:        "/api/v1/audit",
		Summary:     "Read the workspace's audit log",
		Description: "Key creation and revocation, alert status changes, source changes and refused authentications, newest first.",
		Tags:        []string{"audit"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, a.listAudit)
}

func (a *API) listAudit(ctx context.Context, in *auditInput) (*auditOutput, error) {
	k, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	entries, next, err := a.store.AuditLog(ctx, k.Workspace, store.AuditQuery{Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, a.storeError(ctx, "audit log", err)
	}
	out := &auditOutput{}
	out.Body.Entries = nonNil(entries)
	out.Body.Next = next
	return out, nil
}

// audit writes an entry for an action the caller took. A failed audit
// write is logged: the action has happened and is not undone.
func (a *API) audit(ctx context.Context, k tenant.APIKey, action, target, detail string) {
	err := a.store.Audit(ctx, store.AuditEntry{
		Workspace: k.Workspace,
		Time:      a.now().UTC(),
		Actor:     k.Actor(),
		Action:    action,
		Target:    target,
		Detail:    detail,
	})
	if err != nil {
		a.log.ErrorContext(ctx, "api: write audit entry", "action", action, "target", target, "err", err)
	}
}
