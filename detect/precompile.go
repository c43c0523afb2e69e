package detect

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vigil-sec/vigil/rule"
)

// Making atoms (newAtom: patterns, regexp facts, literal pieces) is half
// of compiling a large rule set, and it reads nothing but the matcher, so
// a precompiler makes them on the other cores ahead of the compiler's
// walk, which must stay one ordered pass: atoms and fields are numbered in
// the order the rules meet them. The walk takes a rule's atoms when a
// worker has made them and makes them itself otherwise; either way the
// engine is the same (TestParallelCompileSameEngine).

// parallelCompileMin is the number of rules from which Compile uses the
// other cores: below it, starting workers costs more than they save.
var parallelCompileMin = 256

// compileWorkers is the number of goroutines that make atoms beside the
// compiler.
var compileWorkers = func() int { return runtime.GOMAXPROCS(0) - 1 }

// precompileLead is how far ahead of the walk the workers are sent when
// the walk catches up with them: they then make atoms the walk has not
// reached, instead of the ones it is making itself.
const precompileLead = 16

// precompileSpins bounds how long the walk waits for a worker that is
// making the rule it has reached (a few microseconds of work) before
// making it itself: a worker the system has paused must not stall it.
const precompileSpins = 200

const (
	ruleFree  = iota // no one has taken the rule
	ruleTaken        // a worker, or the walk, is making its atoms
	ruleMade         // a worker made them: atoms holds them
)

type precompiler struct {
	rules []*rule.Rule
	ms    []*rule.Matcher // every rule's matchers, rule after rule
	off   []int           // by rule: where its matchers start in ms; one more at the end
	atoms []preAtom       // by matcher, like ms
	state []atomic.Uint32 // by rule: ruleFree, ruleTaken or ruleMade
	next  atomic.Int64    // the next rule a worker takes
	done  atomic.Bool
	wg    sync.WaitGroup
}

type preAtom struct {
	a   atom
	err error
}

// startPrecompiler lists the matchers of rules and starts workers
// goroutines making their atoms.
func startPrecompiler(rules []*rule.Rule, workers int) *precompiler {
	p := &precompiler{rules: rules, off: make([]int, len(rules)+1), state: make([]atomic.Uint32, len(rules))}
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
	p.atoms = make([]preAtom, len(p.ms))
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *precompiler) work() {
	defer p.wg.Done()
	for !p.done.Load() {
		i := int(p.next.Add(1)) - 1
		if i >= len(p.rules) {
			return
		}
		if !p.state[i].CompareAndSwap(ruleFree, ruleTaken) {
			continue // the walk has it
		}
		for k := p.off[i]; k < p.off[i+1]; k++ {
			p.atoms[k].a, p.atoms[k].err = newAtom(p.ms[k])
		}
		p.state[i].Store(ruleMade)
	}
}

// take reports whether the atoms of rule i are made; when not, the walk
// makes them as it meets them.
func (p *precompiler) take(i int) bool {
	if p.state[i].CompareAndSwap(ruleFree, ruleTaken) {
		// The walk is ahead of the workers: send them further on.
		for {
			n := p.next.Load()
			if n >= int64(i+precompileLead) || p.next.CompareAndSwap(n, int64(i+precompileLead)) {
				return false
			}
		}
	}
	for range precompileSpins {
		if p.state[i].Load() == ruleMade {
			return true
		}
		runtime.Gosched()
	}
	return p.state[i].Load() == ruleMade
}

// atom returns the k-th atom of rule i, which take reported made.
func (p *precompiler) atom(i, k int) (atom, error) {
	pa := &p.atoms[p.off[i]+k]
	return pa.a, pa.err
}

// stop ends the workers and waits for them.
func (p *precompiler) stop() {
	p.done.Store(true)
	p.wg.Wait()
}

// searchOffset is where the matchers of s start among those of its
// detection, in precompiler order.
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
