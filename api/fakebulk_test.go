package api

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// SetAlertsStatus checks every alert first, then changes them: all or
// none, as the embedded store's transaction does.
func (s *fakeStore) SetAlertsStatus(ctx context.Context, ws string, ids []string, st alert.Status, reason alert.Reason, actor string) ([]alert.Alert, error) {
	if err := alert.CheckReason(st, reason); err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	var uniq []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		uniq = append(uniq, id)
		a, err := s.Alert(ctx, ws, id)
		if err != nil {
			return nil, &store.AlertError{ID: id, Err: err}
		}
		if err := alert.CheckTransition(a.Status, st); err != nil {
			return nil, &store.AlertError{ID: id, Err: fmt.Errorf("alert %s: %w: %w", id, store.ErrConflict, err)}
		}
	}
	out := make([]alert.Alert, 0, len(uniq))
	for _, id := range uniq {
		a, err := s.ClassifyAlert(ctx, ws, id, st, reason, actor)
		if err != nil {
			return nil, &store.AlertError{ID: id, Err: err}
		}
		out = append(out, a)
	}
	return out, nil
}
