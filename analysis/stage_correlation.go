package analysis

import (
	"cmp"
	"context"
	"crypto/sha256"
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
// of the correlations that did not change. Between two saves, each new
// batch's matches are journalled in the batch's own commit; a stage killed
// before it saved feeds the journal after the saved state again at its
// restart, in the order it first did, so that no committed match is lost
// or counted twice, and the correlation alerts it raises again carry the
// batch ids they had (the store skips them when they were committed).
type correlationStage struct {
	rules  *Rules
	k      *detect.Correlator
	last   detect.CorrelatorStats
	loaded bool      // the saved state was read (or there was none to read)
	saved  time.Time // when the state was last saved
	dirty  bool      // matches were fed since
	// journalSeq is the last journal entry fed: the state includes the
	// journal up to it.
	journalSeq int64
	// replay is the journal to feed again, read with the saved state and
	// fed before the first group's matches.
	replay []store.JournalEntry
}

// CorrelationStates keeps the correlator's state and the journal of the
// matches fed since it was saved; the SQLite and PostgreSQL stores
// implement it.
type CorrelationStates interface {
	// CorrelationState returns the last saved state (nil if none) and
	// the last journal entry it includes.
	CorrelationState(ctx context.Context) ([]byte, int64, error)
	// SaveCorrelationState saves the state, which includes the journal up
	// to journalSeq (those entries may go).
	SaveCorrelationState(ctx context.Context, data []byte, journalSeq int64) error
	// CorrelationJournal returns the journal after afterSeq, in order.
	CorrelationJournal(ctx context.Context, afterSeq int64) ([]store.JournalEntry, error)
}

// newCorrelator compiles rs's correlator and gives it the open windows of
// the one it replaces, or, on the first call, those saved by the previous
// run (and the journal after them, to feed again).
func (s *Stage) newCorrelator(rs *Rules) *detect.Correlator {
	cs := &s.corr
	k := rs.NewCorrelator()
	var data []byte
	var parts [][]byte // the partitioned workers' states, when they are the later
	var err error
	from := "reload"
	if cs.k != nil {
		data, err = cs.k.Snapshot()
	} else if !cs.loaded && s.cfg.CorrelationStates != nil {
		from = "store"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		data, cs.journalSeq, err = s.cfg.CorrelationStates.CorrelationState(ctx)
		if err == nil {
			cs.replay, err = s.cfg.CorrelationStates.CorrelationJournal(ctx, cs.journalSeq)
			if err != nil {
				s.log.Warn("correlation journal not read: matches committed since the last save are not fed again", "err", err)
				err = nil
			}
		}
		if err == nil {
			parts = s.laterPartitionStates(ctx, data)
		}
		if parts != nil {
			// The deployment moved from partitioned detect workers to
			// this one stage since it last saved: it carries on with
			// their windows, all of them. Its own journal is older than
			// they are: it is not fed again, and goes at the next save.
			from = "partitions"
			if n := len(cs.replay); n > 0 {
				cs.journalSeq = max(cs.journalSeq, cs.replay[n-1].Seq)
			}
			cs.replay = nil
		}
		cancel()
	}
	cs.loaded = true
	if err == nil && (data != nil || parts != nil) {
		var restored, dropped int
		if parts != nil {
			restored, dropped, err = k.RestoreAll(parts...)
		} else {
			restored, dropped, err = k.Restore(data)
		}
		if err == nil {
			s.log.Info("correlation windows restored", "from", from, "groups", restored, "dropped", dropped)
		}
	}
	if err != nil {
		s.log.Warn("correlation windows not restored: they start empty", "from", from, "err", err)
	}
	return k
}

// savedPartitions is a store that keeps partitioned correlation's states
// (both stores do).
type savedPartitions interface {
	SavedPartitionStates(ctx context.Context) ([][]byte, error)
}

// laterPartitionStates returns the partitioned workers' saved states when
// they saw later events than single, this stage's own saved state; nil
// otherwise (or when the store keeps none).
func (s *Stage) laterPartitionStates(ctx context.Context, single []byte) [][]byte {
	sp, ok := s.cfg.CorrelationStates.(savedPartitions)
	if !ok {
		return nil
	}
	parts, err := sp.SavedPartitionStates(ctx)
	if err != nil {
		s.log.Warn("the correlation partitions' states not read: the stage keeps its own", "err", err)
		return nil
	}
	own, _ := stateTime(single)
	for _, p := range parts {
		if t, ok := stateTime(p); ok && t > own {
			return parts
		}
	}
	return nil
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
		err = s.cfg.CorrelationStates.SaveCorrelationState(ctx, data, cs.journalSeq)
		cancel()
	}
	cs.saved = time.Now()
	if err != nil {
		s.log.Warn("correlation windows not saved", "err", err)
		return
	}
	cs.dirty = false
}

