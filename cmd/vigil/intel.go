package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/api"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/feed"
	"github.com/vigil-sec/vigil/intel/jsonl"
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

// intelFormats is the registry of feed formats. Wiring point: each format
// package registers here (intel/list: plain, csv, feodo; intel/stix: stix
// as a Parser; intel/taxii and intel/misp: taxii and misp as Fetchers).
func intelFormats() *feed.Formats {
	f := &feed.Formats{}
	f.AddParser("jsonl", jsonl.Parser{})
	return f
}

// newIntelSet makes a workspace's indicator set. Wiring point: intel.Set
// (the line-rate matcher) replaces feed.Linear once it lands.
func newIntelSet() feed.Set { return feed.NewLinear() }

// intelExporters write indicators for `vigil intel export --format`.
// Wiring point: intel/stix's bundle writer as "stix", then the default.
var intelExporters = map[string]func(io.Writer, []intel.Indicator) error{
	"jsonl": jsonl.Write,
}

const defaultExportFormat = "jsonl"

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
