package detect

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// maxRoutes bounds the cache of event logsources. Past it, an uncached
// logsource is routed on every event, which allocates: a deployment has a
// few dozen logsources, not thousands.
var maxRoutes = 4096 // a variable so that tests can go past it

// router maps an event's logsource to the rules that apply to it: those
// whose every non-empty logsource part equals the event's, ignoring case,
// or, through the taxonomy, the parts of one of the event logsources the
// rule's logsource is mapped onto (registry_event receives registry_set…).
// Rules are grouped by logsource at compile time; the list for each event
// logsource is worked out once and cached in a copy-on-write map, so the
// hot path is one lock-free map lookup.
type router struct {
	groups []routeGroup
	rules  int // how many rules there are
	mu     sync.Mutex
	cache  atomic.Pointer[map[event.Logsource]*route]
	// fast works out what the fast path needs for a route's rules
	// (fastpath.go), all for the rules idx of every logsource.
	fast func(idx []int32, all bool) *routeFast
	// all serves the logsources past maxRoutes: worked out once, for
	// every rule.
	all *routeFast
}

// route is a cached event logsource: its rules, ascending, and what the
// fast path scans for them.
type route struct {
	idx  []int32
	fast *routeFast
}

type routeGroup struct {
	ls event.Logsource // lower case
	// alts are the event logsources the group receives: ls itself, then
	// those the taxonomy maps it onto.
	alts  []event.Logsource
	rules []int32 // ascending
}

func (r *router) init(rules []*rule.Rule, tax *rule.Taxonomy) {
	r.rules = len(rules)
	at := make(map[event.Logsource]int)
	for i, ru := range rules {
		ls := event.Logsource{
			Product:  strings.ToLower(ru.Logsource.Product),
			Category: strings.ToLower(ru.Logsource.Category),
			Service:  strings.ToLower(ru.Logsource.Service),
		}
		g, ok := at[ls]
		if !ok {
			g = len(r.groups)
			at[ls] = g
			r.groups = append(r.groups, routeGroup{ls: ls, alts: tax.Expand(ls)})
		}
		r.groups[g].rules = append(r.groups[g].rules, int32(i))
	}
	m := make(map[event.Logsource]*route)
	r.cache.Store(&m)
}

func (r *router) lookup(ls event.Logsource) []int32 {
	return r.lookupRoute(ls).idx
}

func (r *router) lookupRoute(ls event.Logsource) *route {
	if rt, ok := (*r.cache.Load())[ls]; ok {
		return rt
	}
	return r.miss(ls)
}

func (r *router) miss(ls event.Logsource) *route {
	idx := r.compute(ls)
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.cache.Load()
	if rt, ok := old[ls]; ok {
		return rt
	}
	rt := &route{idx: idx}
	if len(old) >= maxRoutes {
		// Uncached: scanned with the sets of every rule, the candidates
		// kept to the route's.
		if r.all == nil {
			every := make([]int32, r.rules)
			for i := range every {
				every[i] = int32(i)
			}
			r.all = r.fast(every, true)
		}
		rt.fast = r.all
		return rt
	}
	rt.fast = r.fast(idx, false)
	m := make(map[event.Logsource]*route, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	// The event's strings may alias a batch buffer: keep copies.
	key := event.Logsource{
		Product:  strings.Clone(ls.Product),
		Category: strings.Clone(ls.Category),
		Service:  strings.Clone(ls.Service),
	}
	m[key] = rt
	r.cache.Store(&m)
	return rt
}

func (r *router) compute(ls event.Logsource) []int32 {
	var idx []int32
	for _, g := range r.groups {
		for _, a := range g.alts {
			if part(a.Product, ls.Product) && part(a.Category, ls.Category) && part(a.Service, ls.Service) {
				idx = append(idx, g.rules...)
				break
			}
		}
	}
	// Merge the groups back into rule order.
	slices.Sort(idx)
	return idx
}

func part(rule, ev string) bool { return rule == "" || strings.EqualFold(rule, ev) }
