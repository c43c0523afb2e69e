package detect

import (
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

// compiler turns a rule's AST into a node tree, interning atoms and fields.
type compiler struct {
	e       *Engine
	atomIDs map[string]int32
	key     []byte // atom's key buffer
	// pre, when set, makes atoms ahead of the walk on other cores; ready
	// says whether it holds those of rule, the one being compiled.
	pre   *precompiler
	rule  int
	ready bool
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

// atom returns the atom node of m, the k-th matcher of its rule (in
// precompiler order; -1 when the precompiler does not have the rule).
func (c *compiler) atom(m *rule.Matcher, k int) (node, error) {
	f := int32(-1)
	if m.Field != "" {
		f = c.field(m.Field)
	}
	c.key = appendAtomKey(c.key[:0], m, f)
	id, ok := c.atomIDs[string(c.key)]
	if !ok {
		var a atom
		var err error
		if k >= 0 {
			a, err = c.pre.atom(c.rule, k)
		} else {
			a, err = newAtom(m)
		}
		if err != nil {
			return node{}, err
		}
		// c.field interns the fields a fieldref compares with, after the
		// atom's own: the Dict's order does not depend on who made it.
		a.bind(m, f, c.field)
		id = int32(len(c.e.atoms))
		c.e.atoms = append(c.e.atoms, a)
		c.atomIDs[string(c.key)] = id
	}
	return node{op: nAtom, atom: id, cost: c.e.atoms[id].cost}, nil
}

func (c *compiler) search(d *rule.Detection, name string) (node, error) {
	s := d.Search(name)
	if s == nil {
		return node{}, fmt.Errorf("condition names search %q, which the detection does not define", name)
	}
	k := -1
	if c.ready {
		k = searchOffset(d, s)
	}
	or := node{op: nOr}
	for _, g := range s.Groups {
		and := node{op: nAnd}
		for _, m := range g {
			n, err := c.atom(m, k)
			if err != nil {
				return node{}, fmt.Errorf("search %q: %w", name, err)
			}
			if k >= 0 {
				k++
			}
			and.kids = append(and.kids, n)
		}
		or.kids = append(or.kids, and)
	}
	return simplify(or), nil
}

func (c *compiler) expr(d *rule.Detection, x rule.Expr) (node, error) {
	switch x := x.(type) {
	case *rule.Ref:
		return c.search(d, x.Name)
	case *rule.Not:
		k, err := c.expr(d, x.X)
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
			k, err := c.expr(d, it)
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
			k, err := c.search(d, name)
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
