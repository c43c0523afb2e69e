package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// writeError writes an RFC 9457 problem document, the same shape huma
// writes for the operations' errors, so that clients parse one form.
func writeError(w http.ResponseWriter, status int, detail string, details ...*huma.ErrorDetail) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	encoder(w).Encode(&huma.ErrorModel{
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: details,
	})
}

// encoder writes JSON as JSON, not as HTML: details quote headers and
// values ("Bearer <key>", "a&b") that must read as sent.
func encoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// invalid is a 422 naming the input at fault, e.g. "query.status".
func invalid(location, msg string, value any) error {
	return huma.Error422UnprocessableEntity("invalid "+location+": "+msg, &huma.ErrorDetail{
		Location: location,
		Message:  msg,
		Value:    value,
	})
}

// storeError turns a store error into the client's answer: not found,
// invalid and conflict say what the client did; anything else is logged
// and answered without internals.
func (a *API) storeError(ctx context.Context, what string, err error) error {
	var te *alert.TransitionError
	switch {
	case errors.As(err, &te):
		// An illegal status change: the workflow's reason, and where
		// the alert may go instead.
		return huma.Error409Conflict(what + ": " + te.Error())
	case errors.Is(err, store.ErrNotFound):
		return huma.Error404NotFound(what + " not found")
	case errors.Is(err, store.ErrInvalid):
		// The store's error names what was asked ("alerts of acme: cursor
		// …"): prefixing what again would say it twice.
		return huma.Error422UnprocessableEntity(err.Error())
	case errors.Is(err, store.ErrConflict):
		return huma.Error409Conflict(what + " already exists")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return huma.Error503ServiceUnavailable(what + ": request cancelled or timed out")
	}
	a.log.ErrorContext(ctx, "api: store failed", "what", what, "err", err)
	return huma.Error500InternalServerError(what + ": internal error (see the server log)")
}
