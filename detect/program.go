package detect

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

type nodeOp uint8

const (
	nAtom nodeOp = iota
	nNot
	nAnd
	nOr
	nAtLeast // at least k kids hold
)

// node is a rule's condition compiled to a boolean tree over atoms.
type node struct {
	op   nodeOp
	atom int32
	k    int32
	cost int32
	kids []node
}

// eval evaluates n with short-circuit; atoms are memoised per event.
func (e *Engine) eval(n *node, ev *event.Event, sc *scratch) bool {
	switch n.op {
	case nAtom:
		if k := e.fast.kind[n.atom]; k != slowAtom && sc.marks {
			return e.fastAtom(n.atom, k, ev, sc)
		}
		if sc.atomGen[n.atom] == sc.gen {
			return sc.atomVal[n.atom]
		}
		v := e.evalAtom(&e.atoms[n.atom], ev, sc)
		sc.atomGen[n.atom] = sc.gen
		sc.atomVal[n.atom] = v
		return v
	case nNot:
		return !e.eval(&n.kids[0], ev, sc)
	case nAnd:
		for i := range n.kids {
			if !e.eval(&n.kids[i], ev, sc) {
				return false
			}
		}
		return true
	case nOr:
		for i := range n.kids {
			if e.eval(&n.kids[i], ev, sc) {
				return true
			}
		}
		return false
	}
	hits, left := int32(0), int32(len(n.kids))
	for i := range n.kids {
		left--
		if e.eval(&n.kids[i], ev, sc) {
			if hits++; hits >= n.k {
				return true
			}
		}
		if hits+left < n.k {
			return false
		}
	}
	return false
}

// compiler places compiled rules in the engine, interning their atoms
// and fields in the order the rules meet them. Compiling a rule's
// condition into a tree (planner) needs nothing of the engine, so it can
// run on other cores ahead of the compiler (plan.go).
type compiler struct {
	e       *Engine
	atomIDs map[string]int32
	ids     []int32 // by matcher of the rule being placed: its atom
	// pieces are, by atom, the literals a proxy atom would look for
	// (proxyPieces), worked out when the atom was made.
	pieces [][]string
}

func (c *compiler) field(name string) int32 {
	if id, ok := c.e.dict.ID(name); ok {
		return id
	}
	id := c.e.dict.Add(name)
	common := -1
	if cid, ok := event.CommonID(name); ok {
		common = cid
	}
	c.e.fields = append(c.e.fields, field{name: name, common: common})
	return id
}

// place adds the atoms of rule i of p to the engine and returns its tree
// over them, or the rule's error. It interns what the rule meets, in the
// order it meets it, up to its error: the fields and atoms of a rule that
// fails stay, harmless, as they were when rules compiled in one pass.
func (c *compiler) place(p *plan, i int) (node, error) {
	u := &p.units[i]
	base := p.off[i]
	c.ids = slices.Grow(c.ids[:0], p.off[i+1]-base)[:p.off[i+1]-base]
	for _, k := range u.calls {
		m, pm := p.ms[base+int(k)], &p.planned[base+int(k)]
		f := int32(-1)
		if m.Field != "" {
			f = c.field(m.Field)
		}
		id, ok := c.atomIDs[pm.key]
		if !ok {
			if pm.err != nil {
				break // where the rule fails (u.err)
			}
			a, pieces := pm.a, pm.pieces
			if pm.seen {
				// The planner left the atom to an earlier rule of its,
				// which always places it first; made here should that
				// ever not hold.
				var err error
				if a, pieces, err = makeAtom(m); err != nil {
					return node{}, err
				}
			}
			// After the atom's own field, the fields its fieldref values
			// compare with.
			a.bind(m, f, c.field)
			id = int32(len(c.e.atoms))
			c.e.atoms = append(c.e.atoms, a)
			c.pieces = append(c.pieces, pieces)
			c.atomIDs[pm.key] = id
		}
		c.ids[k] = id
	}
	if u.err != nil {
		return node{}, u.err
	}
	setAtoms(&u.tree, c.ids)
	return u.tree, nil
}

