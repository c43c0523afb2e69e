// Package detect compiles rules into an engine that matches events against
// all of them: rules are routed by logsource, their matchers become shared
// atoms over interned fields, and their conditions boolean trees over atoms.
// A Correlator runs Sigma correlation rules over the engine's matches.
package detect

import (
	"log/slog"
	"strconv"
	"sync"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// Options tune compilation.
type Options struct {
	// Logger receives a summary of the compilation; nil discards it.
	Logger *slog.Logger
	// Taxonomy maps rule logsources onto event logsources for routing
	// (route.go); nil routes by plain equality of the parts.
	Taxonomy *rule.Taxonomy
	// ExtraFields names fields to decode besides those the rules read:
	// they join the Dict (decoders fill only what it names) but no rule
	// or atom, so matching does no more work. Correlations need them: they
	// group matches by fields their rules need not read (Correlator.Fields).
	ExtraFields []string
}

// Engine is a compiled rule set, safe for concurrent use; each worker
// passes its own Event and dst. Its rules, atoms and fields are fixed at
// compilation; what the fast path scans for an event logsource (its route:
// literal sets and automata) is built by the first event of that logsource,
// or by Warm, under the router's lock, and cached.
type Engine struct {
	rules  []*rule.Rule
	progs  []node // per rule, parallel to rules
	dict   *event.Dict
	fields []field // by Dict id
	atoms  []atom
	routes router
	fast   fastPath
	pool   sync.Pool // *scratch
}

type field struct {
	name   string
	common int // event common field id of the same name, or -1
}

// Compile compiles rules. A rule that cannot compile is reported as a
// *rule.Error with its file and line and left out; the others run.
func Compile(rules []*rule.Rule, opts Options) (*Engine, []error) {
	e := &Engine{dict: event.NewDict()}
	c := &compiler{e: e, atomIDs: make(map[string]int32)}
	p := newPlan(rules)
	if w := compileWorkers(); w > 0 && len(rules) >= parallelCompileMin {
		p.start(w)
		defer p.stop()
	}
	pl := planner{known: c.known}
	var errs []error
	for i, r := range rules {
		if r == nil {
			continue
		}
		n, err := c.place(p.take(&pl, i))
		if err != nil {
			// Atoms and fields interned before the failure stay: they are
			// harmless (no rule refers to them) and keep ids stable.
			errs = append(errs, &rule.Error{File: r.File, Line: r.Line, Reason: "rule " + strconv.Quote(r.Title) + ": " + err.Error()})
			continue
		}
		e.rules = append(e.rules, r)
		e.progs = append(e.progs, n)
	}
	for _, name := range opts.ExtraFields {
		if name != "" {
			c.field(name)
		}
	}
	e.routes.init(e.rules, opts.Taxonomy)
	e.fast.proxy = c.addRegexpProxies()
	e.buildFastPath()
	e.routes.fast = e.routeFast
	e.pool.New = func() any { return e.newScratch() }
	if opts.Logger != nil {
		opts.Logger.Info("rules compiled", "rules", len(e.rules), "rejected", len(errs),
			"atoms", len(e.atoms), "literal_atoms", e.fast.stats.literal, "slow_atoms", e.fast.stats.slow,
			"untriggered_rules", e.fast.stats.always,
			"fields", len(e.fields), "logsources", len(e.routes.groups))
	}
	return e, errs
}

// Dict returns the closed Dict of every field name the rules read and
// Options.ExtraFields names. Decoders fill only those into Event.Fields;
// bind an event's Fields to it.
func (e *Engine) Dict() *event.Dict { return e.dict }

// Rules returns the compiled rules, in the order they were given.
func (e *Engine) Rules() []*rule.Rule { return e.rules }

// Len returns the number of compiled rules.
func (e *Engine) Len() int { return len(e.rules) }

// Match appends to dst the rules that match ev, in rule order, and returns
// the extended slice. It does not allocate once warmed up (dst with room,
// the event's logsource seen before), except to refill its pool of
// scratch state after a garbage collection emptied it: a goroutine that
// matches many events should use a Matcher.
func (e *Engine) Match(ev *event.Event, dst []*rule.Rule) []*rule.Rule {
	sc := e.pool.Get().(*scratch)
	dst = e.match(ev, dst, sc)
	e.pool.Put(sc)
	return dst
}

// Warm works out the route of logsource ls now: what the fast path scans
// for its rules is otherwise built by its first event (tens of
// milliseconds for the process_creation rules). A server can warm a new
// engine with the logsources the old one saw (Logsources) before it swaps
// them.
func (e *Engine) Warm(ls event.Logsource) { e.routes.lookupRoute(ls) }

// Logsources returns the event logsources the engine has routes for.
func (e *Engine) Logsources() []event.Logsource {
	m := *e.routes.cache.Load()
	out := make([]event.Logsource, 0, len(m))
	for ls := range m {
		out = append(out, ls)
	}
	return out
}

// A Matcher matches events against its engine with scratch state of its
// own: one per goroutine, it never allocates once warmed up.
type Matcher struct {
	e  *Engine
	sc *scratch
}

// NewMatcher returns a Matcher of e.
func (e *Engine) NewMatcher() *Matcher { return &Matcher{e: e, sc: e.newScratch()} }

// Match is Engine.Match.
func (m *Matcher) Match(ev *event.Event, dst []*rule.Rule) []*rule.Rule {
	return m.e.match(ev, dst, m.sc)
}

func (e *Engine) match(ev *event.Event, dst []*rule.Rule, sc *scratch) []*rule.Rule {
	rt := e.routes.lookupRoute(ev.Logsource)
	idx := rt.idx
	if len(idx) == 0 {
		return dst
	}
	if ev.Fields.Dict() != e.dict {
		// Fields under another Dict (an open one, as `vigil decode` uses)
		// are not where the literal sets look.
		return e.matchEach(idx, ev, dst)
	}
	sc.next()
	sc.marks = true
	e.scanFields(ev, rt.fast, sc)
	for _, i := range e.candidates(idx, rt.fast, sc) {
		if e.eval(&e.progs[i], ev, sc) {
			dst = append(dst, e.rules[i])
		}
	}
	return dst
}

// matchEach evaluates the rules of idx one by one, every atom by atom.go:
// the path for events under another Dict, and the reference the tests hold
// the fast path to.
func (e *Engine) matchEach(idx []int32, ev *event.Event, dst []*rule.Rule) []*rule.Rule {
	sc := e.pool.Get().(*scratch)
	sc.next()
	sc.marks = false
	for _, i := range idx {
		if e.eval(&e.progs[i], ev, sc) {
			dst = append(dst, e.rules[i])
		}
	}
	e.pool.Put(sc)
	return dst
}
