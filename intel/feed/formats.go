package feed

import (
	"context"
	"net/http"
	"sort"
	"sync"

	"github.com/vigil-sec/vigil/intel"
)

// Source is where a Fetcher reads a feed from, and how.
type Source struct {
	Location string // the feed's url (or path)
	Client   *http.Client
	Headers  map[string]string
	Feed     string // the feed's name, for the indicators
	MaxSize  int64  // bytes a document may have
}

// Fetcher reads a feed that is more than one document (a TAXII
// collection, a MISP feed directory), fetching as it goes. Problems are
// reported as a Parser reports them.
type Fetcher interface {
	Fetch(ctx context.Context, src Source, problem func(intel.Problem)) ([]intel.Indicator, error)
}

// Formats is the registry of feed formats by name: a Parser reads one
// document fetched from the feed's source; a Fetcher does its own
// fetching. The wiring (cmd/vigil) fills it from the format packages.
type Formats struct {
	mu       sync.RWMutex
	parsers  map[string]intel.Parser
	fetchers map[string]Fetcher
}

// AddParser registers a document format.
func (f *Formats) AddParser(name string, p intel.Parser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parsers == nil {
		f.parsers = map[string]intel.Parser{}
	}
	f.parsers[name] = p
}

// AddFetcher registers a format that fetches for itself.
func (f *Formats) AddFetcher(name string, fe Fetcher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fetchers == nil {
		f.fetchers = map[string]Fetcher{}
	}
	f.fetchers[name] = fe
}

func (f *Formats) parser(name string) (intel.Parser, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, ok := f.parsers[name]
	return p, ok
}

func (f *Formats) fetcher(name string) (Fetcher, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fe, ok := f.fetchers[name]
	return fe, ok
}

// Known reports whether a format is registered.
func (f *Formats) Known(name string) bool {
	_, p := f.parser(name)
	_, fe := f.fetcher(name)
	return p || fe
}

// Names lists the registered formats, sorted.
func (f *Formats) Names() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for n := range f.parsers {
		out = append(out, n)
	}
	for n := range f.fetchers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
