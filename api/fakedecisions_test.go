package api

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
)

var _ store.Decisions = (*fakeStore)(nil)

// fakeDecisions keeps the fake's decisions in creation order, each with
// the seqs of its making and ending, and the bouncers' cursors: the SQLite
// store's model, without paging.
type fakeDecisions struct {
	list     []fakeDecision
	seq      int64
	bouncers map[string]int64
}

type fakeDecision struct {
	d           store.Decision
	newSeq, end int64
}

func (s *fakeStore) expire(now time.Time) int {
	n := 0
	for i := range s.decs.list {
		x := &s.decs.list[i]
		if x.d.Ended == nil && !now.Before(x.d.Expires) {
			s.decs.seq++
			t := x.d.Expires
			x.d.Ended, x.d.EndReason, x.end = &t, store.DecisionExpired, s.decs.seq
			s.audit = append(s.audit, store.AuditEntry{Workspace: x.d.Workspace, Time: t, Actor: "vigil:decisions", Action: "decision.expire", Target: x.d.ID, Count: 1})
			n++
		}
	}
	return n
}

func (s *fakeStore) CreateDecision(_ context.Context, d store.Decision) (store.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := store.CheckDecision(&d); err != nil {
		return d, err
	}
	s.expire(d.Created)
	for _, x := range s.decs.list {
		if x.d.Workspace == d.Workspace && x.d.Kind == d.Kind && x.d.Value == d.Value && x.d.Ended == nil {
			return d, fmt.Errorf("decision %s: %w", x.d.ID, store.ErrConflict)
		}
	}
	s.decs.seq++
	d.ID = fmt.Sprintf("dec-%d", s.decs.seq)
	s.decs.list = append(s.decs.list, fakeDecision{d: d, newSeq: s.decs.seq})
	s.audit = append(s.audit, store.AuditEntry{Workspace: d.Workspace, Time: d.Created, Actor: d.CreatedBy, Action: "decision.create", Target: d.ID, Count: 1})
	return d, nil
}

func (s *fakeStore) Decision(_ context.Context, ws, id string) (store.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.decs.list {
		if x.d.Workspace == ws && x.d.ID == id {
			return x.d, nil
		}
	}
	return store.Decision{}, fmt.Errorf("decision %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) ListDecisions(_ context.Context, ws string, q store.DecisionQuery) ([]store.Decision, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Decision
	for i := len(s.decs.list) - 1; i >= 0; i-- {
		d := s.decs.list[i].d
		if d.Workspace == ws && (!q.Active || d.Active(q.Now)) && (q.Kind == "" || d.Kind == q.Kind) &&
			(q.Value == "" || d.Value == q.Value) && (q.IncidentID == "" || d.IncidentID == q.IncidentID) {
			out = append(out, d)
		}
	}
	return out, "", nil
}

func (s *fakeStore) RevokeDecision(_ context.Context, ws, id, actor string, now time.Time) (store.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	for i := range s.decs.list {
		x := &s.decs.list[i]
		if x.d.Workspace != ws || x.d.ID != id {
			continue
		}
		if x.d.Ended != nil {
			return x.d, fmt.Errorf("decision %s: %w", id, store.ErrConflict)
		}
		s.decs.seq++
		x.d.Ended, x.d.EndReason, x.d.RevokedBy, x.end = &now, store.DecisionRevoked, actor, s.decs.seq
		s.audit = append(s.audit, store.AuditEntry{Workspace: ws, Time: now, Actor: actor, Action: "decision.revoke", Target: id, Count: 1})
		return x.d, nil
	}
	return store.Decision{}, fmt.Errorf("decision %s: %w", id, store.ErrNotFound)
}

func (s *fakeStore) PurgeDecisions(_ context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []fakeDecision
	for _, x := range s.decs.list {
		if x.d.Ended == nil || !x.d.Ended.Before(before) {
			keep = append(keep, x)
		}
	}
	n := int64(len(s.decs.list) - len(keep))
	s.decs.list = keep
	return n, nil
}

func (s *fakeStore) ExpireDecisions(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expire(now), nil
}

func (s *fakeStore) DecisionStream(_ context.Context, ws, bouncer string, startup bool, now time.Time) (store.DecisionDelta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if s.decs.bouncers == nil {
		s.decs.bouncers = map[string]int64{}
	}
	cur, known := s.decs.bouncers[ws+"/"+bouncer]
	out := store.DecisionDelta{New: []store.Decision{}, Deleted: []store.Decision{}}
	for _, x := range s.decs.list {
		if x.d.Workspace != ws {
			continue
		}
		switch {
		case startup || !known:
			if x.d.Ended == nil {
				out.New = append(out.New, x.d)
			}
		case x.newSeq > cur && x.d.Ended == nil:
			out.New = append(out.New, x.d)
		case x.end > cur && x.newSeq <= cur:
			out.Deleted = append(out.Deleted, x.d)
		}
	}
	s.decs.bouncers[ws+"/"+bouncer] = s.decs.seq
	return out, nil
}
