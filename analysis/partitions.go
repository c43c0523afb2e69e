package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Partitioned correlation spreads the correlators over several detect
// workers that share one bus consumer (each batch reaches one of them):
//
//   - the stage that commits a batch journals its matches by partition, a
//     hash of correlation and group key (detect.Correlator.MatchPartitions),
//     in the batch's own transaction: a committed match is never lost;
//   - each partition is owned by one worker at a time, through a lease in
//     the store that its owner renews; the owner reads its partitions'
//     journals in order, feeds one correlator each, commits the alerts
//     they raise and saves each partition's state with the last journal
//     entry it includes (the save is refused once the lease is lost);
//   - a worker that stops (or is killed) lets its leases expire; the
//     others take its partitions, load their saved states and feed the
//     journal after them again, in the same order, so that the same hits
//     come again with the same batch ids, which the store commits once.
//
// Workers share the partitions evenly: each takes at most its share of
// those nobody holds (the partitions over the workers alive, told by
// their worker leases), and gives back, one a round, what it holds beyond
// its share, so that a worker that joins gets some.

// PartitionStates is what partitioned correlation keeps in the store; the
// SQLite and PostgreSQL stores implement it.
type PartitionStates interface {
	// SetCorrelationPartitions records the partition count, or refuses
	// one that differs from the recorded count.
	SetCorrelationPartitions(ctx context.Context, n int) error
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
	LeaseHolders(ctx context.Context, prefix string) (map[string]string, error)
	PartitionState(ctx context.Context, part int) ([]byte, int64, error)
	SavePartitionState(ctx context.Context, part int, lease, owner string, data []byte, journalSeq int64) error
	PartitionJournal(ctx context.Context, part int, afterSeq int64, limit int) ([]store.JournalEntry, error)
}

// PartitionConfig configures RunPartitions.
type PartitionConfig struct {
	States PartitionStates
	// Owner names this worker in its leases: unique among the workers.
	Owner string
	// Partitions is the partition count (StageConfig.CorrelationPartitions).
	Partitions int
	// LeaseTTL is how long a lease lasts unrenewed (default 15s): how
	// long a killed worker's partitions wait for a new owner. Leases are
	// renewed three times within it.
	LeaseTTL time.Duration
	// Poll is how often the owned partitions' journals are read (default
	// 250ms).
	Poll time.Duration
	// SaveEvery is how often a partition's state is saved when it changed
	// (default: StageConfig.CorrelationSaveEvery).
	SaveEvery time.Duration
}

// Lease names: a partition's, and a worker's (its presence).
const (
	PartitionLeasePrefix = "correlation/"
	WorkerLeasePrefix    = "detect-worker/"
)

func partitionLease(p int) string { return fmt.Sprintf("%s%04d", PartitionLeasePrefix, p) }

// journalBatchLimit is how many journal entries one read takes.
const journalBatchLimit = 1000

// partition is one owned partition's correlator.
type partition struct {
	n     int
	rules *Rules
	k     *detect.Correlator
	last  detect.CorrelatorStats
	seq   int64 // the last journal entry fed
	dirty bool
	saved time.Time
	// stale: the correlator may have fed what was not committed (a failed
	// alert commit); it is loaded from the store again before more.
	stale bool
}

// partitioner is the state of RunPartitions.
type partitioner struct {
	s     *Stage
	cfg   PartitionConfig
	owned map[int]*partition
	count atomic.Int64
	// single is the state a single detect stage saved (StageConfig.
	// CorrelationStates), read once: a partition whose own state is older
	// (or missing) takes its share of it.
	single     []byte
	singleAt   int64 // its stateTime
	singleRead bool
}

