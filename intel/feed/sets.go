package feed

import (
	"sync"

	"github.com/vigil-sec/vigil/intel"
)

// Index is what the feeds are published to: the set events are matched
// against. Replace swaps a feed's indicators at once (matching sees the
// old ones or the new ones, never a mix); Replace with none removes the
// feed. Values it refuses are dropped and returned in the error (an
// *intel.ReplaceError); the rest are published.
type Index interface {
	Replace(feed string, inds []intel.Indicator) error
}

// Set is a workspace's index, asked by matching and by lookups.
type Set interface {
	Index
	intel.Matcher
}

// Sets keeps one Set a workspace: feeds, matching and lookups of one
// workspace never see another's indicators.
type Sets struct {
	// New makes a workspace's set on first use; an intel.Set when nil.
	New func() Set
	mu  sync.RWMutex
	m   map[string]Set
}

// Get returns the workspace's set, made when absent.
func (s *Sets) Get(workspace string) Set {
	s.mu.RLock()
	set := s.m[workspace]
	s.mu.RUnlock()
	if set != nil {
		return set
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if set = s.m[workspace]; set == nil {
		if s.m == nil {
			s.m = map[string]Set{}
		}
		newSet := s.New
		if newSet == nil {
			newSet = func() Set { return &intel.Set{} }
		}
		set = newSet()
		s.m[workspace] = set
	}
	return set
}

// Matcher returns the workspace's matcher, nil when it has no feed: what
// the enrichment step asks for an event of the workspace.
func (s *Sets) Matcher(workspace string) intel.Matcher {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if set := s.m[workspace]; set != nil {
		return set
	}
	return nil
}
