package api

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

var _ store.Noise = (*fakeStore)(nil)

// The fake's suppressions live beside its other maps, keyed by workspace
// and id, in creation order.
func (s *fakeStore) Suppressions(_ context.Context, ws string) ([]suppress.Suppression, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []suppress.Suppression
	for _, x := range s.sups {
		if x.Workspace == ws {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *fakeStore) Suppression(_ context.Context, ws, id string) (suppress.Suppression, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sups {
		if x.Workspace == ws && x.ID == id {
			return x, nil
		}
	}
	return suppress.Suppression{}, fmt.Errorf("suppression %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) CreateSuppression(_ context.Context, x suppress.Suppression, actor string) (suppress.Suppression, error) {
	if err := x.Validate(); err != nil {
		return x, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSup++
	x.ID = "sup-" + x.Workspace + "-" + strconv.Itoa(s.nextSup)
	x.Created, x.Updated = t0, t0
	s.sups = append(s.sups, x)
	s.audit = append(s.audit, store.AuditEntry{ID: int64(len(s.audit) + 1), Workspace: x.Workspace, Actor: actor,
		Action: "suppression.create", Target: x.ID, Detail: x.Reason})
	return x, nil
}

func (s *fakeStore) UpdateSuppression(_ context.Context, x suppress.Suppression, actor string) (suppress.Suppression, error) {
	if err := x.Validate(); err != nil {
		return x, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.sups {
		if old.Workspace == x.Workspace && old.ID == x.ID {
			x.Author, x.Created, x.Updated, x.Hits, x.LastHit = old.Author, old.Created, t0.Add(time.Minute), old.Hits, old.LastHit
			s.sups[i] = x
			s.audit = append(s.audit, store.AuditEntry{ID: int64(len(s.audit) + 1), Workspace: x.Workspace, Actor: actor,
				Action: "suppression.update", Target: x.ID, Detail: x.Reason})
			return x, nil
		}
	}
	return x, fmt.Errorf("suppression %s: %w", x.ID, store.ErrNotFound)
}

func (s *fakeStore) DeleteSuppression(_ context.Context, ws, id, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.sups {
		if old.Workspace == ws && old.ID == id {
			s.sups = append(s.sups[:i], s.sups[i+1:]...)
			s.audit = append(s.audit, store.AuditEntry{ID: int64(len(s.audit) + 1), Workspace: ws, Actor: actor,
				Action: "suppression.delete", Target: id})
			return nil
		}
	}
	return fmt.Errorf("suppression %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) ClassifyAlert(ctx context.Context, ws, id string, st alert.Status, reason alert.Reason, actor string) (alert.Alert, error) {
	if err := alert.CheckReason(st, reason); err != nil {
		return alert.Alert{}, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	a, err := s.SetAlertStatus(ctx, ws, id, st, actor)
	if err != nil {
		return a, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.alerts {
		if s.alerts[i].Workspace == ws && s.alerts[i].ID == id {
			s.alerts[i].Reason = reason
			a = s.alerts[i]
		}
	}
	return a, nil
}

func (s *fakeStore) RuleStats(_ context.Context, ws string) ([]store.RuleStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := map[string]int{}
	var out []store.RuleStats
	for _, a := range s.alerts {
		if a.Workspace != ws {
			continue
		}
		i, ok := idx[a.Rule.ID]
		if !ok {
			i = len(out)
			idx[a.Rule.ID] = i
			out = append(out, store.RuleStats{Rule: a.Rule.ID, Title: a.Rule.Title})
		}
		r := &out[i]
		r.Alerts++
		if a.Status.Open() {
			r.Open++
		}
		if a.Status == alert.StatusDismissed {
			r.Dismissed++
			if a.Reason == alert.ReasonFalsePositive {
				r.FalsePositives++
			}
		}
	}
	return out, nil
}