// journalPartitions gives each batch of a group its correlator input by
// partition, to be journalled by its commit.
func (s *Stage) journalPartitions(group []processed) {
	n := s.cfg.CorrelationPartitions
	var parts []int
	for _, p := range group {
		b := p.res.Batch
		b.Correlation, b.CorrelationGroup, b.JournalSeq, b.CorrelationParts = nil, event.ID{}, 0, nil
		if p.rules == nil || p.rules.corr == nil {
			continue
		}
		k := s.partitionKey(p.rules)
		byPart := map[int][]detect.Match{}
		for _, m := range p.res.Matches {
			if !s.advanced(m.Workspace) {
				continue
			}
			parts = k.MatchPartitions(m, n, parts[:0])
			for _, q := range parts {
				byPart[q] = append(byPart[q], m)
			}
		}
		for q, ms := range byPart {
			b.CorrelationParts = append(b.CorrelationParts, store.PartitionInput{Part: q, Data: detect.AppendMatches(nil, ms)})
		}
		slices.SortFunc(b.CorrelationParts, func(a, b store.PartitionInput) int { return a.Part - b.Part })
	}
}

// partitionKey is a correlator of rs that only tells matches' partitions
// (kept by the committer goroutine while rs is in force).
func (s *Stage) partitionKey(rs *Rules) *detect.Correlator {
	if s.corr.rules != rs || s.corr.k == nil {
		s.corr.rules, s.corr.k = rs, rs.NewCorrelator()
	}
	return s.corr.k
}

// OwnedPartitions is how many partitions RunPartitions holds now.
func (s *Stage) OwnedPartitions() int {
	if p := s.parts.Load(); p != nil {
		return int(p.count.Load())
	}
	return 0
}

// RunPartitions owns correlation partitions until ctx ends: it takes its
// share of them, correlates their journals and commits the alerts, then
// saves their states and gives the leases back.
func (s *Stage) RunPartitions(ctx context.Context, cfg PartitionConfig) error {
	if cfg.States == nil || cfg.Owner == "" || cfg.Partitions <= 0 {
		return errors.New("correlation partitions: states, owner and a partition count are needed")
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = s.cfg.CorrelationSaveEvery
	}
	if err := s.agreePartitions(ctx, cfg); err != nil {
		return err
	}
	pt := &partitioner{s: s, cfg: cfg, owned: map[int]*partition{}}
	s.parts.Store(pt)
	renew := time.NewTicker(cfg.LeaseTTL / 3)
	defer renew.Stop()
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	pt.balance(ctx)
	for {
		select {
		case <-ctx.Done():
			pt.stop()
			return nil
		case <-renew.C:
			pt.balance(ctx)
		case <-poll.C:
			for _, p := range pt.sorted() {
				pt.correlate(ctx, p)
			}
		}
	}
}

// repartitioner is a store that can change the recorded partition count
// (both stores can).
type repartitioner interface {
	savedPartitions
	RepartitionCorrelation(ctx context.Context, n int, merged []byte, busy ...string) error
}

// agreePartitions records cfg's partition count, or checks it against the
// store's. A store recording another count is changed to cfg's once no
// worker holds a lease (they all stopped): the old partitions' windows are
// gathered into one state, saved as a single detect stage's, which the new
// partitions share out as they load (partitioner.load). Workers of the old
// count still running keep it from changing: after a few tries over two
// lease lifetimes (a killed worker's leases run out), the error stands.
func (s *Stage) agreePartitions(ctx context.Context, cfg PartitionConfig) error {
	deadline := time.Now().Add(2*cfg.LeaseTTL + time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := cfg.States.SetCorrelationPartitions(sctx, cfg.Partitions)
		if errors.Is(err, store.ErrConflict) {
			if rp, ok := cfg.States.(repartitioner); ok {
				if rerr := s.repartition(sctx, rp, cfg.Partitions); rerr != nil {
					err = fmt.Errorf("%w; %w", err, rerr)
				} else {
					err = nil
				}
			}
		}
		cancel()
		if err == nil || !errors.Is(err, store.ErrConflict) || time.Now().After(deadline) {
			return err
		}
		s.log.Warn("correlation partitions: the store's count cannot change yet; trying again", "partitions", cfg.Partitions, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.LeaseTTL / 3):
		}
	}
}

