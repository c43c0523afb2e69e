package baseline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Defaults of Config.
const (
	// DefaultLearning is the learning period: a model flags nothing
	// until it has seen this much of a workspace's events.
	DefaultLearning = 60 * 24 * time.Hour
	// DefaultWindow is how long a value stays known: one not seen for
	// longer is new again ("a principal not seen in 60 days").
	DefaultWindow = 60 * 24 * time.Hour
	// DefaultMaxValues caps the values one model holds in memory.
	DefaultMaxValues = 100_000
	// DefaultMaxPerEntity caps the values held for one entity.
	DefaultMaxPerEntity = 1_000
)

// Config configures a workspace's baselines.
type Config struct {
	Workspace string
	// Models are the models to keep; nil: Defaults.
	Models []Model
	// Learning is the learning period: 0 DefaultLearning, negative none
	// (flag from the first events; for tests and scans of short logs).
	Learning time.Duration
	// Window is how long a value stays known; 0: DefaultWindow.
	Window time.Duration
	// MaxValues and MaxPerEntity bound memory (0: the defaults): past
	// them the least recently seen tenth of the values is evicted.
	MaxValues, MaxPerEntity int
	// Store keeps the state between runs; nil: in memory only.
	Store  Store
	Logger *slog.Logger
}

// Enricher keeps one workspace's baselines. It is an enrich.Learner: the
// chain runs it on every event of its models' logsources, with the
// enrichers before it (GeoIP gives the country and network it learns).
// Safe for concurrent use: each model has its own lock.
type Enricher struct {
	ws       string
	models   []*compiled
	states   []*state
	learning int64
	window   int64
	// logsources are the models' log sources, each once: Wants is the
	// whole cost on other events.
	logsources []event.Logsource
	store      Store
	// syncMu orders saves and reads: a read between another sync's save
	// and its commit would miss that save's deltas.
	syncMu sync.Mutex
	log    *slog.Logger
}

// New returns the baselines of cfg.Workspace, empty: Load reads what the
// store kept.
func New(cfg Config) (*Enricher, error) {
	ms := cfg.Models
	if ms == nil {
		ms = Defaults
	}
	e := &Enricher{ws: cfg.Workspace, store: cfg.Store, log: cfg.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Learning == 0:
		e.learning = int64(DefaultLearning)
	case cfg.Learning > 0:
		e.learning = int64(cfg.Learning)
	}
	e.window = int64(cfg.Window)
	if e.window <= 0 {
		e.window = int64(DefaultWindow)
	}
	maxV, maxE := cfg.MaxValues, cfg.MaxPerEntity
	if maxV <= 0 {
		maxV = DefaultMaxValues
	}
	if maxE <= 0 {
		maxE = DefaultMaxPerEntity
	}
	seen := map[string]bool{}
	for _, m := range ms {
		c, err := compile(m)
		if err != nil {
			return nil, err
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("baseline model %s: declared twice", m.Name)
		}
		seen[m.Name] = true
		e.models = append(e.models, c)
		for _, l := range m.Logsources {
			if !slices.Contains(e.logsources, l) {
				e.logsources = append(e.logsources, l)
			}
		}
		e.states = append(e.states, newState(c, maxV, maxE, cfg.Store != nil))
	}
	return e, nil
}

var fields = []string{FieldFirstSeen, FieldRare, FieldVolume, FieldLearning}

// Fields implements enrich.Enricher.
func (e *Enricher) Fields() []string { return fields }

// Wants implements enrich.Learner: the event's logsource is one a model
// learns from.
func (e *Enricher) Wants(ev *event.Event) bool {
	return matchLogsource(e.logsources, ev.Logsource)
}

// outIDs are the Dict ids of the fields rules read, per worker (the
// Result's scratch): fields no rule reads are not written.
type outIDs struct {
	dict                              *event.Dict
	first, rare, learn, vol           int32
	hasFirst, hasRare, hasLrn, hasVol bool
}

// Enrich implements enrich.Enricher: each model the event gives an entity
// and a value to learns them, and one that finds the value new or rare
// says so in the event's baseline fields and the Result's anomalies.
func (e *Enricher) Enrich(ev *event.Event, out *enrich.Result) {
	t := ev.Time
	if t.IsZero() {
		t = ev.Received
	}
	tn := t.UnixNano()
	var ids *outIDs
	for i, m := range e.models {
		if !m.wants(ev.Logsource) {
			continue
		}
		entity, value := m.observation(ev)
		if entity == "" || value == "" {
			continue
		}
		st := e.states[i]
		var kind string
		var seen int64
		var learning bool
		if m.Volume {
			amount, err := strconv.ParseInt(value, 10, 64)
			if err != nil || amount < 0 {
				continue // not an amount
			}
			var flag bool
			st.mu.Lock()
			floor := m.VolumeMin
			if floor == 0 {
				floor = VolumeMin
			}
			flag, seen, learning = st.observeVolume(entity, amount, floor, tn, e.learning, e.window)
			st.mu.Unlock()
			if flag {
				kind = KindVolume
			}
		} else {
			st.mu.Lock()
			kind, seen, learning = st.observe(entity, value, tn, e.learning, e.window)
			st.mu.Unlock()
		}
		if kind == "" && !learning {
			continue
		}
		if ids == nil {
			ids = e.ids(ev, out)
		}
		switch {
		case learning:
			if ids.hasLrn {
				ev.Fields.Set(ids.learn, m.Name)
			}
			continue
		case kind == KindFirstSeen && ids.hasFirst:
			ev.Fields.Set(ids.first, m.Name)
		case kind == KindRare && ids.hasRare:
			ev.Fields.Set(ids.rare, m.Name)
		case kind == KindVolume && ids.hasVol:
			ev.Fields.Set(ids.vol, m.Name)
		}
		out.Anomalies = append(out.Anomalies, enrich.Anomaly{Model: m.Name, Entity: entity, Value: value, Kind: kind, Seen: int(seen)})
	}
}

