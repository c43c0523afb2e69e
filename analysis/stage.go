package analysis

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// Fetcher is the part of the bus the stage reads from.
type Fetcher interface {
	Fetch(ctx context.Context, max int, wait time.Duration) ([]*bus.Delivery, error)
}

// Committer is the part of the store the stage writes to. Commit must not
// keep the batches: once it returns, their events and records are reused.
type Committer interface {
	Commit(ctx context.Context, batches []*store.Batch) (int, error)
}

// SourceLookup gives a source's configuration (its logsource override).
type SourceLookup interface {
	Source(ctx context.Context, workspace, name string) (tenant.Source, error)
}

// WorkspaceLookup gives a workspace's tier: correlations run for the
// standard tier only (tier.go).
type WorkspaceLookup interface {
	Workspace(ctx context.Context, name string) (tenant.Workspace, error)
}

// StageConfig configures the detect stage.
type StageConfig struct {
	Bus     Fetcher
	Store   Committer
	Sources SourceLookup
	// Workspaces, when set, gates correlations by tier; nil runs them for
	// every workspace.
	Workspaces WorkspaceLookup
	// Suppressions, when set, gives each workspace's suppressions
	// (cached for LookupTTL; ForgetSuppressions applies a change at
	// once): the signals they match never reach the store.
	Suppressions SuppressionLookup
	// DisabledRules, when set, gives the rules each workspace turned off
	// (cached for LookupTTL; ForgetDisabledRules applies a change at
	// once): their matches neither alert nor feed correlations.
	DisabledRules DisabledRuleLookup
	// LookupTTL is how long a source's configuration and a workspace's
	// tier are cached (default 10s): a change made by another process
	// (the CLI) applies within it; ForgetTier applies a tier at once.
	LookupTTL time.Duration
	// Rules returns the current rule set; it may change between batches
	// (rule reloads).
	Rules   func() *Rules
	Workers int // default 2
	// DecodeOptions gives a source's decoder options (Processor.Options).
	DecodeOptions func(workspace, source string) decode.Options
	// Enrichers gives a workspace's enrichment chain
	// (Processor.Enrichers); nil: no enrichment.
	Enrichers func(workspace string) *enrich.Chain
	// FetchBatches is how many bus batches one fetch asks for; CommitBatches
	// how many processed batches one store transaction takes at most.
	FetchBatches  int // default 8
	CommitBatches int // default 16
	// RetryDelay is how long a batch whose commit failed waits before the
	// bus delivers it again (default 5s).
	RetryDelay time.Duration
	// Drained, when set, is called once a backlog has been worked off: the
	// bus is found empty after at least BacklogBatches batches (default
	// 16) were fetched since it last was, and those batches are committed.
	// The server gives back to the system what the backlog made it hold.
	Drained        func()
	BacklogBatches int
	// CorrelationStates, when set, keeps the correlator's open windows
	// across restarts: loaded before the first correlation, saved every
	// CorrelationSaveEvery (default 30s) and when Run returns.
	CorrelationStates    CorrelationStates
	CorrelationSaveEvery time.Duration
	// CorrelationPartitions, when above 0, splits correlation over
	// several detect workers: the stage feeds no correlator; each new
	// batch's matches are journalled by partition in its commit, and the
	// partitions' owners correlate them (RunPartitions, partitions.go).
	// Every worker of a store must use the same count.
	CorrelationPartitions int
	Logger                *slog.Logger
	Metrics               *Metrics
}

// Stage is the detect stage of `vigil serve`: bus → decode → detect →
// store, acknowledging each bus batch only once it is committed, so that a
// crash replays unacknowledged work and the store's idempotent commit keeps
// replays from counting twice.
type Stage struct {
	cfg     StageConfig
	log     *slog.Logger
	m       *Metrics
	srcMu   sync.Mutex
	srcs    map[[2]string]cachedSource
	tiers   workspaceCache[string]          // tier.go
	sups    workspaceCache[*suppress.Set]   // suppression.go
	offs    workspaceCache[map[string]bool] // rulestate.go
	running atomic.Bool
	corr    correlationStage            // used by the committer goroutine only
	parts   atomic.Pointer[partitioner] // RunPartitions (partitions.go)

	lagMu sync.Mutex
	lags  map[[2]string]time.Duration // by workspace and source: the last batch's
}

type cachedSource struct {
	src tenant.Source
	at  time.Time
}

