package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/feed"
	"github.com/vigil-sec/vigil/intel/jsonl"
	"github.com/vigil-sec/vigil/intel/list"
	"github.com/vigil-sec/vigil/intel/misp"
	"github.com/vigil-sec/vigil/intel/stix"
	"github.com/vigil-sec/vigil/intel/taxii"
	"github.com/vigil-sec/vigil/store"
)

// FeedConfig is a threat-intelligence feed of the config file (feeds:).
type FeedConfig struct {
	Workspace string `koanf:"workspace"`
	Name      string `koanf:"name"`
	Format    string `koanf:"format"`
	// URL (http, https) or Path: where the feed is read from.
	URL      string        `koanf:"url"`
	Path     string        `koanf:"path"`
	Interval time.Duration `koanf:"interval"`
	// Defaults for the feed's indicators that carry none.
	ThreatType string `koanf:"threat-type"`
	Confidence int    `koanf:"confidence"`
	TLP        string `koanf:"tlp"`
	Disabled   bool   `koanf:"disabled"`
	// Headers are sent with every request (Authorization for TAXII or a
	// paid feed); they are not stored.
	Headers map[string]string `koanf:"headers"`
}

// defaultFeedInterval is a configured feed's interval when it names none.
const defaultFeedInterval = time.Hour

// intelFormats is the registry of feed formats: the list formats of
// intel/list (plain, csv and feodo are the names Guess gives), STIX
// bundles, MISP event files; TAXII collections and MISP feed directories
// fetch for themselves.
func intelFormats() *feed.Formats {
	f := &feed.Formats{}
	f.AddParser("jsonl", jsonl.Parser{})
	for _, lf := range list.Formats {
		f.AddParser(string(lf), list.Parser{Format: lf})
	}
	f.AddParser("plain", list.Parser{Format: list.FormatMixed})
	f.AddParser("csv", list.Parser{Format: list.FormatFeodo})
	f.AddParser("feodo", list.Parser{Format: list.FormatFeodo})
	f.AddParser("stix", stix.Parser{})
	f.AddParser("misp-event", misp.Parser{})
	f.AddFetcher("misp", mispFetcher{})
	f.AddFetcher("taxii", taxiiFetcher{})
	return f
}

// mispFetcher reads a MISP feed (manifest.json and its event files) from
// an http(s) URL or a local directory.
type mispFetcher struct{}

func (mispFetcher) Fetch(ctx context.Context, src feed.Source, problem func(intel.Problem)) ([]intel.Indicator, error) {
	var fsys fs.FS
	if u, err := url.Parse(src.Location); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		h := http.Header{}
		for k, v := range src.Headers {
			h.Set(k, v)
		}
		fsys = misp.HTTPFS{Base: src.Location, Client: src.Client, Context: ctx, Header: h}
	} else {
		fsys = os.DirFS(src.Location)
	}
	return misp.ReadFeed(fsys, src.Feed, problem)
}

// taxiiFetcher reads a TAXII 2.1 collection, named by its URL
// (…/{api-root}/collections/{id}/); credentials come in the feed's headers.
type taxiiFetcher struct{}

func (taxiiFetcher) Fetch(ctx context.Context, src feed.Source, problem func(intel.Problem)) ([]intel.Indicator, error) {
	root, coll, err := taxii.SplitCollectionURL(src.Location)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, v := range src.Headers {
		h.Set(k, v)
	}
	c := &taxii.Client{HTTP: src.Client, Header: h, MaxResponse: src.MaxSize}
	inds, _, err := c.Indicators(ctx, root, coll, time.Time{}, src.Feed, problem)
	return inds, err
}

// newIntelSet makes a workspace's indicator set: intel.Set, matched at
// line rate and replaced a feed at a time.
func newIntelSet() feed.Set { return &intel.Set{} }

// intelExporters write indicators for `vigil intel export --format`.
var intelExporters = map[string]func(io.Writer, []intel.Indicator) error{
	"jsonl": jsonl.Write,
	"stix":  stix.Export,
}

const defaultExportFormat = "stix"

// The feed manager serves the API's threat-intelligence routes.
var _ api.Intel = (*feed.Manager)(nil)

// feedSpecs turns the config file's feeds into specs, checking what the
// manager cannot (url or path, a workspace).
func feedSpecs(cfg *Config) ([]feed.Spec, error) {
	var out []feed.Spec
	seen := map[[2]string]bool{}
	for i, fc := range cfg.Feeds {
		where := fmt.Sprintf("config feed %q (feeds[%d])", fc.Name, i)
		switch {
		case fc.Workspace == "":
			return nil, fmt.Errorf("%s: no workspace", where)
		case (fc.URL == "") == (fc.Path == ""):
			return nil, fmt.Errorf("%s: give one of url and path", where)
		case seen[[2]string{fc.Workspace, fc.Name}]:
			return nil, fmt.Errorf("%s: a feed of that name is already configured in workspace %s", where, fc.Workspace)
		case fc.Interval < 0:
			return nil, fmt.Errorf("%s: interval %v is negative", where, fc.Interval)
		}
		seen[[2]string{fc.Workspace, fc.Name}] = true
		src := fc.Path
		if fc.URL != "" {
			u, err := url.Parse(fc.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("%s: url %q: want an http or https URL", where, fc.URL)
			}
			src = fc.URL
		}
		interval := fc.Interval
		if interval == 0 {
			interval = defaultFeedInterval
		}
		out = append(out, feed.Spec{Feed: store.Feed{
			Workspace: fc.Workspace, Name: fc.Name, Format: fc.Format, Source: src, Interval: interval,
			ThreatType: fc.ThreatType, Confidence: fc.Confidence, TLP: fc.TLP, Enabled: !fc.Disabled,
		}, Headers: fc.Headers})
	}
	return out, nil
}

// newFeedManager makes the feed manager of `vigil serve` (sets and
// metrics given) or of a CLI command (neither).
func newFeedManager(cfg *Config, db store.Intel, sets *feed.Sets, reg prometheus.Registerer, log *slog.Logger) (*feed.Manager, error) {
	var m *feed.Metrics
	if reg != nil {
		var err error
		if m, err = feed.NewMetrics(reg); err != nil {
			return nil, err
		}
	}
	return feed.New(feed.Options{
		Store: db, Formats: intelFormats(), Sets: sets, Metrics: m, Logger: log,
		Timeout: cfg.IntelFetchTimeout, MaxSize: cfg.intelMaxFeedSize,
	})
}