// known is the cost of the atom of key when the engine has it.
func (c *compiler) known(key []byte) (int32, bool) {
	id, ok := c.atomIDs[string(key)]
	if !ok {
		return 0, false
	}
	return c.e.atoms[id].cost, true
}

// setAtoms turns the matcher numbers of n's atoms into the atoms ids holds.
func setAtoms(n *node, ids []int32) {
	if n.op == nAtom {
		n.atom = ids[n.atom]
		return
	}
	for i := range n.kids {
		setAtoms(&n.kids[i], ids)
	}
}

// planner compiles one rule of a plan into its unit: the tree over the
// rule's matchers (numbered as the plan lists them) and the order the
// matchers are met in; it makes the atoms of those it meets, but for the
// atoms known already.
type planner struct {
	p    *plan
	base int // where the rule's matchers start in the plan
	u    *unit
	key  []byte
	// known gives the cost of an atom met before, whose key is then
	// interned by the time the rule is placed: in the engine, when the
	// placing goroutine plans; in the worker's earlier rules (a worker
	// plans rules in ascending order), for a worker.
	known func(key []byte) (int32, bool)
	mine  map[string]int32 // a worker's: the costs of the atoms it made
}

// workerKnown is known for a worker: the atoms it made itself.
func (pl *planner) workerKnown(key []byte) (int32, bool) {
	c, ok := pl.mine[string(key)]
	return c, ok
}

// makeAtom makes the atom of m and the pieces of its proxy, if any.
func makeAtom(m *rule.Matcher) (atom, []string, error) {
	a, err := newAtom(m)
	if err != nil {
		return a, nil, err
	}
	return a, proxyPieces(&a), nil
}

func (pl *planner) rule(r *rule.Rule) {
	if r == nil {
		return // Compile passes it over
	}
	if r.Detection == nil {
		pl.u.err = errors.New("no detection")
		return
	}
	pl.u.tree, pl.u.err = pl.expr(r.Detection, r.Detection.Condition)
}

// atom is the leaf of the k-th matcher of the rule.
func (pl *planner) atom(m *rule.Matcher, k int) (node, error) {
	pm := &pl.p.planned[pl.base+k]
	if !pm.met {
		pm.met = true
		pl.key = appendAtomKey(pl.key[:0], m)
		if cost, ok := pl.known(pl.key); ok {
			pm.key, pm.seen, pm.a.cost = string(pl.key), true, cost
		} else {
			pm.key = string(pl.key)
			pm.a, pm.pieces, pm.err = makeAtom(m)
			if pm.err == nil && pl.mine != nil {
				pl.mine[pm.key] = pm.a.cost
			}
		}
	}
	pl.u.calls = append(pl.u.calls, int32(k))
	if pm.err != nil {
		return node{}, pm.err
	}
	return node{op: nAtom, atom: int32(k), cost: pm.a.cost}, nil
}

func (pl *planner) search(d *rule.Detection, name string) (node, error) {
	s := d.Search(name)
	if s == nil {
		return node{}, fmt.Errorf("condition names search %q, which the detection does not define", name)
	}
	k := searchOffset(d, s)
	or := node{op: nOr}
	for _, g := range s.Groups {
		and := node{op: nAnd}
		for _, m := range g {
			n, err := pl.atom(m, k)
			if err != nil {
				return node{}, fmt.Errorf("search %q: %w", name, err)
			}
			k++
			and.kids = append(and.kids, n)
		}
		or.kids = append(or.kids, and)
	}
	return simplify(or), nil
}

