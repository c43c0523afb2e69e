package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/assets"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/enrich/travel"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// serveEnrichment is `vigil serve`'s enrichment: the GeoIP databases
// shared by every workspace, and each workspace's intelligence enricher,
// whose matcher the feed manager replaces (SetMatcher), and asset
// enricher, whose inventory is the assets file's (every workspace's) and
// the workspace's own kept in the store, made again when the API changes
// it (AssetsChanged). A workspace's chain is made once and kept, so that
// the detect workers see one chain a workspace.
type serveEnrichment struct {
	geo *geoip.Enricher // nil: no GeoIP
	// fileAssets are the assets file's entries, given to every workspace;
	// storedAssets, when set, keeps each workspace's own.
	fileAssets   []assets.Asset
	storedAssets store.Assets
	log          *slog.Logger
	// matchers, when set, gives a workspace's live indicator set when its
	// chain is made. Integration point: the feed manager's per-workspace
	// sets (a set that swaps its contents itself needs nothing more; one
	// replaced by a new value is handed over with SetMatcher).
	matchers func(workspace string) intel.Matcher
	// baselines, when set, keeps the workspaces' behavioural baselines
	// (the last enricher of each chain; the detect stage leaves it out
	// for free workspaces).
	baselines baseline.Store
	cfg       *Config

	mu     sync.RWMutex
	chains map[string]*wsEnrichment
}

type wsEnrichment struct {
	intel    *indicators.Enricher
	travel   *travel.Enricher   // each workspace follows its own accounts
	assets   *assets.Enricher   // nil: no inventory anywhere
	baseline *baseline.Enricher // nil: no baselines
	chain    *enrich.Chain
}

// newServeEnrichment opens the GeoIP databases and reads the assets file;
// stored (nil: none) keeps the workspaces' own inventories.
func newServeEnrichment(cfg *Config, stored store.Assets, log *slog.Logger) (*serveEnrichment, error) {
	e := &serveEnrichment{chains: map[string]*wsEnrichment{}, storedAssets: stored, cfg: cfg, log: log}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	var paths []string
	for _, p := range cfg.GeoIPDatabases {
		if p != "" && p != "none" {
			paths = append(paths, p)
		}
	}
	geo, err := openGeoIP(paths)
	if err != nil {
		return nil, fmt.Errorf("setting geoip-databases: %w", err)
	}
	e.geo = geo
	if cfg.AssetsFile != "" {
		inv, err := assets.ReadFile(cfg.AssetsFile)
		if err == nil {
			_, err = assets.NewInventory(inv) // checked now: a bad file stops the start
		}
		if err != nil {
			return nil, fmt.Errorf("setting assets-file: %w", err)
		}
		e.fileAssets = inv
	}
	return e, nil
}

// inventory is a workspace's asset inventory: the file's assets, then
// its own from the store (an asset of the same name and type there wins,
// being looked up last). A stored asset the inventory refuses is left
// out and logged; a store that cannot be read leaves the file's alone.
func (e *serveEnrichment) inventory(ctx context.Context, ws string) *assets.Inventory {
	list := slices.Clone(e.fileAssets)
	if e.storedAssets != nil {
		stored, err := e.storedAssets.Assets(ctx, ws)
		if err != nil {
			e.log.ErrorContext(ctx, "read the workspace's assets; the assets file's alone are used", "workspace", ws, "err", err)
		}
		for _, a := range stored {
			list = append(list, assets.Asset{Name: a.Name, Type: a.Type, Match: a.Match, Criticality: a.Criticality,
				Owner: a.Owner, Environment: a.Environment, Tags: a.Tags})
		}
	}
	inv, err := assets.NewInventory(list)
	if err == nil {
		return inv
	}
	e.log.ErrorContext(ctx, "asset inventory refused entries; they are left out", "workspace", ws, "err", err)
	var good []assets.Asset
	for _, a := range list {
		if _, err := assets.NewInventory([]assets.Asset{a}); err == nil {
			good = append(good, a)
		}
	}
	inv, _ = assets.NewInventory(good)
	return inv
}

// hasAssets reports whether workspaces may have an inventory.
func (e *serveEnrichment) hasAssets() bool { return len(e.fileAssets) > 0 || e.storedAssets != nil }

