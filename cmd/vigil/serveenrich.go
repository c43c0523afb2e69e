package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/assets"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/enrich/travel"
	"github.com/vigil-sec/vigil/intel"
)

// serveEnrichment is `vigil serve`'s enrichment: the GeoIP databases and
// the asset inventory shared by every workspace, and each workspace's
// intelligence enricher, whose matcher the feed manager replaces
// (SetMatcher). A workspace's chain is made once and kept, so that the
// detect workers see one chain a workspace.
type serveEnrichment struct {
	geo    *geoip.Enricher // nil: no GeoIP
	assets *assets.Enricher
	// matchers, when set, gives a workspace's live indicator set when its
	// chain is made. Integration point: the feed manager's per-workspace
	// sets (a set that swaps its contents itself needs nothing more; one
	// replaced by a new value is handed over with SetMatcher).
	matchers func(workspace string) intel.Matcher

	mu     sync.RWMutex
	chains map[string]*wsEnrichment
}

type wsEnrichment struct {
	intel  *indicators.Enricher
	travel *travel.Enricher // each workspace follows its own accounts
	chain  *enrich.Chain
}

func newServeEnrichment(cfg *Config) (*serveEnrichment, error) {
	e := &serveEnrichment{chains: map[string]*wsEnrichment{}}
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
		inv, err := assets.Load(cfg.AssetsFile)
		if err != nil {
			return nil, fmt.Errorf("setting assets-file: %w", err)
		}
		e.assets = assets.New(inv)
	}
	return e, nil
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
	if e.assets != nil {
		es = append(es, e.assets)
	}
	w.chain = enrich.NewChain(es...)
	e.chains[ws] = w
	return w
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
