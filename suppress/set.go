package suppress

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// Set is a workspace's suppressions made ready for matching, read-only
// once built: safe for concurrent use. A nil Set matches nothing.
type Set struct {
	byRule  map[string][]*compiled // suppressions of one rule
	anyRule []*compiled            // suppressions of every rule
	n       int
}

type compiled struct {
	s       Suppression
	field   int // common field id; -1 for none
	prefix  netip.Prefix
	cidr    bool
	expires time.Time // zero: never
}

// NewSet compiles list in its order: when several match a signal, the
// first is credited with the hit. A suppression that does not validate
// is left out and reported.
func NewSet(list []Suppression) (*Set, []error) {
	set := &Set{byRule: map[string][]*compiled{}}
	var errs []error
	for i := range list {
		s := list[i]
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("suppression %s: %w", s.ID, err))
			continue
		}
		c := &compiled{s: s, field: -1}
		if s.Entity != nil {
			e := *s.Entity
			c.s.Entity = &e
		}
		if s.Field != "" {
			c.field, _ = event.CommonID(s.Field)
		}
		if s.CIDR != "" {
			c.prefix, _ = parsePrefix(s.CIDR) // checked by Validate
			c.cidr = true
		}
		if s.Expires != nil {
			c.expires = *s.Expires
		}
		if s.Rule == "" {
			set.anyRule = append(set.anyRule, c)
		} else {
			set.byRule[s.Rule] = append(set.byRule[s.Rule], c)
		}
		set.n++
	}
	return set, errs
}

// Len returns the number of suppressions in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Match returns the suppression that keeps a signal of rule about ents
// from alerting, or nil. ev is the event behind the signal, for the field
// conditions; nil for signals without one (a correlation's), which field
// conditions then do not match. Expired suppressions are skipped.
func (s *Set) Match(rule string, ents []alert.Entity, ev *event.Event, now time.Time) *Suppression {
	if s == nil || s.n == 0 {
		return nil
	}
	for _, c := range s.byRule[rule] {
		if c.matches(ents, ev, now) {
			return &c.s
		}
	}
	for _, c := range s.anyRule {
		if c.matches(ents, ev, now) {
			return &c.s
		}
	}
	return nil
}

func (c *compiled) matches(ents []alert.Entity, ev *event.Event, now time.Time) bool {
	if !c.expires.IsZero() && !now.Before(c.expires) {
		return false
	}
	if e := c.s.Entity; e != nil && !hasEntity(ents, *e) {
		return false
	}
	if c.field >= 0 {
		if ev == nil {
			return false
		}
		v := ev.Common[c.field]
		if c.cidr {
			return inPrefix(c.prefix, v)
		}
		return v == c.s.Value
	}
	if c.cidr {
		for _, e := range ents {
			if e.Type == alert.EntityIP && inPrefix(c.prefix, e.Value) {
				return true
			}
		}
		return false
	}
	return true
}

func inPrefix(p netip.Prefix, v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	return p.Contains(a.Unmap())
}

// hasEntity reports whether ents holds want, values compared as the store
// compares alert entities (store.EntityIgnoresCase): addresses as
// addresses, hosts, accounts, databases, applications, cloud resources and
// hashes without regard to case, Windows paths too, the rest exactly.
func hasEntity(ents []alert.Entity, want alert.Entity) bool {
	for _, e := range ents {
		if e.Type == want.Type && sameValue(e.Type, e.Value, want.Value) {
			return true
		}
	}
	return false
}

func sameValue(typ, a, b string) bool {
	if a == b {
		return true
	}
	switch typ {
	case alert.EntityIP:
		x, err1 := netip.ParseAddr(a)
		y, err2 := netip.ParseAddr(b)
		if err1 == nil && err2 == nil {
			return x.Unmap() == y.Unmap()
		}
		return strings.EqualFold(a, b)
	case alert.EntityHost, alert.EntityAccount, alert.EntityDatabase, alert.EntityApplication,
		alert.EntityCloudResource, alert.EntityHash:
		return strings.EqualFold(a, b)
	case alert.EntityProcess, alert.EntityFile:
		return windowsPath(a) && strings.EqualFold(a, b)
	}
	return false
}

func windowsPath(v string) bool {
	if strings.HasPrefix(v, `\\`) {
		return true
	}
	return len(v) >= 3 && v[1] == ':' && (v[2] == '\\' || v[2] == '/') &&
		('A' <= v[0] && v[0] <= 'Z' || 'a' <= v[0] && v[0] <= 'z')
}

// Hit is what a Set suppressed: the signals of one rule one suppression
// kept from alerting, and the time of the last.
type Hit struct {
	Suppression string
	Rule        string
	Count       int64
	Last        time.Time
}

// Tally counts hits by suppression and rule, in the order first met.
type Tally struct {
	idx  map[[2]string]int
	Hits []Hit
}

// Add counts one signal of rule suppressed by s at t.
func (t *Tally) Add(s *Suppression, rule string, at time.Time) {
	k := [2]string{s.ID, rule}
	if t.idx == nil {
		t.idx = map[[2]string]int{}
	}
	i, ok := t.idx[k]
	if !ok {
		i = len(t.Hits)
		t.idx[k] = i
		t.Hits = append(t.Hits, Hit{Suppression: strings.Clone(s.ID), Rule: strings.Clone(rule)})
	}
	h := &t.Hits[i]
	h.Count++
	if at.After(h.Last) {
		h.Last = at
	}
}

// Reset empties t. Hits starts anew (the old slice may have been handed
// on).
func (t *Tally) Reset() {
	clear(t.idx)
	t.Hits = nil
}