// journalMatches gives each batch of a group its correlator input, to be
// journalled by its commit: only when the state is kept and the group's
// rules correlate.
func (s *Stage) journalMatches(group []processed) {
	if s.cfg.CorrelationPartitions > 0 {
		s.journalPartitions(group)
		return
	}
	if s.cfg.CorrelationStates == nil {
		return
	}
	var gid event.ID
	for i, p := range group {
		b := p.res.Batch
		if i == 0 {
			gid = b.ID
		}
		b.Correlation, b.CorrelationGroup, b.JournalSeq = nil, event.ID{}, 0
		if p.rules == nil || p.rules.corr == nil {
			continue
		}
		ms := slices.DeleteFunc(slices.Clone(p.res.Matches), func(m detect.Match) bool { return !s.advanced(m.Workspace) })
		if len(ms) > 0 {
			b.Correlation, b.CorrelationGroup = detect.AppendMatches(nil, ms), gid
		}
	}
}

// fedMatch is a match with its place in the feeding order and the batch it
// came in: a group's matches are fed by event time, then journal entry,
// then order in the batch — an order the journal can give again.
type fedMatch struct {
	m     detect.Match
	seq   int64 // the journal entry, or the batch's place in the group when not journalled
	idx   int
	batch event.ID
	// journalled: seq is a journal entry, which the state includes once
	// fed.
	journalled bool
}

func sortFed(ms []fedMatch) {
	slices.SortFunc(ms, func(a, b fedMatch) int {
		if c := a.m.Time.Compare(b.m.Time); c != 0 {
			return c
		}
		if a.seq != b.seq {
			return cmp.Compare(a.seq, b.seq)
		}
		return cmp.Compare(a.idx, b.idx)
	})
}

// hitsOf are the hits a batch's match set off.
type hitsOf struct {
	batch event.ID
	hits  []detect.CorrelationHit
}

// feed observes ms in order and gathers the hits by the batch whose match
// set them off.
func (cs *correlationStage) feed(ms []fedMatch, out []hitsOf) []hitsOf {
	var hits []detect.CorrelationHit
	for _, f := range ms {
		hits = cs.k.Observe(f.m, hits[:0])
		if len(hits) > 0 {
			out = append(out, hitsOf{batch: f.batch, hits: slices.Clone(hits)})
		}
		if f.journalled && f.seq > cs.journalSeq {
			cs.journalSeq = f.seq
		}
	}
	return out
}

// replayJournal feeds the journal read with the saved state, group by
// group as it was first fed, up to (not including) the entries of the
// group being committed now.
func (s *Stage) replayJournal(before int64, out []hitsOf) []hitsOf {
	cs := &s.corr
	entries := cs.replay
	cs.replay = nil
	fed := 0
	for i := 0; i < len(entries); {
		j := i
		for j < len(entries) && entries[j].Group == entries[i].Group {
			j++
		}
		if before > 0 && entries[i].Seq >= before {
			break
		}
		var ms []fedMatch
		for _, e := range entries[i:j] {
			got, err := detect.DecodeMatches(e.Data)
			if err != nil {
				s.log.Warn("correlation journal entry skipped", "seq", e.Seq, "err", err)
				continue
			}
			for k, m := range got {
				ms = append(ms, fedMatch{m: m, seq: e.Seq, idx: k, batch: e.Batch, journalled: true})
			}
		}
		ms = slices.DeleteFunc(ms, func(f fedMatch) bool { return !s.advanced(f.m.Workspace) })
		sortFed(ms)
		out = cs.feed(ms, out)
		if entries[j-1].Seq > cs.journalSeq {
			cs.journalSeq = entries[j-1].Seq
		}
		fed += len(ms)
		i = j
	}
	if len(entries) > 0 {
		cs.dirty = true
		s.log.Info("correlation journal fed again after a restart", "entries", len(entries), "matches", fed)
	}
	return out
}

