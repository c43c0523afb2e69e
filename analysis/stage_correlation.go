package analysis

import (
	"context"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

// correlationStage is the stage's correlator: it sees the matches of
// committed, new batches only (a replayed batch was counted before), from
// the committer goroutine alone. Its state is kept in the store
// (StageConfig.CorrelationStates) at intervals and at shutdown, and
// carried over a rule reload: a restart or a reload keeps the open windows
// of the correlations that did not change.
type correlationStage struct {
	rules  *Rules
	k      *detect.Correlator
	last   detect.CorrelatorStats
	loaded bool      // the saved state was read (or there was none to read)
	saved  time.Time // when the state was last saved
	dirty  bool      // matches were fed since
}

// CorrelationStates keeps the correlator's state; the SQLite store
// implements it.
type CorrelationStates interface {
	CorrelationState(ctx context.Context) ([]byte, error)
	SaveCorrelationState(ctx context.Context, data []byte) error
}

// newCorrelator compiles rs's correlator and gives it the open windows of
// the one it replaces, or, on the first call, those saved by the previous
// run.
func (s *Stage) newCorrelator(rs *Rules) *detect.Correlator {
	cs := &s.corr
	k := rs.NewCorrelator()
	var data []byte
	var err error
	from := "reload"
	if cs.k != nil {
		data, err = cs.k.Snapshot()
	} else if !cs.loaded && s.cfg.CorrelationStates != nil {
		from = "store"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		data, err = s.cfg.CorrelationStates.CorrelationState(ctx)
		cancel()
	}
	cs.loaded = true
	if err == nil && data != nil {
		var restored, dropped int
		restored, dropped, err = k.Restore(data)
		if err == nil {
			s.log.Info("correlation windows restored", "from", from, "groups", restored, "dropped", dropped)
		}
	}
	if err != nil {
		s.log.Warn("correlation windows not restored: they start empty", "from", from, "err", err)
	}
	return k
}

// saveCorrelations writes the correlator's state to the store when
// matches were fed since it was last written.
func (s *Stage) saveCorrelations() {
	cs := &s.corr
	if s.cfg.CorrelationStates == nil || cs.k == nil || !cs.dirty {
		return
	}
	data, err := cs.k.Snapshot()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = s.cfg.CorrelationStates.SaveCorrelationState(ctx, data)
		cancel()
	}
	cs.saved = time.Now()
	if err != nil {
		s.log.Warn("correlation windows not saved", "err", err)
		return
	}
	cs.dirty = false
}

