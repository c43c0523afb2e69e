// Package sourcehealth watches sources: when each was last seen, how often it
// usually sends, how fast, and whether it has fallen silent. A source that
// used to send and stops raises one "source fell silent" alert per
// silence, resolved when it sends again.
package sourcehealth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Store is what the monitor reads and writes; store.Store satisfies it.
type Store interface {
	Workspaces(ctx context.Context) ([]tenant.Workspace, error)
	Sources(ctx context.Context, workspace string) ([]tenant.Source, error)
	Commit(ctx context.Context, batches []*store.Batch) (int, error)
	Alerts(ctx context.Context, workspace string, q store.AlertQuery) ([]alert.Alert, string, error)
	SetAlertStatus(ctx context.Context, workspace, id string, status alert.Status, actor string) (alert.Alert, error)
}

// RuleID names the silence alerts' rule.
const RuleID = "vigil-source-silent"

// Actor is who resolves a silence alert when its source resumes.
const Actor = "vigil:source-health"

// Defaults of Config.
const (
	DefaultInterval = 30 * time.Second
	DefaultFactor   = 10
	DefaultFloor    = 15 * time.Minute
)

// Policy is one source's silence rule: silent after max(Factor × its usual
// interval, Floor); Off disables the alert.
type Policy struct {
	Factor float64
	Floor  time.Duration
	Off    bool
}

// Config configures a Monitor. Store is required.
type Config struct {
	Store    Store
	Interval time.Duration // how often sources are looked at
	Default  Policy        // zero fields take the defaults
	// Policies override Default per source, keyed "workspace/source".
	Policies map[string]Policy
	Now      func() time.Time
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil: unregistered
}

// Health is what the monitor knows of one source.
type Health struct {
	Workspace, Source string
	LastSeen          time.Time
	// Interval is the usual time between the source's batches, as seen
	// from polls (never finer than the poll interval); zero until known.
	Interval time.Duration
	// Rate is recent events a second (moving average over polls).
	Rate      float64
	Silent    bool
	Threshold time.Duration // silent after this long without a record
}

type state struct {
	Health
	events int64
	polled time.Time
}

// Monitor polls the store's sources. Run it; Health reads its state.
type Monitor struct {
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	states map[[2]string]*state
	silent prometheus.Gauge
	raised prometheus.Counter
}

// New returns a Monitor.
func New(cfg Config) (*Monitor, error) {
	if cfg.Store == nil {
		return nil, errors.New("health: Config.Store is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	cfg.Default = cfg.Default.withDefaults(Policy{Factor: DefaultFactor, Floor: DefaultFloor})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Monitor{cfg: cfg, log: cfg.Logger, states: map[[2]string]*state{},
		silent: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_sources_silent",
			Help: "Sources that used to send and have fallen silent."}),
		raised: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_source_silence_alerts_total",
			Help: "Source-fell-silent alerts raised."}),
	}
	if cfg.Registry != nil {
		if err := errors.Join(cfg.Registry.Register(m.silent), cfg.Registry.Register(m.raised)); err != nil {
			return nil, fmt.Errorf("health: register metrics: %w", err)
		}
	}
	return m, nil
}

func (p Policy) withDefaults(d Policy) Policy {
	if p.Factor <= 0 {
		p.Factor = d.Factor
	}
	if p.Floor <= 0 {
		p.Floor = d.Floor
	}
	return p
}

// policy is src's silence rule: the configuration's for it, under what an
// admin set on the source itself (tenant.SourceControls), which wins.
func (m *Monitor) policy(src tenant.Source) Policy {
	p := m.cfg.Default
	if c, ok := m.cfg.Policies[src.Workspace+"/"+src.Name]; ok {
		p = c.withDefaults(m.cfg.Default)
	}
	if src.SilentAfter > 0 {
		p.Floor = src.SilentAfter
	}
	if src.NoSilenceAlert {
		p.Off = true
	}
	return p
}