// correlateCommitted feeds the matches of newly committed batches, in
// event time order, and returns the batches of signals to commit, one for
// each batch whose matches set correlations off and workspace.
func (s *Stage) correlateCommitted(group []processed, isNew []bool) []*store.Batch {
	var rs *Rules
	var ms []fedMatch
	first := int64(0) // the group's first journal entry
	for i, p := range group {
		if !isNew[i] {
			continue
		}
		if p.rules != nil {
			rs = p.rules
		}
		b := p.res.Batch
		seq := int64(i)
		if b.JournalSeq > 0 {
			seq = b.JournalSeq
			if first == 0 || seq < first {
				first = seq
			}
		}
		for k, m := range p.res.Matches {
			ms = append(ms, fedMatch{m: m, seq: seq, idx: k, batch: b.ID, journalled: b.JournalSeq > 0})
		}
	}
	if rs == nil || rs.corr == nil {
		return nil
	}
	// Correlations belong to the standard tier (tier.go): a free
	// workspace's matches never reach the correlator.
	ms = slices.DeleteFunc(ms, func(f fedMatch) bool { return !s.advanced(f.m.Workspace) })
	cs := &s.corr
	if cs.rules != rs { // first batch, or rules reloaded
		cs.k = s.newCorrelator(rs)
		cs.rules, cs.last = rs, detect.CorrelatorStats{}
	}
	var fired []hitsOf
	if cs.replay != nil {
		fired = s.replayJournal(first, fired)
	}
	sortFed(ms)
	fired = cs.feed(ms, fired)
	if len(ms) > 0 {
		cs.dirty = true
	}
	if cs.dirty && time.Since(cs.saved) >= s.cfg.CorrelationSaveEvery {
		s.saveCorrelations()
	}
	s.m.corr.update(cs.k.Stats(), &cs.last)
	return s.correlationBatches(rs, fired, correlationBatchID)
}

// correlationBatches turns hits into batches of correlation signals, one
// for each batch whose matches set them off and workspace, with the ids id
// gives (the same hits give the same ids, which the store commits once).
func (s *Stage) correlationBatches(rs *Rules, fired []hitsOf, id func(batch event.ID, ws string) event.ID) []*store.Batch {
	if len(fired) == 0 {
		return nil
	}
	type key struct {
		batch event.ID
		ws    string
	}
	byKey := map[key]*store.Batch{}
	var out []*store.Batch
	tallies := map[key]*suppress.Tally{}
	now := time.Now()
	origins := map[string]*alert.Origin{} // by dedup key: one lookup an alert
	batchOf := func(k key) *store.Batch {
		b := byKey[k]
		if b == nil {
			b = &store.Batch{ID: id(k.batch, k.ws), Workspace: k.ws, Source: CorrelationSource,
				Format: CorrelationSource, Received: time.Now().UTC()}
			byKey[k] = b
			out = append(out, b)
		}
		return b
	}
	var sigs []alert.Signal
	for _, f := range fired {
		sigs = rs.CorrelationSignals(f.hits, sigs[:0])
		for _, sig := range sigs {
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
			k := key{f.batch, sig.Workspace}
			if s.disabledRules(sig.Workspace)[sig.Rule.ID] {
				continue // a correlation its workspace turned off
			}
			// Suppressions win over correlations too (by rule, entity or
			// address; a correlation signal has no event for field ones).
			if set := s.suppressions(sig.Workspace); set.Len() > 0 {
				if sp := set.Match(sig.Rule.ID, sig.Entities, nil, now); sp != nil {
					t := tallies[k]
					if t == nil {
						t = &suppress.Tally{}
						tallies[k] = t
					}
					t.Add(sp, sig.Rule.ID, sig.Evidence.Time)
					continue
				}
			}
			b := batchOf(k)
			b.Signals = append(b.Signals, sig)
		}
	}
	for k, t := range tallies {
		batchOf(k).Suppressed = t.Hits
	}
	return out
}

// correlationBatchID is the id of the batch of correlation signals that a
// batch's matches set off in a workspace: made from the batch's id, so
// that the same hits fed again after a restart carry the same id and the
// store skips what it committed before. The time part is the batch's.
func correlationBatchID(batch event.ID, ws string) event.ID {
	h := sha256.Sum256(append(append([]byte("vigil correlation\x00"), batch[:]...), ws...))
	id := batch
	for i := 6; i < len(id); i++ {
		id[i] ^= h[i] | 1 // never the batch's own id
	}
	return id
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
	if !correlating || s.cfg.CorrelationPartitions > 0 {
		// Partitioned: Commit journals a new batch's matches, and the
		// partitions' owners feed them (partitions.go).
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
