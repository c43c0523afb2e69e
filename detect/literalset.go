package detect

import (
	"github.com/vigil-sec/vigil/rule"
)

// A literalSet holds every literal pattern of one field (or of the keyword
// searches), from the rules of a route (routeFast), so that a few passes
// over a value tell which patterns it satisfies: a walk of the forward trie from the value's start
// (equal and prefix literals), one of the reversed trie from its end
// (suffix literals), and for substrings a gramSet (literals of four bytes
// or more) and an automaton (shorter ones). A pattern's refs are the fast
// values (see fastVal) it satisfies.
type literalSet struct {
	fwd, rev *trie
	long     *gramSet
	short    *automaton
	// dfa, when the set is small enough, is every pattern in one anchored
	// automaton (newAnchoredAutomaton): one pass of a load a byte over a
	// value answers all of them, where the tries branch at every byte and
	// the gramSet probes and verifies. With a dfa, fwd, rev, long and short
	// exist only when skipLong: values longer than longValue then go to
	// them (see skipLit).
	dfa      *automaton
	skipLong bool
	pats     []litPat // by output id
	empty    []int32  // refs satisfied by an empty value (equals "")
	any      []int32  // refs satisfied by any value (`*`, or an empty affix)
	minLen   int      // the shortest literal of pats
	// asciiSubs: every substring literal (long, short) is ASCII, so a
	// value need not be lowered for them unless lowering makes ASCII out
	// of something else (lowersToASCII).
	asciiSubs bool
}

// litPat is one (kind, literal) of the field. Where a literal was found
// decides whether it counts: an equal literal must span the value.
type litPat struct {
	kind patKind
	n    int32 // len(literal)
	refs []int32
}

// literalSetBuilder gathers the patterns of one field.
type literalSetBuilder struct {
	ls    literalSet
	index map[litKey]int32 // pattern -> pats index
	// Distinct literals of each structure: forward, reversed, long and
	// short substrings.
	groups [4]litGroup
	// keywords keeps long substrings in a gramSet whatever their number:
	// keyword sets are few literals over long texts (the raw record),
	// where the trigram probes skip most bytes.
	keywords bool
}

// maxSmallAutomaton bounds the table of a literal set whose substrings all
// go into one automaton, in bytes.
const maxSmallAutomaton = 128 << 10

// smallAutomaton reports whether the literals of gs make an automaton
// within maxSmallAutomaton (estimated: a state per literal byte).
func smallAutomaton(gs ...*litGroup) bool {
	var used [256]bool
	states := 1
	for _, g := range gs {
		for _, l := range g.lits {
			states += len(l)
			for i := 0; i < len(l); i++ {
				used[l[i]] = true
			}
		}
	}
	nc := 1
	for _, u := range used {
		if u {
			nc++
		}
	}
	return states*nc*4 <= maxSmallAutomaton
}

type litGroup struct {
	lits []string
	id   map[string]int
	outs [][]int32 // by literal: pats ids
}

func (g *litGroup) add(lit string, pat int32) {
	if g.id == nil {
		g.id = make(map[string]int)
	}
	i, ok := g.id[lit]
	if !ok {
		i = len(g.lits)
		g.id[lit] = i
		g.lits = append(g.lits, lit)
		g.outs = append(g.outs, nil)
	}
	g.outs[i] = append(g.outs[i], pat)
}

type litKey struct {
	kind patKind
	lit  string
}

func (b *literalSetBuilder) add(p *pat, ref int32) {
	switch {
	case p.kind == pAnything, p.lit == "" && p.kind != pEqual:
		b.ls.any = append(b.ls.any, ref)
		return
	case p.lit == "":
		b.ls.empty = append(b.ls.empty, ref)
		return
	}
	if b.index == nil {
		b.index = make(map[litKey]int32)
	}
	k := litKey{p.kind, p.lit}
	id, ok := b.index[k]
	if !ok {
		id = int32(len(b.ls.pats))
		b.index[k] = id
		b.ls.pats = append(b.ls.pats, litPat{kind: p.kind, n: int32(len(p.lit))})
		g := 0
		switch {
		case p.kind == pSuffix:
			g = 1
		case p.kind == pContains && len(p.lit) >= minGramLit:
			g = 2
		case p.kind == pContains:
			g = 3
		}
		b.groups[g].add(p.lit, id)
	}
	lp := &b.ls.pats[id]
	if n := len(lp.refs); n == 0 || lp.refs[n-1] != ref {
		lp.refs = append(lp.refs, ref)
	}
}

func (b *literalSetBuilder) empty() bool {
	return len(b.ls.pats) == 0 && len(b.ls.any) == 0 && len(b.ls.empty) == 0
}