func (e *Enricher) ids(ev *event.Event, out *enrich.Result) *outIDs {
	d := ev.Fields.Dict()
	ids, _ := out.Scratch(e).(*outIDs)
	if ids != nil && ids.dict == d {
		return ids
	}
	ids = &outIDs{dict: d}
	if d != nil {
		ids.first, ids.hasFirst = d.ID(FieldFirstSeen)
		ids.rare, ids.hasRare = d.ID(FieldRare)
		ids.learn, ids.hasLrn = d.ID(FieldLearning)
		ids.vol, ids.hasVol = d.ID(FieldVolume)
	}
	out.SetScratch(e, ids)
	return ids
}

// Load reads the models' state from the store: a restarted server, or a
// new detect worker, goes on learning (or flagging) where the store's
// workers stopped, without taking the values they had learnt for new
// ones.
func (e *Enricher) Load(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	var errs []error
	for i := range e.models {
		errs = append(errs, e.read(ctx, i))
	}
	return errors.Join(errs...)
}

// read takes in what the store saved of model i since the last read:
// every worker's learning.
func (e *Enricher) read(ctx context.Context, i int) error {
	m, st := e.models[i], e.states[i]
	st.mu.Lock()
	after := st.rev
	st.mu.Unlock()
	snap, err := e.store.LoadBaseline(ctx, e.ws, m.Name, after, st.maxValues)
	if err != nil {
		return fmt.Errorf("baseline %s of workspace %s: load: %w", m.Name, e.ws, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !snap.Started.IsZero() && (st.started == 0 || snap.Started.UnixNano() < st.started) {
		st.started = snap.Started.UnixNano()
	}
	st.rev = max(st.rev, snap.Rev)
	first := !st.loaded
	st.loaded = true
	for _, en := range snap.Entries {
		if first {
			st.put(en) // the first read: nothing of this worker's to merge
			st.latest = max(st.latest, en.Last.UnixNano())
		} else {
			st.merge(en)
		}
	}
	return nil
}

// Flush saves what changed since the last flush. A model whose save fails
// keeps its changes for the next flush.
func (e *Enricher) Flush(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	_, err := e.flush(ctx)
	return err
}

// Sync saves what this worker learnt since the last save, then reads
// what the store's other workers saved since the last read, so that each
// worker of a split deployment knows (within one sync) what all learnt.
// A model whose save failed is not read: its count would miss the
// unsaved learning until the save is retried.
func (e *Enricher) Sync(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	failed, err := e.flush(ctx)
	errs := []error{err}
	for i := range e.models {
		if !failed[i] {
			errs = append(errs, e.read(ctx, i))
		}
	}
	return errors.Join(errs...)
}

// flush saves each model's changes, saying which saves failed.
func (e *Enricher) flush(ctx context.Context) (failed []bool, err error) {
	failed = make([]bool, len(e.models))
	var errs []error
	for i, m := range e.models {
		st := e.states[i]
		st.mu.Lock()
		started, startedDirty, entries := st.changes()
		latest := st.latest
		st.mu.Unlock()
		if !startedDirty && len(entries) == 0 {
			continue
		}
		var purge time.Time
		if latest > e.window {
			purge = fromNanos(latest - e.window)
		}
		rev, err := e.store.SaveBaseline(ctx, e.ws, m.Name, fromNanos(started), entries, purge)
		if err == nil {
			st.mu.Lock()
			if rev == st.rev+1 {
				// No other worker saved since the last read: nothing to
				// read back (a single process reads nothing).
				st.rev = rev
			}
			st.mu.Unlock()
			continue
		}
		// The entries, deltas, go back to be saved with the next flush's
		// (the store adds both).
		st.mu.Lock()
		st.evicted = append(entries, st.evicted...)
		st.startedDirty = st.startedDirty || startedDirty
		st.mu.Unlock()
		failed[i] = true
		errs = append(errs, fmt.Errorf("baseline %s of workspace %s: save %d entries: %w", m.Name, e.ws, len(entries), err))
	}
	return failed, errors.Join(errs...)
}

// ModelStatus is the state of one model.
type ModelStatus struct {
	Model    string `json:"model"`
	Learning bool   `json:"learning"`
	// Started is the time of the earliest event learnt; LearningUntil
	// when the model starts flagging (event time).
	Started       time.Time `json:"started,omitzero"`
	LearningUntil time.Time `json:"learning_until,omitzero"`
	Latest        time.Time `json:"latest,omitzero"`
	Entities      int       `json:"entities"`
	Values        int       `json:"values"`
	Evictions     int64     `json:"evictions"`
}

// Status describes the models.
func (e *Enricher) Status() []ModelStatus {
	out := make([]ModelStatus, len(e.models))
	for i, m := range e.models {
		st := e.states[i]
		st.mu.Lock()
		out[i] = ModelStatus{
			Model: m.Name, Learning: st.learning(e.learning), Started: fromNanos(st.started), Latest: fromNanos(st.latest),
			Entities: len(st.entities), Values: st.n, Evictions: st.evictions,
		}
		if st.started != 0 {
			out[i].LearningUntil = fromNanos(st.started + e.learning)
		}
		st.mu.Unlock()
	}
	return out
}