func (pl *planner) expr(d *rule.Detection, x rule.Expr) (node, error) {
	switch x := x.(type) {
	case *rule.Ref:
		return pl.search(d, x.Name)
	case *rule.Not:
		k, err := pl.expr(d, x.X)
		if err != nil {
			return node{}, err
		}
		if k.op == nNot {
			return k.kids[0], nil
		}
		return node{op: nNot, kids: []node{k}, cost: k.cost + 1}, nil
	case *rule.And, *rule.Or:
		op, items := nAnd, []rule.Expr(nil)
		if a, ok := x.(*rule.And); ok {
			items = a.X
		} else {
			op, items = nOr, x.(*rule.Or).X
		}
		n := node{op: op}
		for _, it := range items {
			k, err := pl.expr(d, it)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, k)
		}
		return simplify(n), nil
	case *rule.Of:
		n := node{op: nOr}
		switch {
		case x.All:
			n.op = nAnd
		case x.N > 1:
			n.op, n.k = nAtLeast, int32(x.N)
		}
		for _, name := range x.Names {
			k, err := pl.search(d, name)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, k)
		}
		if len(n.kids) == 0 {
			return node{}, fmt.Errorf("%q names no search", x.String())
		}
		return simplify(n), nil
	case nil:
		return node{}, fmt.Errorf("detection has no condition")
	}
	return node{}, fmt.Errorf("unknown condition node %T", x)
}

// simplify flattens nested and/or of the same kind, unwraps single kids and
// orders the kids of and/or so that cheap terms decide first; in an and,
// negations (usually filters that hold) go last.
func simplify(n node) node {
	if n.op != nAnd && n.op != nOr {
		n.cost = sumCost(n.kids) + 1
		return n
	}
	var kids []node
	for _, k := range n.kids {
		if k.op == n.op {
			kids = append(kids, k.kids...)
		} else {
			kids = append(kids, k)
		}
	}
	if len(kids) == 1 {
		return kids[0]
	}
	slices.SortStableFunc(kids, func(a, b node) int {
		if n.op == nAnd && (a.op == nNot) != (b.op == nNot) {
			if a.op == nNot {
				return 1
			}
			return -1
		}
		return int(a.cost - b.cost)
	})
	n.kids = kids
	n.cost = sumCost(kids)
	return n
}

func sumCost(ns []node) int32 {
	var c int32
	for _, k := range ns {
		c += k.cost
	}
	return c
}

// triggerOf returns a set of literal atoms at least one of which is marked
// whenever n holds, or false when there is none (a negation, an atom the
// marks do not decide). Of the terms of an and it picks the set least
// likely to be marked, so that few rules become candidates.
func (e *Engine) triggerOf(n *node) ([]int32, bool) {
	set, _, ok := e.trigger(n)
	return set, ok
}

func (e *Engine) trigger(n *node) (set []int32, score int, ok bool) {
	switch n.op {
	case nAtom:
		k := e.fast.kind[n.atom]
		if k == slowAtom && int(n.atom) < len(e.fast.proxy) && e.fast.proxy[n.atom] >= 0 {
			// A regexp atom: its proxy holds whenever it does (regexlit.go).
			if p := e.fast.proxy[n.atom]; e.fast.kind[p] == fieldAtom {
				return []int32{p}, e.markOdds(p), true
			}
		}
		if k == slowAtom || k == fieldAtom && e.atoms[n.atom].neq {
			return nil, 0, false
		}
		return []int32{n.atom}, e.markOdds(n.atom), true
	case nNot:
		return nil, 0, false
	case nAnd:
		for i := range n.kids {
			s, sc, k := e.trigger(&n.kids[i])
			if k && (!ok || sc < score) {
				set, score, ok = s, sc, true
			}
		}
		return set, score, ok
	}
	// or, and at least k of kids (k >= 1): some kid holds.
	for i := range n.kids {
		s, sc, k := e.trigger(&n.kids[i])
		if !k {
			return nil, 0, false
		}
		set, score = append(set, s...), score+sc
	}
	return set, score, len(set) > 0
}

// markOdds is a rough measure of how often a literal atom is marked: short
// literals occur more often than long ones, substrings more often than
// anchored ones, `*` always.
func (e *Engine) markOdds(id int32) int {
	a := &e.atoms[id]
	odds := 0
	for i := range a.values {
		for j := range a.values[i].pats {
			p := &a.values[i].pats[j]
			switch p.kind {
			case pAnything:
				odds += 1 << 20
			case pContains:
				odds += 4096 / (len(p.lit) + 1)
			default:
				odds += 1024 / (len(p.lit) + 1)
			}
		}
	}
	if a.all {
		odds /= len(a.values)
	}
	if a.keyword {
		odds /= 4 // rare words by nature
	}
	return odds + 1
}