// NewStage returns a stage; Run starts it.
func NewStage(cfg StageConfig) *Stage {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.FetchBatches <= 0 {
		cfg.FetchBatches = 8
	}
	if cfg.CommitBatches <= 0 {
		cfg.CommitBatches = 16
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 5 * time.Second
	}
	if cfg.BacklogBatches <= 0 {
		cfg.BacklogBatches = 16
	}
	if cfg.CorrelationSaveEvery <= 0 {
		cfg.CorrelationSaveEvery = 30 * time.Second
	}
	if cfg.LookupTTL <= 0 {
		cfg.LookupTTL = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	return &Stage{cfg: cfg, log: cfg.Logger, m: cfg.Metrics, srcs: map[[2]string]cachedSource{}}
}

type processed struct {
	d     *bus.Delivery
	res   Result
	rules *Rules
}

// Run pulls and processes batches until ctx is cancelled, then drains: what
// was fetched is processed, committed and acknowledged before Run returns.
func (s *Stage) Run(ctx context.Context) error {
	s.running.Store(true)
	defer s.running.Store(false)
	work := make(chan *bus.Delivery, s.cfg.FetchBatches)
	done := make(chan processed, s.cfg.CommitBatches)

	var fetchErr error
	// A backlog is drained when the fetcher finds the bus empty after
	// fetching BacklogBatches or more since it last did; the committer
	// calls Drained once it has handled (committed, or failed and handed
	// back) every batch fetched before that.
	drained := make(chan int64, 1)
	go func() { // fetcher
		defer close(work)
		var since int
		var fetched int64
		for ctx.Err() == nil {
			ds, err := s.cfg.Bus.Fetch(ctx, s.cfg.FetchBatches, time.Second)
			if err == nil && len(ds) == 0 {
				if since >= s.cfg.BacklogBatches && s.cfg.Drained != nil {
					select {
					case drained <- fetched:
					default: // the last one is not yet handled
					}
				}
				since = 0 // keeping up is not a backlog
			}
			since += len(ds)
			fetched += int64(len(ds))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("bus fetch failed", "err", err)
				s.m.fetchErrors.Inc()
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
				continue
			}
			for _, d := range ds {
				work <- d // after cancellation too: fetched batches are still processed
			}
		}
	}()

	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p *Processor
			var pr *Rules
			for d := range work {
				if rs := s.cfg.Rules(); rs != pr || p == nil {
					pr, p = rs, NewProcessor(rs)
					p.Options = s.cfg.DecodeOptions
					if s.cfg.Enrichers != nil {
						p.Enrichers = s.enrichers
					}
					if s.cfg.Suppressions != nil {
						p.Suppressions = s.suppressions
					}
					if s.cfg.DisabledRules != nil {
						p.Disabled = s.disabledRules
					}
				}
				src := s.source(d.Batch.Workspace, d.Batch.Source)
				start := time.Now()
				res := p.Process(d.Batch, src)
				s.m.processSeconds.Observe(time.Since(start).Seconds())
				for _, r := range res.Slow {
					s.m.slow.Inc()
					s.log.Warn("record over its decode budget", "workspace", d.Batch.Workspace, "source", d.Batch.Source,
						"format", d.Batch.Format, "line", r.Line, "id", r.ID.String(), "took", r.Took)
				}
				for _, r := range res.Rejected {
					s.log.Debug("record rejected by decoder", "workspace", d.Batch.Workspace, "source", d.Batch.Source, "line", r.Line, "id", r.ID.String(), "reason", r.Reason)
				}
				done <- processed{d: d, res: res, rules: pr}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// committer: gathers processed batches into one transaction.
	var handled int64
	var drainedAt int64 = -1 // batches fetched when the bus was found empty
	for {
		var first processed
		var ok bool
		select {
		case first, ok = <-done:
		case drainedAt = <-drained:
			if handled >= drainedAt {
				s.cfg.Drained()
				drainedAt = -1
			}
			continue
		}
		if !ok {
			s.saveCorrelations()
			return fetchErr
		}
		group := []processed{first}
	gather:
		for len(group) < s.cfg.CommitBatches {
			select {
			case p, ok := <-done:
				if !ok {
					break gather
				}
				group = append(group, p)
			default:
				break gather
			}
		}
		s.commit(group)
		if handled += int64(len(group)); drainedAt >= 0 && handled >= drainedAt {
			s.cfg.Drained()
			drainedAt = -1
		}
	}
}

// commit writes a group and acknowledges its bus batches. A failed commit
// is not acknowledged: the bus redelivers after a delay.
func (s *Stage) commit(group []processed) {
	batches := make([]*store.Batch, len(group))
	for i, p := range group {
		batches[i] = p.res.Batch
	}
	// The store must not be cut off by shutdown mid-transaction.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The batches' records are read until the group is committed (or
	// handed back) and its correlations are done: then their buffers go
	// back to the bus for the next fetches.
	defer func() {
		for i := range group {
			recycle(&group[i].res)
			group[i].d.Release()
		}
	}()
	s.journalMatches(group)
	start := time.Now()
	n, isNew, err := s.commitTracked(ctx, group, batches)
	if err != nil {
		s.log.Error("store commit failed; batches will be redelivered", "batches", len(batches), "err", err)
		s.m.commitErrors.Inc()
		for _, p := range group {
			_ = p.d.Nak(s.cfg.RetryDelay)
		}
		return
	}
	s.m.commitSeconds.Observe(time.Since(start).Seconds())
	s.m.replayed.Add(float64(len(batches) - n))
	t := time.Now()
	for _, p := range group {
		b := p.res.Batch
		s.m.events.Add(float64(len(b.Events)))
		s.m.rejected.Add(float64(b.Rejected))
		s.m.skew.WithLabelValues("future").Add(float64(p.res.Skew.Future))
		s.m.skew.WithLabelValues("past").Add(float64(p.res.Skew.Past))
		s.m.signals.Add(float64(len(b.Signals)))
		for _, h := range b.Suppressed {
			s.m.suppressed.Add(float64(h.Count))
		}
		s.m.latency.Observe(t.Sub(b.Received).Seconds())
		s.noteLag(b.Workspace, b.Source, t.Sub(b.Received))
		if err := p.d.Ack(ctx); err != nil {
			// Committed but not acknowledged: the redelivery is skipped by
			// the store's idempotent commit.
			s.log.Warn("bus ack failed", "batch", b.ID.String(), "err", err)
		}
	}
	if s.cfg.CorrelationPartitions == 0 {
		s.commitCorrelations(s.correlateCommitted(group, isNew))
	}
}

func (s *Stage) noteLag(ws, source string, d time.Duration) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if s.lags == nil {
		s.lags = map[[2]string]time.Duration{}
	}
	s.lags[[2]string{ws, source}] = d
}