// AssetsChanged makes the workspace's inventory again from the store, for
// the events enriched from then on (the API calls it after a change).
func (e *serveEnrichment) AssetsChanged(ws string) {
	e.mu.RLock()
	w := e.chains[ws]
	e.mu.RUnlock()
	if w == nil || w.assets == nil {
		return // made from the store when the workspace's first events come
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv := e.inventory(ctx, ws)
	w.assets.Set(inv)
	e.log.Info("asset inventory reloaded", "workspace", ws, "assets", inv.Len())
}

// chain returns the workspace's chain (analysis.StageConfig.Enrichers).
func (e *serveEnrichment) chain(ws string) *enrich.Chain {
	return e.workspace(ws).chain
}

func (e *serveEnrichment) workspace(ws string) *wsEnrichment {
	e.mu.RLock()
	w := e.chains[ws]
	e.mu.RUnlock()
	if w != nil {
		return w
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.chains[ws]; w != nil {
		return w
	}
	var m intel.Matcher
	if e.matchers != nil {
		m = e.matchers(ws)
	}
	w = &wsEnrichment{intel: indicators.New(m), travel: newTravel(e.geo)}
	es := []enrich.Enricher{w.intel, w.travel}
	if e.geo != nil {
		es = append(es, e.geo)
	}
	if e.hasAssets() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		w.assets = assets.New(e.inventory(ctx, ws))
		cancel()
		es = append(es, w.assets)
	}
	if e.baselines != nil {
		// Made and loaded with the chain, on the workspace's first batch:
		// the worker waits for the load once.
		b, err := e.newBaseline(ws)
		if err != nil {
			e.log.Error("baselines not loaded: the workspace runs without them", "workspace", ws, "err", err)
		} else {
			w.baseline = b
			es = append(es, b) // after GeoIP: it learns countries and networks
		}
	}
	w.chain = enrich.NewChain(es...)
	e.chains[ws] = w
	return w
}

func (e *serveEnrichment) newBaseline(ws string) (*baseline.Enricher, error) {
	b, err := baseline.New(baseline.Config{
		Workspace: ws, Learning: learningOption(baselineLearning(e.cfg, ws)), Store: e.baselines,
		Logger: e.log,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Load(ctx); err != nil {
		return nil, err
	}
	for _, s := range b.Status() {
		if s.Values > 0 || !s.Started.IsZero() {
			e.log.Info("baseline loaded", "workspace", ws, "model", s.Model, "learning", s.Learning,
				"learning_until", s.LearningUntil, "entities", s.Entities, "values", s.Values)
		}
	}
	return b, nil
}

// flushBaselines saves what every workspace's baselines learnt since the
// last flush.
func (e *serveEnrichment) flushBaselines(ctx context.Context) {
	for _, b := range e.baselineList() {
		if err := b.Flush(ctx); err != nil {
			e.log.Warn("baseline not saved; retried at the next flush", "err", err)
		}
	}
}

// syncBaselines saves what every workspace's baselines learnt since the
// last save and reads what the other detect workers saved: each worker
// learns from its share of the events, the store adds them up.
func (e *serveEnrichment) syncBaselines(ctx context.Context) {
	for _, b := range e.baselineList() {
		if err := b.Sync(ctx); err != nil {
			e.log.Warn("baseline not saved or read; retried at the next sync", "err", err)
		}
	}
}

func (e *serveEnrichment) baselineList() []*baseline.Enricher {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var bs []*baseline.Enricher
	for _, w := range e.chains {
		if w.baseline != nil {
			bs = append(bs, w.baseline)
		}
	}
	return bs
}

// saveBaselines syncs every interval until ctx ends. The server's stop
// flushes once more after the detect stage has drained.
func (e *serveEnrichment) saveBaselines(ctx context.Context, every time.Duration) {
	if e.baselines == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.syncBaselines(ctx)
		}
	}
}

// SetMatcher gives a workspace's events a new intelligence matcher (nil:
// none). Integration point: the feed manager calls it with the
// workspace's live indicator set after each refresh.
func (e *serveEnrichment) SetMatcher(ws string, m intel.Matcher) {
	e.workspace(ws).intel.Set(m)
}

// geoIPInfo describes the GeoIP databases for the API.
func (e *serveEnrichment) geoIPInfo() []api.GeoIPDatabase {
	if e.geo == nil {
		return nil
	}
	var out []api.GeoIPDatabase
	for _, i := range e.geo.Databases() {
		out = append(out, api.GeoIPDatabase{Path: i.Path, Type: i.Type, Built: i.Built, Description: i.Description,
			Attribution: i.Attribution, LoadedAt: i.LoadedAt})
	}
	return out
}

// follow reloads changed GeoIP files until ctx ends.
func (e *serveEnrichment) follow(ctx context.Context, every time.Duration, log *slog.Logger) {
	if e.geo == nil || every <= 0 {
		return
	}
	e.geo.Follow(ctx, every, log)
}