// correlateCommitted feeds the matches of newly committed batches, in
// event time order, and returns the batches of signals to commit, one a
// workspace.
func (s *Stage) correlateCommitted(group []processed, isNew []bool) []*store.Batch {
	var rs *Rules
	var ms []detect.Match
	for i, p := range group {
		if isNew[i] {
			ms = append(ms, p.res.Matches...)
			if p.rules != nil {
				rs = p.rules
			}
		}
	}
	if rs == nil || rs.corr == nil {
		return nil
	}
	// Correlations belong to the standard tier (tier.go): a free
	// workspace's matches never reach the correlator.
	ms = slices.DeleteFunc(ms, func(m detect.Match) bool { return !s.advanced(m.Workspace) })
	cs := &s.corr
	if cs.rules != rs { // first batch, or rules reloaded
		cs.k = s.newCorrelator(rs)
		cs.rules, cs.last = rs, detect.CorrelatorStats{}
	}
	slices.SortStableFunc(ms, func(a, b detect.Match) int { return a.Time.Compare(b.Time) })
	var hits []detect.CorrelationHit
	for _, m := range ms {
		hits = cs.k.Observe(m, hits)
	}
	if len(ms) > 0 {
		cs.dirty = true
		if time.Since(cs.saved) >= s.cfg.CorrelationSaveEvery {
			s.saveCorrelations()
		}
	}
	s.m.corr.update(cs.k.Stats(), &cs.last)
	if len(hits) == 0 {
		return nil
	}
	byWS := map[string]*store.Batch{}
	var out []*store.Batch
	tallies := map[string]*suppress.Tally{}
	now := time.Now()
	origins := map[string]*alert.Origin{} // by dedup key: one lookup an alert
	for _, sig := range rs.CorrelationSignals(hits, nil) {
		o, ok := origins[sig.DedupKey]
		if !ok {
			var chain *enrich.Chain // nil: the address and its scope only
			if s.cfg.Enrichers != nil {
				chain = s.enrichers(sig.Workspace)
			}
			o = CorrelationOrigin(chain, sig.Entities)
			origins[sig.DedupKey] = o
		}
		sig.Origin = o
		// Suppressions win over correlations too (by rule, entity or
		// address; a correlation signal has no event for field ones).
		if set := s.suppressions(sig.Workspace); set.Len() > 0 {
			if sp := set.Match(sig.Rule.ID, sig.Entities, nil, now); sp != nil {
				t := tallies[sig.Workspace]
				if t == nil {
					t = &suppress.Tally{}
					tallies[sig.Workspace] = t
				}
				t.Add(sp, sig.Rule.ID, sig.Evidence.Time)
				continue
			}
		}
		b := byWS[sig.Workspace]
		if b == nil {
			b = &store.Batch{ID: event.NewID(), Workspace: sig.Workspace, Source: CorrelationSource,
				Format: CorrelationSource, Received: time.Now().UTC()}
			byWS[sig.Workspace] = b
			out = append(out, b)
		}
		b.Signals = append(b.Signals, sig)
	}
	for ws, t := range tallies {
		b := byWS[ws]
		if b == nil {
			b = &store.Batch{ID: event.NewID(), Workspace: ws, Source: CorrelationSource,
				Format: CorrelationSource, Received: time.Now().UTC()}
			byWS[ws] = b
			out = append(out, b)
		}
		b.Suppressed = t.Hits
	}
	return out
}

// CorrelationSource is the source and format of the store batches that
// carry correlation alerts.
const CorrelationSource = "correlation"

// commitTracked commits a group and tells which of its batches were new.
// A batch delivered for the first time cannot have been committed before;
// a redelivered one may have been, so when correlations run, redeliveries
// are committed one by one and the store's count says which were new.
func (s *Stage) commitTracked(ctx context.Context, group []processed, batches []*store.Batch) (int, []bool, error) {
	isNew := make([]bool, len(group))
	correlating := false
	for _, p := range group {
		if p.rules != nil && p.rules.corr != nil {
			correlating = true
		}
	}
	if !correlating {
		n, err := s.cfg.Store.Commit(ctx, batches)
		return n, isNew, err
	}
	var first []*store.Batch
	var firstIdx, again []int
	for i, p := range group {
		if p.d.Delivered <= 1 {
			first, firstIdx = append(first, batches[i]), append(firstIdx, i)
		} else {
			again = append(again, i)
		}
	}
	total := 0
	if len(first) > 0 {
		n, err := s.cfg.Store.Commit(ctx, first)
		if err != nil {
			return 0, isNew, err
		}
		total += n
		if n == len(first) {
			for _, i := range firstIdx {
				isNew[i] = true
			}
		} else {
			// A first delivery already stored (a duplicate publish): which
			// one is unknown, so none of these feed the correlator.
			s.log.Warn("first deliveries were already committed; their matches skip correlation", "batches", len(first), "new", n)
		}
	}
	for _, i := range again {
		n, err := s.cfg.Store.Commit(ctx, batches[i:i+1])
		if err != nil {
			return total, isNew, err
		}
		total += n
		isNew[i] = n == 1
	}
	return total, isNew, nil
}

// commitCorrelations writes the correlation alerts, retrying a failed
// commit a few times with the same batch ids (a commit is idempotent).
func (s *Stage) commitCorrelations(batches []*store.Batch) {
	if len(batches) == 0 {
		return
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = s.cfg.Store.Commit(ctx, batches)
		cancel()
		if err == nil {
			for _, b := range batches {
				for _, h := range b.Suppressed {
					s.m.suppressed.Add(float64(h.Count))
				}
			}
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	s.log.Error("correlation alerts lost: store commit failed", "batches", len(batches), "err", err)
	s.m.commitErrors.Inc()
}
