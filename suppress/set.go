package suppress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
)

// Set is a workspace's suppressions made ready for matching, read-only
// once built: safe for concurrent use. A nil Set matches nothing.
// Suppressions of an entity or a field value are found through maps, the
// others (networks, whole rules) are tried in turn: an allow-list of
// thousands of accounts or hosts costs a lookup a signal.
type Set struct {
	byRule  map[string]*bucket // suppressions of one rule
	anyRule *bucket            // suppressions of every rule
	n       int
}

// bucket indexes suppressions by the condition that finds them fastest.
type bucket struct {
	entity map[string][]*compiled // by entityKey
	field  map[fieldKey][]*compiled
	fields []int                        // the field ids of field, each once
	nets   map[netip.Prefix][]*compiled // networks of the signal's addresses
	bits   []int                        // the prefix lengths of nets, each once
	others []*compiled                  // networks of a field, rule-only; in order
}

type fieldKey struct {
	id    int
	value string
}

type compiled struct {
	s       Suppression
	order   int // position in the list: the first matching wins
	field   int // common field id; -1 for none
	prefix  netip.Prefix
	cidr    bool
	expires time.Time // zero: never
}

// NewSet compiles list in its order: when several match a signal, the
// first is credited with the hit. A suppression that does not validate
// is left out and reported.
func NewSet(list []Suppression) (*Set, []error) {
	set := &Set{byRule: map[string]*bucket{}, anyRule: &bucket{}}
	var errs []error
	for i := range list {
		s := list[i]
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("suppression %s: %w", s.ID, err))
			continue
		}
		c := &compiled{s: s, order: i, field: -1}
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
		b := set.anyRule
		if s.Rule != "" {
			if b = set.byRule[s.Rule]; b == nil {
				b = &bucket{}
				set.byRule[s.Rule] = b
			}
		}
		b.add(c)
		set.n++
	}
	return set, errs
}

func (b *bucket) add(c *compiled) {
	switch {
	case c.s.Entity != nil:
		if b.entity == nil {
			b.entity = map[string][]*compiled{}
		}
		k := entityKey(c.s.Entity.Type, c.s.Entity.Value)
		b.entity[k] = append(b.entity[k], c)
	case c.field >= 0 && !c.cidr:
		if b.field == nil {
			b.field = map[fieldKey][]*compiled{}
		}
		k := fieldKey{c.field, c.s.Value}
		if _, ok := b.field[k]; !ok && !slices.Contains(b.fields, c.field) {
			b.fields = append(b.fields, c.field)
		}
		b.field[k] = append(b.field[k], c)
	case c.cidr && c.field < 0:
		// Found by masking each address of the signal to each length in
		// use: thousands of networks (a provider's ranges) cost a few
		// lookups.
		if b.nets == nil {
			b.nets = map[netip.Prefix][]*compiled{}
		}
		if !slices.Contains(b.bits, c.prefix.Bits()) {
			b.bits = append(b.bits, c.prefix.Bits())
		}
		b.nets[c.prefix] = append(b.nets[c.prefix], c)
	default:
		b.others = append(b.others, c)
	}
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
	// The signal's addresses, parsed once for the networks.
	var buf [4]netip.Addr
	addrs := buf[:0]
	for _, e := range ents {
		if e.Type == alert.EntityIP {
			if a, err := netip.ParseAddr(e.Value); err == nil {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	m := matchInput{ents: ents, addrs: addrs, ev: ev, now: now}
	var best *compiled
	if b := s.byRule[rule]; b != nil {
		best = b.match(&m, best)
	}
	best = s.anyRule.match(&m, best)
	if best == nil {
		return nil
	}
	return &best.s
}

// matchInput is a signal as the suppressions judge it.
type matchInput struct {
	ents  []alert.Entity
	addrs []netip.Addr // the ip entities' addresses
	ev    *event.Event
	now   time.Time
}

// match returns the first of best and the bucket's suppressions that
// match.
func (b *bucket) match(m *matchInput, best *compiled) *compiled {
	ents, ev := m.ents, m.ev
	try := func(cs []*compiled) {
		for _, c := range cs {
			if best != nil && c.order >= best.order {
				return // in order: the rest come later still
			}
			if c.matches(m) {
				best = c
				return
			}
		}
	}
	if b.entity != nil {
		for _, e := range ents {
			try(b.entity[entityKey(e.Type, e.Value)])
		}
	}
	if b.nets != nil {
		for _, a := range m.addrs {
			for _, bits := range b.bits {
				if p, err := a.Prefix(bits); err == nil {
					try(b.nets[p])
				}
			}
		}
	}
	if ev != nil {
		for _, id := range b.fields {
			if v := ev.Common[id]; v != "" {
				try(b.field[fieldKey{id, v}])
			}
		}
	}
	try(b.others)
	return best
}

func (c *compiled) matches(m *matchInput) bool {
	if !c.expires.IsZero() && !m.now.Before(c.expires) {
		return false
	}
	if e := c.s.Entity; e != nil && !hasEntity(m.ents, *e) {
		return false
	}
	if c.field >= 0 {
		if m.ev == nil {
			return false
		}
		v := m.ev.Common[c.field]
		if c.cidr {
			return inPrefix(c.prefix, v)
		}
		return v == c.s.Value
	}
	if c.cidr {
		for _, a := range m.addrs {
			if c.prefix.Contains(a) {
				return true
			}
		}
		return false
	}
	return true
}

// entityKey is the form of an entity under which values that compare as
// equal (sameValue) meet: addresses in their canonical form, the kinds
// that ignore case folded.
func entityKey(typ, v string) string {
	switch typ {
	case alert.EntityIP:
		if a, err := netip.ParseAddr(v); err == nil {
			return typ + "\x00" + a.Unmap().String()
		}
		return typ + "\x00" + strings.ToLower(v)
	case alert.EntityHost, alert.EntityAccount, alert.EntityDatabase, alert.EntityApplication,
		alert.EntityCloudResource, alert.EntityHash:
		return typ + "\x00" + strings.ToLower(v)
	case alert.EntityProcess, alert.EntityFile:
		if windowsPath(v) {
			return typ + "\x00" + strings.ToLower(v)
		}
	}
	return typ + "\x00" + v
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