// repartition changes the store's partition count to n, carrying the old
// partitions' windows over (as the single detect stage's state, when they
// are later than what that holds).
func (s *Stage) repartition(ctx context.Context, rp repartitioner, n int) error {
	parts, err := rp.SavedPartitionStates(ctx)
	if err != nil {
		return err
	}
	var merged []byte
	if rs := s.cfg.Rules(); len(parts) > 0 && rs != nil && rs.corr != nil {
		k := rs.NewCorrelator()
		if _, _, err := k.RestoreAll(parts...); err != nil {
			s.log.Warn("correlation partitions: the old partitions' windows not read: they start empty", "err", err)
		} else if merged, err = k.Snapshot(); err != nil {
			return err
		}
		if merged != nil && s.cfg.CorrelationStates != nil {
			single, _, err := s.cfg.CorrelationStates.CorrelationState(ctx)
			if err != nil {
				return err
			}
			st, ok := stateTime(single)
			if mt, _ := stateTime(merged); ok && st > mt {
				merged = nil // a single stage ran since: its windows are the later
			}
		}
	}
	if err := rp.RepartitionCorrelation(ctx, n, merged, PartitionLeasePrefix, WorkerLeasePrefix); err != nil {
		return err
	}
	s.log.Info("correlation partitions changed: the windows are shared out among the new partitions", "partitions", n, "old_states", len(parts), "carried", merged != nil)
	return nil
}

func (pt *partitioner) sorted() []*partition {
	out := make([]*partition, 0, len(pt.owned))
	for _, p := range pt.owned {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *partition) int { return a.n - b.n })
	return out
}