// LastLag returns how long the source's most recently committed batch
// waited from its receipt by ingest to its commit; false before any was
// committed by this stage.
func (s *Stage) LastLag(ws, source string) (time.Duration, bool) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	d, ok := s.lags[[2]string{ws, source}]
	return d, ok
}

// source returns the source's configuration, cached for LookupTTL.
func (s *Stage) source(ws, name string) tenant.Source {
	if s.cfg.Sources == nil {
		return tenant.Source{}
	}
	k := [2]string{ws, name}
	s.srcMu.Lock()
	c, ok := s.srcs[k]
	s.srcMu.Unlock()
	if ok && time.Since(c.at) < s.cfg.LookupTTL {
		return c.src
	}
	src, err := s.cfg.Sources.Source(context.Background(), ws, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("source lookup failed", "workspace", ws, "source", name, "err", err)
	}
	s.srcMu.Lock()
	s.srcs[k] = cachedSource{src: src, at: time.Now()}
	s.srcMu.Unlock()
	return src
}

// Metrics of the detect stage.
type Metrics struct {
	events, rejected, signals, replayed    prometheus.Counter
	suppressed                             prometheus.Counter
	fetchErrors, commitErrors              prometheus.Counter
	skew                                   *prometheus.CounterVec
	slow                                   prometheus.Counter
	latency, processSeconds, commitSeconds prometheus.Histogram
	corr                                   *correlationMetrics
}

// NewMetrics registers the stage's metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events:   prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_events_total", Help: "Events decoded, detected and stored."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_rejected_total", Help: "Records the decoder refused."}),
		signals:  prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_alerts_signals_total", Help: "Rule matches raised (signals merged into alerts)."}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_alerts_suppressed_total",
			Help: "Rule matches and signals suppressions kept from alerting (committed batches)."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_replayed_batches_total", Help: "Bus batches delivered again after being committed (skipped)."}),
		skew: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_detect_time_skew_total",
			Help: "Events kept with a time stamp far in the future (over 1h) or the past (over 1 year) of their arrival, flagged in the tags field."}, []string{"direction"}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_slow_records_total",
			Help: "Records that took longer than the decode budget (10ms) to decode; each is logged with its source and line."}),
		fetchErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_fetch_errors_total", Help: "Failed bus fetches."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_commit_errors_total", Help: "Failed store commits (batches redelivered)."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_detect_latency_seconds",
			Help: "From ingest acknowledgement to event and alerts stored.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		processSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_detect_process_seconds",
			Help: "Decode and detect time per bus batch.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_store_commit_seconds",
			Help: "Store transaction time per group of batches.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	m.corr = newCorrelationMetrics()
	if reg != nil {
		reg.MustRegister(m.corr.collectors()...)
		reg.MustRegister(m.slow, m.skew, m.events, m.rejected, m.signals, m.suppressed, m.replayed, m.fetchErrors, m.commitErrors, m.latency, m.processSeconds, m.commitSeconds)
	}
	return m
}
