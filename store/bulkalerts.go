package store

import (
	"context"

	"github.com/vigil-sec/vigil/alert"
)

// BulkAlerts is a store that changes several alerts' status at once (the
// dashboard's bulk change).
type BulkAlerts interface {
	// SetAlertsStatus moves the alerts ids of workspace to status (with
	// reason, as Noise.ClassifyAlert) in one transaction, auditing each
	// change on its own line: all of them, or none when one is missing
	// (ErrNotFound) or may not move (ErrConflict), the error naming it.
	// The alerts are returned in the order of ids, each once.
	SetAlertsStatus(ctx context.Context, workspace string, ids []string, status alert.Status, reason alert.Reason, actor string) ([]alert.Alert, error)
}

// AlertError is SetAlertsStatus's refusal of one alert: which one, and
// why (Err wraps ErrNotFound, ErrConflict…).
type AlertError struct {
	ID  string
	Err error
}

func (e *AlertError) Error() string { return e.Err.Error() }
func (e *AlertError) Unwrap() error { return e.Err }