// Run checks the sources every Interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if err := m.Check(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("source health check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check looks at every source once: it updates rates and intervals,
// raises an alert for a source newly silent and resolves it for one that
// resumed.
func (m *Monitor) Check(ctx context.Context) error {
	wss, err := m.cfg.Store.Workspaces(ctx)
	if err != nil {
		return fmt.Errorf("health: workspaces: %w", err)
	}
	var errs []error
	for _, w := range wss {
		srcs, err := m.cfg.Store.Sources(ctx, w.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("health: sources of %s: %w", w.Name, err))
			continue
		}
		for _, s := range srcs {
			if err := m.check(ctx, s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.mu.Lock()
	n := 0
	for _, s := range m.states {
		if s.Silent {
			n++
		}
	}
	m.mu.Unlock()
	m.silent.Set(float64(n))
	return errors.Join(errs...)
}

func (m *Monitor) check(ctx context.Context, src tenant.Source) error {
	if src.LastSeen == nil {
		return nil // never sent: nothing to miss
	}
	now := m.cfg.Now()
	k := [2]string{src.Workspace, src.Name}
	m.mu.Lock()
	st := m.states[k]
	if st == nil {
		st = &state{Health: Health{Workspace: src.Workspace, Source: src.Name, LastSeen: *src.LastSeen}, events: src.Events, polled: now}
		m.states[k] = st
	}
	resumed := false
	if src.LastSeen.After(st.LastSeen) {
		gap := src.LastSeen.Sub(st.LastSeen)
		// A silence is not the usual interval: it would teach the monitor
		// to wait ever longer.
		switch {
		case st.Silent:
		case st.Interval == 0:
			st.Interval = gap
		default:
			st.Interval = (st.Interval*7 + gap*3) / 10
		}
		resumed = st.Silent
		st.LastSeen, st.Silent = *src.LastSeen, false
	}
	if dt := now.Sub(st.polled).Seconds(); dt > 0 {
		r := float64(src.Events-st.events) / dt
		st.Rate = 0.7*st.Rate + 0.3*r
	}
	st.events, st.polled = src.Events, now
	p := m.policy(src)
	st.Threshold = max(time.Duration(p.Factor*float64(st.Interval)), p.Floor)
	quiet := now.Sub(st.LastSeen)
	fire := !p.Off && !st.Silent && quiet > st.Threshold
	if fire {
		st.Silent = true
	}
	h := st.Health
	m.mu.Unlock()

	if resumed {
		return m.resolve(ctx, src, h)
	}
	if fire {
		if err := m.raise(ctx, src, h, quiet); err != nil {
			m.mu.Lock()
			st.Silent = false // try again at the next check
			m.mu.Unlock()
			return err
		}
	}
	return nil
}

// dedupKey is one silence of one source: a new silence after the source
// resumed is a new alert.
func dedupKey(src tenant.Source, h Health) string {
	return src.Workspace + "|" + RuleID + "|" + src.Name + "|" + h.LastSeen.UTC().Format(time.RFC3339Nano)
}

// raise commits the alert as a batch without events. Its id derives from
// the source and the silence, so a restart that finds the source still
// silent commits the same batch, which the store skips: one alert per
// silence. The batch's received time is the source's last record, so the
// source's last_seen does not move.
func (m *Monitor) raise(ctx context.Context, src tenant.Source, h Health, quiet time.Duration) error {
	key := dedupKey(src, h)
	sum := sha256.Sum256([]byte(key))
	var id event.ID
	_ = id.SetTime(ulid.Timestamp(h.LastSeen))
	copy(id[6:], sum[:10])
	sig := alert.Signal{
		Workspace: src.Workspace, Type: "health", Severity: alert.Medium, DedupKey: key,
		Rule: alert.RuleRef{ID: RuleID, Title: "Source fell silent: " + src.Name,
			Description: fmt.Sprintf("Source %s (format %s) sent nothing for %s; it usually sends every %s and counts as silent after %s. Check the sender, the network path and the receiver.",
				src.Name, src.Format, quiet.Round(time.Second), orUnknown(h.Interval), h.Threshold.Round(time.Second))},
		Entities: []alert.Entity{},
		Evidence: alert.Evidence{Time: m.cfg.Now().UTC()},
	}
	b := &store.Batch{ID: id, Workspace: src.Workspace, Source: src.Name, Format: src.Format,
		Received: h.LastSeen, Signals: []alert.Signal{sig}}
	n, err := m.cfg.Store.Commit(ctx, []*store.Batch{b})
	if err != nil {
		return fmt.Errorf("health: raise silence alert for %s/%s: %w", src.Workspace, src.Name, err)
	}
	if n > 0 {
		m.raised.Inc()
		m.log.Warn("source fell silent", "workspace", src.Workspace, "source", src.Name, "quiet", quiet.Round(time.Second), "threshold", h.Threshold)
	}
	return nil
}

func orUnknown(d time.Duration) string {
	if d == 0 {
		return "(unknown)"
	}
	return d.Round(time.Second).String()
}

// resolve closes the open silence alerts of a source that sent again.
func (m *Monitor) resolve(ctx context.Context, src tenant.Source, h Health) error {
	prefix := src.Workspace + "|" + RuleID + "|" + src.Name + "|"
	as, _, err := m.cfg.Store.Alerts(ctx, src.Workspace, store.AlertQuery{RuleID: RuleID,
		Status: alert.OpenStatuses(), Limit: 1000})
	if err != nil {
		return fmt.Errorf("health: silence alerts of %s/%s: %w", src.Workspace, src.Name, err)
	}
	for _, a := range as {
		if !strings.HasPrefix(a.DedupKey, prefix) {
			continue
		}
		if _, err := m.cfg.Store.SetAlertStatus(ctx, src.Workspace, a.ID, alert.StatusResolved, Actor); err != nil {
			return fmt.Errorf("health: resolve silence alert %s: %w", a.ID, err)
		}
		m.log.Info("source resumed", "workspace", src.Workspace, "source", src.Name, "alert", a.ID)
	}
	return nil
}

// Health returns what the monitor knows of a workspace's sources that have
// sent, by name.
func (m *Monitor) Health(workspace string) []Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Health
	for k, s := range m.states {
		if k[0] == workspace {
			out = append(out, s.Health)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