func (b *literalSetBuilder) build() *literalSet {
	ls := &b.ls
	ls.minLen = 1 << 30
	for i := range ls.pats {
		ls.minLen = min(ls.minLen, int(ls.pats[i].n))
	}
	ls.asciiSubs = true
	for _, g := range b.groups[2:] {
		for _, l := range g.lits {
			if !isASCII(l) {
				ls.asciiSubs = false
			}
		}
	}
	allLong := len(b.groups[3].lits) == 0
	for _, l := range b.groups[2].lits {
		allLong = allLong && len(l) >= skipLit
	}
	if allLong && len(b.groups[0].lits) == 0 && len(b.groups[1].lits) == 0 {
		// Only long substrings (keyword sets, mostly): the gramSet beats
		// a pass over each byte on short values too.
		if g := &b.groups[2]; len(g.lits) > 0 {
			ls.long = newGramSet(g.lits, g.outs)
		}
		return ls
	}
	if ls.dfa = b.dfa(); ls.dfa != nil {
		// The dfa answers every value, but over a long one a gramSet of
		// long literals beats a pass over each byte: keep the tries and the
		// gramSet for those when no substring is shorter than skipLit.
		if len(b.groups[3].lits) > 0 {
			return ls
		}
		for _, l := range b.groups[2].lits {
			if len(l) < skipLit {
				return ls
			}
		}
		ls.skipLong = true
	} else if g2, g3 := &b.groups[2], &b.groups[3]; len(g2.lits) > 0 && !b.keywords && smallAutomaton(g2, g3) {
		// Few enough substrings for one automaton: a pass of one load a
		// byte beats probing trigrams whose survivors (common words like
		// ".dll") each cost a trie walk.
		g3.lits = append(g3.lits, g2.lits...)
		g3.outs = append(g3.outs, g2.outs...)
		*g2 = litGroup{}
	}
	if g := &b.groups[0]; len(g.lits) > 0 {
		ls.fwd = newTrie(g.lits, g.outs, false)
	}
	if g := &b.groups[1]; len(g.lits) > 0 {
		ls.rev = newTrie(g.lits, g.outs, true)
	}
	if g := &b.groups[2]; len(g.lits) > 0 {
		ls.long = newGramSet(g.lits, g.outs)
	}
	if g := &b.groups[3]; len(g.lits) > 0 {
		ls.short = newAutomaton(g.lits, g.outs)
	}
	return ls
}

// maxDFA bounds the table of a set's dfa, in bytes.
var maxDFA = 8 << 20 // a variable so that tests can leave the dfa out

// dfa builds the set's anchored automaton, or nil when its table would be
// over maxDFA.
func (b *literalSetBuilder) dfa() *automaton {
	ls := &b.ls
	if len(ls.pats) == 0 {
		return nil
	}
	lits := make([]string, len(ls.pats))
	anchors := make([]uint8, len(ls.pats))
	outs := make([][]int32, len(ls.pats))
	var used [256]bool
	states := 1
	for k, id := range b.index {
		lits[id], outs[id] = k.lit, []int32{id}
		switch k.kind {
		case pEqual:
			anchors[id] = anchorBegin | anchorEnd
		case pPrefix:
			anchors[id] = anchorBegin
		case pSuffix:
			anchors[id] = anchorEnd
		}
		states += len(k.lit) + 2
		for i := 0; i < len(k.lit); i++ {
			used[k.lit[i]] = true
		}
	}
	nc := 3
	for _, u := range used {
		if u {
			nc++
		}
	}
	if states*nc*4 > maxDFA {
		return nil
	}
	return newAnchoredAutomaton(lits, anchors, outs)
}

func (ls *literalSet) size() int {
	n := 0
	if ls.dfa != nil {
		n += ls.dfa.size()
	}
	if ls.fwd != nil {
		n += ls.fwd.size()
	}
	if ls.rev != nil {
		n += ls.rev.size()
	}
	if ls.long != nil {
		n += ls.long.size()
	}
	if ls.short != nil {
		n += ls.short.size()
	}
	return n
}

// literalOnly reports whether every pattern of the matcher's values is one
// the automaton answers exactly: a literal equal, prefix, suffix or
// substring, or `*`; the literal in lower case. Other atoms (globs, cased,
// regular expressions, numbers, and whatever operation rule adds later)
// keep the one-by-one evaluation of atom.go.
func literalOnly(m *rule.Matcher, a *atom) bool {
	if m.Op != rule.OpMatch || m.Cased || m.Time != rule.NoTime || m.Position != "" || a.op != rule.OpMatch || a.cased {
		return false
	}
	for i := range a.values {
		for j := range a.values[i].pats {
			p := &a.values[i].pats[j]
			switch p.kind {
			case pEqual, pPrefix, pSuffix, pContains, pAnything:
			default:
				return false
			}
			if needsLower(p.lit) && string(appendLower(nil, p.lit)) != p.lit {
				return false
			}
			if a.keyword && (p.kind != pContains || p.lit == "") {
				return false
			}
		}
		if len(a.values[i].pats) == 0 {
			return false
		}
	}
	return len(a.values) > 0
}
