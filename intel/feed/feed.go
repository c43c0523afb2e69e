// Package feed runs threat-intelligence feeds: each is fetched (over HTTP
// or from a file) on its own schedule, read by the parser of its format,
// kept in the store, and published to the workspace's matching index, so
// that events are matched against what the feeds said last. Feeds that
// fail keep their last indicators and are retried with backoff.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Spec is a feed as configured: its settings as the store keeps them, and
// the request headers of its fetches (credentials, not stored).
type Spec struct {
	store.Feed
	Headers map[string]string
}

// Defaults of Options.
const (
	DefaultTimeout    = 2 * time.Minute
	DefaultMaxSize    = 256 << 20
	DefaultMinBackoff = 30 * time.Second
	DefaultJitter     = 0.1
	// ManualFeed is the feed that indicators added through the API go to.
	ManualFeed = "manual"
)

// Options configure a Manager.
type Options struct {
	Store   store.Intel
	Formats *Formats
	// Sets receives the feeds' indicators, one set a workspace; nil
	// publishes nothing (a one-off import).
	Sets *Sets
	// Client fetches http and https sources; a client without redirects
	// beyond the default and with Timeout when nil.
	Client *http.Client
	// Timeout bounds one fetch, reading and parsing included.
	Timeout time.Duration
	// MaxSize bounds the bytes of a feed document, after decompression.
	MaxSize int64
	// MinBackoff is the first wait after a failed fetch; it doubles with
	// every failure up to the feed's interval.
	MinBackoff time.Duration
	// Jitter spreads fetches: each wait is changed by up to this fraction.
	Jitter  float64
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// Manager runs the feeds. It is safe for concurrent use.
type Manager struct {
	o     Options
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex
	specs map[key]Spec
	locks map[key]*sync.Mutex
	wg    sync.WaitGroup
}

type key struct{ ws, name string }

// New makes a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("feed: Options.Store is nil")
	}
	if o.Formats == nil {
		o.Formats = &Formats{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		o.Jitter = DefaultJitter
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{o: o, log: o.Logger, now: o.Now, specs: map[key]Spec{}, locks: map[key]*sync.Mutex{}}, nil
}

// Check reports what is wrong with a spec before it is stored: the name,
// the format, the source.
func (m *Manager) Check(s Spec) error {
	if err := store.CheckFeedName(s.Name); err != nil {
		return err
	}
	if !m.o.Formats.Known(s.Format) {
		return fmt.Errorf("feed %s: format %q: %w (known: %s)", s.Name, s.Format, store.ErrInvalid, strings.Join(m.o.Formats.Names(), ", "))
	}
	if s.Source == "" {
		return fmt.Errorf("feed %s: no url or path: %w", s.Name, store.ErrInvalid)
	}
	if s.Confidence < 0 || s.Confidence > 100 {
		return fmt.Errorf("feed %s: confidence %d: %w (0 to 100)", s.Name, s.Confidence, store.ErrInvalid)
	}
	if s.Interval < 0 {
		return fmt.Errorf("feed %s: interval %v: %w (not negative)", s.Name, s.Interval, store.ErrInvalid)
	}
	return nil
}

// Provision stores the specs' settings (keeping their status and
// indicators) and schedules them when Start runs.
func (m *Manager) Provision(ctx context.Context, specs []Spec) error {
	for _, s := range specs {
		if err := m.Check(s); err != nil {
			return err
		}
		if err := m.o.Store.PutFeed(ctx, s.Feed); err != nil {
			return err
		}
		m.mu.Lock()
		m.specs[key{s.Workspace, s.Name}] = s
		m.mu.Unlock()
	}
	return nil
}

// Start publishes what the store holds of every feed, so that matching
// works before the first fetch, then fetches the provisioned feeds that
// are enabled and have an interval, each on its own schedule, until ctx
// ends (Wait waits for them).
func (m *Manager) Start(ctx context.Context) error {
	if err := m.Load(ctx, ""); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.specs {
		if !s.Enabled || s.Interval <= 0 {
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.run(ctx, s)
		}()
	}
	return nil
}

// Wait waits for the schedules that Start began to end.
func (m *Manager) Wait() { m.wg.Wait() }

// Load publishes the stored indicators of a workspace's feeds (workspace
// "": every workspace's) and sets their metrics.
func (m *Manager) Load(ctx context.Context, workspace string) error {
	feeds, err := m.o.Store.Feeds(ctx, workspace)
	if err != nil {
		return fmt.Errorf("load feeds: %w", err)
	}
	for _, f := range feeds {
		if err := m.publishStored(ctx, f.Workspace, f.Name); err != nil {
			return err
		}
		m.o.Metrics.status(f)
		m.log.Debug("feed loaded from the store", "workspace", f.Workspace, "feed", f.Name, "indicators", f.Indicators)
	}
	return nil
}

// publishStored publishes a feed's indicators as the store has them.
func (m *Manager) publishStored(ctx context.Context, ws, name string) error {
	if m.o.Sets == nil {
		return nil
	}
	var all []intel.Indicator
	q := store.IndicatorQuery{Feed: name, Limit: 10000}
	for {
		page, next, err := m.o.Store.Indicators(ctx, ws, q)
		if err != nil {
			return fmt.Errorf("load feed %s/%s: %w", ws, name, err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		q.Cursor = next
	}
	m.publish(ws, name, all)
	return nil
}

// publish hands the live indicators to the workspace's set.
func (m *Manager) publish(ws, name string, inds []intel.Indicator) {
	if m.o.Sets == nil {
		return
	}
	now := m.now()
	live := make([]intel.Indicator, 0, len(inds))
	for i := range inds {
		if inds[i].Live(now) {
			live = append(live, inds[i])
		}
	}
	if err := m.o.Sets.Get(ws).Replace(name, live); err != nil {
		m.log.Warn("feed values not matched", "workspace", ws, "feed", name, "error", err)
	}
}

// lock serializes the fetches of one feed (its schedule and refreshes).
func (m *Manager) lock(k key) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.locks[k]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[k] = l
	}
	return l
}

// Feeds lists a workspace's feeds with their status.
func (m *Manager) Feeds(ctx context.Context, workspace string) ([]store.Feed, error) {
	return m.o.Store.Feeds(ctx, workspace)
}

// Refresh fetches a feed now and returns its status after. A failed fetch
// is no error of Refresh: the status says it.
func (m *Manager) Refresh(ctx context.Context, workspace, name string) (store.Feed, error) {
	m.mu.Lock()
	s, ok := m.specs[key{workspace, name}]
	m.mu.Unlock()
	if !ok {
		f, err := m.o.Store.Feed(ctx, workspace, name)
		if err != nil {
			return store.Feed{}, err
		}
		s = Spec{Feed: f}
	}
	if s.Source == "" {
		return store.Feed{}, fmt.Errorf("feed %s/%s has no url or path to fetch: %w", workspace, name, store.ErrInvalid)
	}
	if _, err := m.fetch(ctx, s, false); err != nil && ctx.Err() != nil {
		return store.Feed{}, err
	}
	return m.o.Store.Feed(ctx, workspace, name)
}
