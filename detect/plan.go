package detect

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vigil-sec/vigil/rule"
)

// Compiling a rule set is two passes. Planning a rule (planner) compiles
// its condition into a tree over its own matchers and makes their atoms:
// nearly all the work, and it reads nothing but the rule, so rules are
// planned on every core. Placing a rule (compiler.place) interns its
// fields and atoms into the engine, in rule order, so that the engine is
// numbered the same however the planning was shared
// (TestParallelCompileSameEngine). The compiling goroutine places rules
// in order and plans those no worker has taken.

// parallelCompileMin is the number of rules from which Compile plans on
// the other cores: below it, starting workers costs more than they save.
var parallelCompileMin = 256

// compileWorkers is the number of goroutines that plan beside the one
// that places.
var compileWorkers = func() int { return runtime.GOMAXPROCS(0) - 1 }

// planLead is how far ahead of the placing the workers are sent when it
// catches up with them: they then plan rules it has not reached instead of
// the ones it is planning itself.
const planLead = 16

// planSpins bounds how long the placing, with nothing left to plan ahead,
// waits for a worker planning the rule it has reached (microseconds of
// work) before planning that rule again apart: a worker the system has
// paused must not stall it.
const planSpins = 200

const (
	ruleFree    = iota // no one has taken the rule
	ruleTaken          // a worker, or the placing goroutine, is planning it
	rulePlanned        // planned ahead of the placing: its unit is ready
)

// plan holds the planning of a rule set: every rule's matchers, rule after
// rule, with what planning made of each, and each rule's unit.
type plan struct {
	rules   []*rule.Rule
	ms      []*rule.Matcher
	off     []int           // by rule: where its matchers start; one more at the end
	planned []planned       // by matcher
	units   []unit          // by rule
	state   []atomic.Uint32 // by rule: ruleFree, ruleTaken or rulePlanned
	next    atomic.Int64    // the next rule a worker takes
	done    atomic.Bool
	wg      sync.WaitGroup
}

// planned is what planning made of a matcher: its atom (or why it does
// not compile) and its key. seen: the planner knew the key (the atom's
// cost is all it kept).
type planned struct {
	a         atom
	err       error
	key       string
	pieces    []string // proxyPieces of a
	met, seen bool
}

// unit is a planned rule: its tree, whose atoms are the numbers of the
// rule's matchers, the matchers in the order the compilation met them,
// and the error that stopped it, if any.
type unit struct {
	tree  node
	calls []int32
	err   error
}

func newPlan(rules []*rule.Rule) *plan {
	p := &plan{rules: rules, off: make([]int, len(rules)+1), units: make([]unit, len(rules)), state: make([]atomic.Uint32, len(rules))}
	for i, r := range rules {
		p.off[i] = len(p.ms)
		if r == nil || r.Detection == nil {
			continue
		}
		for _, s := range r.Detection.Searches {
			for _, g := range s.Groups {
				p.ms = append(p.ms, g...)
			}
		}
	}
	p.off[len(rules)] = len(p.ms)
	p.planned = make([]planned, len(p.ms))
	return p
}

// start starts workers goroutines planning ahead of the placing.
func (p *plan) start(workers int) {
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
}

func (p *plan) work() {
	defer p.wg.Done()
	pl := planner{mine: map[string]int32{}}
	pl.known = pl.workerKnown
	for !p.done.Load() {
		i := int(p.next.Add(1)) - 1
		if i >= len(p.rules) {
			return
		}
		if !p.state[i].CompareAndSwap(ruleFree, ruleTaken) {
			continue // the placing goroutine has it
		}
		p.planRule(&pl, i)
		p.state[i].Store(rulePlanned)
	}
}

func (p *plan) planRule(pl *planner, i int) {
	pl.p, pl.base, pl.u = p, p.off[i], &p.units[i]
	pl.rule(p.rules[i])
}

// take returns rule i planned, as the plan and index to place it from:
// planned here when no worker has taken it. While a worker finishes it,
// this goroutine plans the free rules after it; should the worker stay
// away (the system paused it), the rule is planned again apart.
func (p *plan) take(pl *planner, i int) (*plan, int) {
	if p.state[i].CompareAndSwap(ruleFree, ruleTaken) {
		// The placing is ahead of the workers: send them further on.
		for {
			n := p.next.Load()
			if n >= int64(i+planLead) || p.next.CompareAndSwap(n, int64(i+planLead)) {
				break
			}
		}
		p.planRule(pl, i)
		return p, i
	}
	ahead, spins := i+1, 0
	for p.state[i].Load() != rulePlanned {
		if ahead < min(len(p.rules), i+planLead) {
			if p.state[ahead].CompareAndSwap(ruleFree, ruleTaken) {
				p.planRule(pl, ahead)
				p.state[ahead].Store(rulePlanned)
			}
			ahead++
			continue
		}
		if spins++; spins > planSpins {
			own := newPlan(p.rules[i : i+1])
			own.planRule(pl, 0)
			return own, 0
		}
		runtime.Gosched()
	}
	return p, i
}

// stop ends the workers and waits for them.
func (p *plan) stop() {
	p.done.Store(true)
	p.wg.Wait()
}

// searchOffset is where the matchers of s start among those of its
// detection, in plan order.
func searchOffset(d *rule.Detection, s *rule.Search) int {
	k := 0
	for _, t := range d.Searches {
		if t == s {
			return k
		}
		for _, g := range t.Groups {
			k += len(g)
		}
	}
	return k
}