func (pt *partitioner) ctx() (context.Context, context.CancelFunc) {
	// Store calls are not cut by shutdown halfway.
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// balance renews this worker's leases, gives back what it holds beyond
// its share and takes free partitions up to it.
func (pt *partitioner) balance(runCtx context.Context) {
	ctx, cancel := pt.ctx()
	defer cancel()
	st, log := pt.cfg.States, pt.s.log
	if _, err := st.AcquireLease(ctx, WorkerLeasePrefix+pt.cfg.Owner, pt.cfg.Owner, pt.cfg.LeaseTTL); err != nil {
		log.Warn("detect worker lease not renewed", "err", err)
	}
	for _, p := range pt.sorted() {
		ok, err := st.AcquireLease(ctx, partitionLease(p.n), pt.cfg.Owner, pt.cfg.LeaseTTL)
		if err != nil {
			log.Warn("correlation partition lease not renewed", "partition", p.n, "err", err)
			continue // kept while the lease lasts; a save after it fails
		}
		if !ok {
			log.Warn("correlation partition lost to another worker", "partition", p.n)
			pt.drop(p)
		}
	}
	if runCtx.Err() != nil {
		return
	}
	workers, err := st.LeaseHolders(ctx, WorkerLeasePrefix)
	if err != nil {
		log.Warn("detect workers not listed", "err", err)
		return
	}
	holders, err := st.LeaseHolders(ctx, PartitionLeasePrefix)
	if err != nil {
		log.Warn("correlation partition leases not listed", "err", err)
		return
	}
	n := max(len(workers), 1)
	share := (pt.cfg.Partitions + n - 1) / n
	if len(pt.owned) > share {
		// One a round, its state saved first: the others take it at once.
		ps := pt.sorted()
		p := ps[len(ps)-1]
		pt.correlate(ctx, p)
		if pt.save(p) == nil {
			if err := st.ReleaseLease(ctx, partitionLease(p.n), pt.cfg.Owner); err != nil {
				log.Warn("correlation partition lease not released", "partition", p.n, "err", err)
			}
			pt.drop(p)
			log.Info("correlation partition handed over", "partition", p.n, "workers", n)
		}
		return
	}
	for q := 0; q < pt.cfg.Partitions && len(pt.owned) < share; q++ {
		if _, mine := pt.owned[q]; mine || holders[partitionLease(q)] != "" {
			continue
		}
		ok, err := st.AcquireLease(ctx, partitionLease(q), pt.cfg.Owner, pt.cfg.LeaseTTL)
		if err != nil {
			log.Warn("correlation partition lease not taken", "partition", q, "err", err)
			return
		}
		if !ok {
			continue
		}
		p := &partition{n: q, stale: true, saved: time.Now()}
		pt.owned[q] = p
		pt.count.Store(int64(len(pt.owned)))
		log.Info("correlation partition taken", "partition", q, "workers", n)
	}
}

func (pt *partitioner) drop(p *partition) {
	delete(pt.owned, p.n)
	pt.count.Store(int64(len(pt.owned)))
}

// load gives a partition the correlator of rs with the state the store
// saved and the journal position it includes.
func (pt *partitioner) load(ctx context.Context, p *partition, rs *Rules) error {
	data, seq, err := pt.cfg.States.PartitionState(ctx, p.n)
	if err != nil {
		return err
	}
	from := "partition"
	if err := pt.readSingle(ctx); err != nil {
		pt.s.log.Warn("the single detect stage's correlation state not read: the partition keeps its own", "partition", p.n, "err", err)
	} else if own, _ := stateTime(data); pt.single != nil && pt.singleAt > own {
		// The deployment moved from one detect stage to partitioned
		// workers since this partition last saved (or it never did):
		// its windows are its share of that stage's.
		data, from = pt.single, "single detect stage"
	}
	k := rs.NewCorrelator()
	k.SetPartition(p.n, pt.cfg.Partitions)
	if data != nil {
		restored, dropped, err := k.Restore(data)
		if err != nil {
			pt.s.log.Warn("correlation partition's windows not restored: they start empty", "partition", p.n, "from", from, "err", err)
		} else {
			pt.s.log.Info("correlation partition's windows restored", "partition", p.n, "from", from, "groups", restored, "dropped", dropped, "journal_seq", seq)
		}
	}
	p.k, p.rules, p.seq, p.last, p.stale, p.dirty = k, rs, seq, detect.CorrelatorStats{}, false, false
	return nil
}

// readSingle reads, once, the state a single detect stage saved (nil when
// none, or when it cannot be read) and its time.
func (pt *partitioner) readSingle(ctx context.Context) error {
	cs := pt.s.cfg.CorrelationStates
	if pt.singleRead || cs == nil {
		return nil
	}
	data, _, err := cs.CorrelationState(ctx)
	if err != nil {
		return err
	}
	at, ok := stateTime(data)
	if !ok {
		data = nil
	}
	pt.single, pt.singleAt, pt.singleRead = data, at, true
	return nil
}

// stateTime is the latest event time a saved correlator state saw
// (detect.SnapshotTime): of two states, the later is the one to carry on
// with. ok is false, and the time 0, for none or one that cannot be read.
func stateTime(data []byte) (int64, bool) {
	if data == nil {
		return 0, false
	}
	t, err := detect.SnapshotTime(data)
	return t, err == nil
}

// correlate feeds a partition's journal after what it fed, commits the
// alerts and saves the state when it is due.
func (pt *partitioner) correlate(ctx context.Context, p *partition) {
	s := pt.s
	rs := s.cfg.Rules()
	if rs == nil || rs.corr == nil {
		return
	}
	if p.stale {
		if err := pt.load(ctx, p, rs); err != nil {
			s.log.Warn("correlation partition not loaded; tried again", "partition", p.n, "err", err)
			return
		}
	}
	if p.rules != rs { // rules reloaded: the open windows carry over
		k := rs.NewCorrelator()
		k.SetPartition(p.n, pt.cfg.Partitions)
		if data, err := p.k.Snapshot(); err == nil {
			_, _, err = k.Restore(data)
			if err != nil {
				s.log.Warn("correlation partition's windows not carried over a reload", "partition", p.n, "err", err)
			}
		}
		p.k, p.rules, p.last = k, rs, detect.CorrelatorStats{}
	}
	for {
		entries, err := pt.cfg.States.PartitionJournal(ctx, p.n, p.seq, journalBatchLimit)
		if err != nil {
			s.log.Warn("correlation journal not read", "partition", p.n, "err", err)
			return
		}
		if len(entries) == 0 {
			break
		}
		fired := pt.feed(p, entries)
		if err := pt.commit(rs, p, fired); err != nil {
			s.log.Error("correlation alerts not committed; the partition feeds its journal again", "partition", p.n, "err", err)
			s.m.commitErrors.Inc()
			p.stale = true
			return
		}
		p.seq, p.dirty = entries[len(entries)-1].Seq, true
		if len(entries) < journalBatchLimit {
			break
		}
	}
	s.m.corr.update(p.k.Stats(), &p.last)
	if p.dirty && time.Since(p.saved) >= pt.cfg.SaveEvery {
		_ = pt.save(p)
	}
}

// feed observes the entries' matches: entry by entry in journal order,
// each entry's by event time (an order a new owner gives again).
func (pt *partitioner) feed(p *partition, entries []store.JournalEntry) []hitsOf {
	var out []hitsOf
	var hits []detect.CorrelationHit
	for _, e := range entries {
		ms, err := detect.DecodeMatches(e.Data)
		if err != nil {
			pt.s.log.Warn("correlation journal entry skipped", "partition", p.n, "seq", e.Seq, "err", err)
			continue
		}
		slices.SortStableFunc(ms, func(a, b detect.Match) int { return a.Time.Compare(b.Time) })
		key := partitionBatchKey(e.Batch, p.n, e.Seq)
		for _, m := range ms {
			hits = p.k.Observe(m, hits[:0])
			if len(hits) > 0 {
				out = append(out, hitsOf{batch: key, hits: slices.Clone(hits)})
			}
		}
	}
	return out
}

// commit writes the alerts of a partition's hits, with batch ids made
// from the journal entries that set them off: fed again after a
// takeover, the same hits are committed once.
func (pt *partitioner) commit(rs *Rules, p *partition, fired []hitsOf) error {
	bs := pt.s.correlationBatches(rs, fired, correlationBatchID)
	if len(bs) == 0 {
		return nil
	}
	ctx, cancel := pt.ctx()
	defer cancel()
	if _, err := pt.s.cfg.Store.Commit(ctx, bs); err != nil {
		return err
	}
	for _, b := range bs {
		for _, h := range b.Suppressed {
			pt.s.m.suppressed.Add(float64(h.Count))
		}
	}
	return nil
}

// save writes a partition's state, fenced by its lease.
func (pt *partitioner) save(p *partition) error {
	if p.k == nil || !p.dirty {
		return nil
	}
	data, err := p.k.Snapshot()
	if err == nil {
		ctx, cancel := pt.ctx()
		err = pt.cfg.States.SavePartitionState(ctx, p.n, partitionLease(p.n), pt.cfg.Owner, data, p.seq)
		cancel()
	}
	p.saved = time.Now()
	if errors.Is(err, store.ErrConflict) {
		pt.s.log.Warn("correlation partition lost to another worker before its state was saved", "partition", p.n)
		pt.drop(p)
		return err
	}
	if err != nil {
		pt.s.log.Warn("correlation partition's state not saved", "partition", p.n, "err", err)
		return err
	}
	p.dirty = false
	return nil
}

// stop saves the owned partitions' states and gives their leases back.
func (pt *partitioner) stop() {
	ctx, cancel := pt.ctx()
	defer cancel()
	for _, p := range pt.sorted() {
		if !p.stale {
			pt.correlate(ctx, p)
		}
		// A stale partition has nothing of this worker's to save: the
		// store's state and journal are whole.
		if p.stale || pt.save(p) == nil {
			_ = pt.cfg.States.ReleaseLease(ctx, partitionLease(p.n), pt.cfg.Owner)
		}
		pt.drop(p)
	}
	_ = pt.cfg.States.ReleaseLease(ctx, WorkerLeasePrefix+pt.cfg.Owner, pt.cfg.Owner)
}

// partitionBatchKey stands for the batch whose journal entry of a
// partition set hits off: distinct by partition and entry, and keeping
// the batch's time part.
func partitionBatchKey(batch event.ID, part int, seq int64) event.ID {
	var buf [8 + 8]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(part))
	binary.BigEndian.PutUint64(buf[8:], uint64(seq))
	h := sha256.Sum256(append(append([]byte("vigil partition\x00"), batch[:]...), buf[:]...))
	id := batch
	for i := 6; i < len(id); i++ {
		id[i] ^= h[i]
	}
	return id
}
