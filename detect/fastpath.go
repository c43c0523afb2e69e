package detect

import (
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vigil-sec/vigil/event"
)

// The fast path matches all rules at once. Literal atoms (see literalOnly)
// are not evaluated one by one: every literal of a field, of the rules of
// the event's route, goes into the route's literalSet of the field, and one
// pass per present field marks the atoms whose values it satisfies
// (scanFields). Each rule has a trigger, a set of such
// atoms at least one of which holds whenever its condition does; only the
// rules a marked atom triggers (and the few without a trigger) evaluate
// their condition, in which literal atoms are read from the marks and the
// others evaluated as before (atom.go), only for these candidates.
type fastPath struct {
	kind    []atomKind    // by atom
	commons []commonField // slots a literal atom reads that have a common fallback
	vals    []fastVal     // the refs of the literal sets
	// sets are the literal sets routes built, by their field and atoms
	// (setKey): routes whose rules read a field alike share its set (the
	// process_creation rules' CommandLine set serves Sysmon and Security
	// events). Guarded by the router's lock.
	sets map[string]*literalSet
	// stored are sets UseSets gave, by key, not taken by a route yet;
	// built counts the sets routes built (setcache.go). Guarded by the
	// router's lock too.
	stored  map[string]storedSet
	built   int
	valAt   []int32   // by atom: its first ref (its values' refs follow)
	proxy   []int32   // by regexp atom: its proxy literal atom, or -1 (regexlit.go)
	trigger [][]int32 // by atom: the rules it triggers
	always  []int32   // rules without a trigger, ascending
	stats   fastPathStats
}

type atomKind uint8

const (
	slowAtom    atomKind = iota // evaluated by evalAtom when a candidate needs it
	fieldAtom                   // marked by its field's literal set
	keywordAtom                 // marked by the keyword literal set
)

// fastVal is one value of a literal atom: satisfying it marks the atom, or
// for a |all atom counts towards the need values it must satisfy.
type fastVal struct {
	atom int32
	need int32
}

type commonField struct {
	slot   int32
	common int
}

type fastPathStats struct {
	literal, slow, triggered, always int
	bytes                            int // of the literal sets routes built so far (router's lock)
}

// buildFastPath sorts the atoms into literal and slow ones, numbers their
// values and picks every rule's trigger. The literal sets are built
// later, per route (routeFast).
func (e *Engine) buildFastPath() {
	fp := &e.fast
	fp.kind = make([]atomKind, len(e.atoms))
	fp.valAt = make([]int32, len(e.atoms))
	literalField := make([]bool, len(e.fields))
	for i := range e.atoms {
		a := &e.atoms[i]
		if !a.literal {
			fp.stats.slow++
			continue
		}
		fp.stats.literal++
		fp.kind[i] = keywordAtom
		if !a.keyword {
			fp.kind[i] = fieldAtom
			literalField[a.field] = true
		}
		fp.valAt[i] = int32(len(fp.vals))
		need := int32(1)
		if a.all {
			need = int32(len(a.values))
		}
		for range a.values {
			fp.vals = append(fp.vals, fastVal{atom: int32(i), need: need})
		}
	}
	for f, lit := range literalField {
		if c := e.fields[f].common; lit && c >= 0 {
			fp.commons = append(fp.commons, commonField{slot: int32(f), common: c})
		}
	}
	fp.sets = make(map[string]*literalSet)
	fp.trigger = make([][]int32, len(e.atoms))
	for r := range e.progs {
		t, ok := e.triggerOf(&e.progs[r])
		if !ok {
			fp.always = append(fp.always, int32(r))
			continue
		}
		fp.stats.triggered++
		for _, a := range t {
			fp.trigger[a] = append(fp.trigger[a], int32(r))
		}
	}
	fp.stats.always = len(fp.always)
}

// routeFast is what the fast path scans for the rules of one route: only
// the fields their literal atoms read (a field no routed rule reads marks
// nothing that matters), each with a literal set of the route's literals
// only, and only their keyword literals. A route's sets hold a fraction of
// the engine's literals (the Image literals of image_load rules, not those
// of every category): smaller tries and automata, fewer trigram survivors.
type routeFast struct {
	sets     []*literalSet // by field slot; nil when not scanned
	commons  []commonField // the scanned ones with a common fallback
	keywords *literalSet   // nil when no routed rule searches keywords
	always   []int32       // routed rules without a trigger, ascending
	// member has a bit set for each rule of the route (nil when all): a
	// bit test tells whether a triggered rule is routed here.
	member []uint64
	// all: the route of every rule, for logsources past the router's
	// cache; its rules are candidates only when they are in the event's
	// route.
	all bool
}

// routeFast works out the routeFast of the rules idx (ascending); all
// when idx is every rule, serving logsources of any route. It first lists
// the literal atoms each field's set holds (in the order the route's rules
// name them), and only a set no route built before is then filled with
// their patterns and built (sharedSet): the big sets (CommandLine, Image)
// serve several routes.
func (e *Engine) routeFast(idx []int32, all bool) *routeFast {
	fp := &e.fast
	rf := &routeFast{sets: make([]*literalSet, len(e.fields)), all: all}
	atomsOf := make([][]int32, len(e.fields))
	var kwAtoms []int32
	seen := make([]bool, len(e.atoms))
	var addAtom func(id int32)
	addAtom = func(id int32) {
		if seen[id] {
			return
		}
		seen[id] = true
		if int(id) < len(fp.proxy) && fp.proxy[id] >= 0 {
			addAtom(fp.proxy[id])
		}
		switch fp.kind[id] {
		case fieldAtom:
			f := e.atoms[id].field
			atomsOf[f] = append(atomsOf[f], id)
		case keywordAtom:
			kwAtoms = append(kwAtoms, id)
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n.op == nAtom {
			addAtom(n.atom)
			return
		}
		for i := range n.kids {
			walk(&n.kids[i])
		}
	}
	for _, r := range idx {
		walk(&e.progs[r])
	}
	var todo []setJob
	need := func(f int32, atoms []int32, dst **literalSet) {
		key := setKey(f, atoms)
		if ls := e.knownSet(key); ls != nil {
			*dst = ls
			return
		}
		todo = append(todo, setJob{f: f, atoms: atoms, key: key, dst: dst})
	}
	for f, atoms := range atomsOf {
		if len(atoms) > 0 {
			need(int32(f), atoms, &rf.sets[f])
		}
	}
	if len(kwAtoms) > 0 {
		need(-1, kwAtoms, &rf.keywords)
	}
	e.buildSets(todo)
	for _, cf := range fp.commons {
		if rf.sets[cf.slot] != nil {
			rf.commons = append(rf.commons, cf)
		}
	}
	for _, r := range fp.always {
		if _, in := slices.BinarySearch(idx, r); in {
			rf.always = append(rf.always, r)
		}
	}
	if !all {
		rf.member = make([]uint64, (len(e.rules)+63)/64)
		for _, r := range idx {
			rf.member[r>>6] |= 1 << (r & 63)
		}
	}
	return rf
}

// scanFields marks the literal atoms of the route rf's rules that ev
// satisfies and collects them in sc.marked.
func (e *Engine) scanFields(ev *event.Event, rf *routeFast, sc *scratch) {
	sc.marked = sc.marked[:0]
	sets, commons, keywords := rf.sets, rf.commons, rf.keywords
	for _, id := range ev.Fields.IDs() {
		if int(id) >= len(sets) || sets[id] == nil {
			continue
		}
		ls := sets[id]
		v, _ := ev.Fields.Get(id)
		e.scanField(ls, v, sc)
		if ev.Fields.Multi(id) {
			first := true
			ev.Fields.Each(id, func(v string) bool {
				if !first {
					e.scanField(ls, v, sc)
				}
				first = false
				return true
			})
		}
	}
	for _, cf := range commons {
		if v := ev.Common[cf.common]; v != "" && !ev.Fields.Has(cf.slot) {
			e.scanField(sets[cf.slot], v, sc)
		}
	}
	e.flushField(sc)
	if keywords != nil {
		e.scanKeywords(ev, keywords, sc)
	}
}

// scanKeywords runs the keyword literals ls over every value of the event:
// its own fields, its common fields and its raw record, each on its own. A
// value that lies inside the raw record's memory (decoders hand out
// unescaped text that way) is a substring of it: the raw record's pass
// finds whatever it holds, so it is not scanned again.
func (e *Engine) scanKeywords(ev *event.Event, ls *literalSet, sc *scratch) {
	raw := ev.Raw
	for _, id := range ev.Fields.IDs() {
		// Keyword literals are non-empty substrings (no `*`, no equals
		// ""): a value shorter than all of them marks nothing.
		v, _ := ev.Fields.Get(id)
		if !within(v, raw) && (len(v) >= ls.minLen || !isASCII(v)) {
			e.scanValue(ls, v, sc)
		}
		if ev.Fields.Multi(id) {
			first := true
			ev.Fields.Each(id, func(v string) bool {
				if !first && !within(v, raw) {
					e.scanValue(ls, v, sc)
				}
				first = false
				return true
			})
		}
	}
	for _, v := range ev.Common {
		if v != "" && !within(v, raw) {
			e.scanValue(ls, v, sc)
		}
	}
	if len(raw) > 0 {
		e.scanValue(ls, bytesString(raw), sc)
	}
}

// within reports whether v's bytes lie inside buf's memory.
func within(v string, buf []byte) bool {
	if len(v) == 0 || len(buf) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= b && p+uintptr(len(v)) <= b+uintptr(len(buf))
}

// A value longer than longValue is scanned by a set's gramSet rather than
// its dfa when every substring literal has skipLit bytes or more
// (literalSet.skipLong): the gramSet then probes every sixth byte or
// fewer and verifies candidates on eight bytes before walking its trie.
// With shorter literals (CallTrace's "ntdll.dll" family) the walks the
// probes lead to cost more than the dfa's pass.
const (
	longValue = 256
	skipLit   = 8
)

// scanField is scanValue, except that a short ASCII value the set's
// automaton answers waits in sc.jobs for flushField, which scans the
// event's waiting values side by side (scanLanes). The value must stay
// valid until then (field values do, for the whole Match).
func (e *Engine) scanField(ls *literalSet, v string, sc *scratch) {
	a := ls.dfa
	if a == nil || v == "" || len(v) > longValue && ls.skipLong || a.wide(v) || !isASCII(v) {
		e.scanValue(ls, v, sc)
		return
	}
	e.markAll(ls.any, sc)
	if len(v) < ls.minLen {
		return
	}
	sc.jobs = append(sc.jobs, dfaJob{ls: ls, v: v})
}

// dfaJob is a value waiting in scanField.
type dfaJob struct {
	ls *literalSet
	v  string
}

// flushField scans the values scanField queued.
func (e *Engine) flushField(sc *scratch) {
	switch jobs := sc.jobs; len(jobs) {
	case 0:
		return
	case 1:
		hits := jobs[0].ls.dfa.scanAnchored(jobs[0].v, sc.hits[:0])
		e.markHits(jobs[0].ls, hits, sc)
		sc.hits = hits
	default:
		e.scanLanes(jobs, sc)
	}
	// The jobs hold strings of this event: drop them, not only their count.
	clear(sc.jobs)
	sc.jobs = sc.jobs[:0]
}

func (e *Engine) markHits(ls *literalSet, hits []acHit, sc *scratch) {
	for _, h := range hits {
		for _, p := range ls.dfa.outputs(h) {
			e.markAll(ls.pats[p].refs, sc)
		}
	}
}

// scanValue marks what one value satisfies in ls.
func (e *Engine) scanValue(ls *literalSet, v string, sc *scratch) {
	e.markAll(ls.any, sc)
	if v == "" {
		e.markAll(ls.empty, sc)
		return
	}
	// No literal fits in a shorter value (lowering may lengthen non-ASCII
	// values, so those go on).
	if len(v) < ls.minLen && isASCII(v) {
		return
	}
	if a := ls.dfa; a != nil && (len(v) <= longValue || !ls.skipLong) {
		s := v
		if !isASCII(v) {
			s = sc.lowerTmp(v)
		}
		hits := a.scanAnchored(s, sc.hits[:0])
		e.markHits(ls, hits, sc)
		sc.hits = hits
		return
	}
	n := int32(len(v))
	if t := ls.fwd; t != nil {
		hits, ok := t.walk(v, false, sc.hits[:0])
		if !ok {
			low := sc.lowerTmp(v)
			n = int32(len(low))
			hits = t.walkLowered(low, false, hits[:0])
		}
		for _, h := range hits {
			for _, p := range t.outputs(h.row) {
				if lp := &ls.pats[p]; lp.kind == pPrefix || h.end == n {
					e.markAll(lp.refs, sc)
				}
			}
		}
		sc.hits = hits
	}
	if t := ls.rev; t != nil {
		hits, ok := t.walk(v, true, sc.hits[:0])
		if !ok {
			hits = t.walkLowered(sc.lowerTmp(v), true, hits[:0])
		}
		for _, h := range hits {
			for _, p := range t.outputs(h.row) {
				e.markAll(ls.pats[p].refs, sc)
			}
		}
		sc.hits = hits
	}
	if ls.long == nil && ls.short == nil {
		return
	}
	s := v
	if ls.asciiSubs {
		if lowersToASCII(v) {
			s = sc.lowerTmp(v)
		}
	} else if !isASCII(v) {
		s = sc.lowerTmp(v)
	}
	if g := ls.long; g != nil {
		hits := g.scan(s, sc.hits[:0])
		for _, h := range hits {
			for _, p := range g.t.outputs(h.row) {
				e.markAll(ls.pats[p].refs, sc)
			}
		}
		sc.hits = hits
	}
	if a := ls.short; a != nil {
		hits := a.scanLowered(s, sc.hits[:0])
		for _, h := range hits {
			for _, p := range a.outputs(h) {
				e.markAll(ls.pats[p].refs, sc)
			}
		}
		sc.hits = hits
	}
}

func (e *Engine) markAll(refs []int32, sc *scratch) {
	for _, r := range refs {
		fv := e.fast.vals[r]
		if fv.need > 1 {
			if sc.valGen[r] == sc.gen {
				continue
			}
			sc.valGen[r] = sc.gen
			if sc.cntGen[fv.atom] != sc.gen {
				sc.cntGen[fv.atom], sc.cnt[fv.atom] = sc.gen, 0
			}
			if sc.cnt[fv.atom]++; sc.cnt[fv.atom] < fv.need {
				continue
			}
		}
		if sc.markGen[fv.atom] != sc.gen {
			sc.markGen[fv.atom] = sc.gen
			sc.marked = append(sc.marked, fv.atom)
		}
	}
}

// candidates returns the rules of route idx (ascending) that a marked atom
// triggers or that have no trigger, ascending.
func (e *Engine) candidates(idx []int32, rf *routeFast, sc *scratch) []int32 {
	c := sc.cands[:0]
	member := rf.member
	for _, a := range sc.marked {
		for _, r := range e.fast.trigger[a] {
			if sc.ruleGen[r] != sc.gen {
				sc.ruleGen[r] = sc.gen
				if member != nil {
					if member[r>>6]&(1<<(r&63)) != 0 {
						c = append(c, r)
					}
				} else if _, in := slices.BinarySearch(idx, r); in {
					c = append(c, r)
				}
			}
		}
	}
	for _, r := range rf.always {
		if sc.ruleGen[r] != sc.gen {
			if _, in := slices.BinarySearch(idx, r); in || !rf.all {
				c = append(c, r)
			}
		}
	}
	slices.Sort(c)
	sc.cands = c
	return c
}

// knownSet returns the literal set of key that a route built before, or
// that UseSets gave; nil when there is none. Routes whose rules read a
// field alike share its set.
func (e *Engine) knownSet(key string) *literalSet {
	if ls, ok := e.fast.sets[key]; ok {
		return ls
	}
	if ls := e.takeStored(key); ls != nil {
		e.fast.sets[key] = ls
		e.fast.stats.bytes += ls.size()
		return ls
	}
	return nil
}

// setJob is a literal set a route needs that no route built before: of
// field f (-1: the keywords) over atoms, literal atoms of that field (or
// keyword atoms), its patterns added in that order.
type setJob struct {
	f     int32
	atoms []int32
	key   string
	dst   **literalSet
}

// buildSets builds the sets of todo, side by side when the process may
// use several cores: a route's first event otherwise holds the router's
// lock (and the other workers that need a route) while its sets are built
// one after another, a few hundred milliseconds for process_creation.
// Building reads only what compilation fixed.
func (e *Engine) buildSets(todo []setJob) {
	build := func(j *setJob) {
		b := literalSetBuilder{keywords: j.f < 0}
		for _, id := range j.atoms {
			a := &e.atoms[id]
			for v := range a.values {
				for k := range a.values[v].pats {
					b.add(&a.values[v].pats[k], e.fast.valAt[id]+int32(v))
				}
			}
		}
		*j.dst = b.build()
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	if workers <= 1 {
		for i := range todo {
			build(&todo[i])
		}
	} else {
		// The largest first, so that no core is left with a big one at
		// the end.
		order := make([]*setJob, len(todo))
		for i := range todo {
			order[i] = &todo[i]
		}
		slices.SortStableFunc(order, func(a, b *setJob) int { return len(b.atoms) - len(a.atoms) })
		var next atomic.Int32
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(order); i = int(next.Add(1)) - 1 {
					build(order[i])
				}
			}()
		}
		wg.Wait()
	}
	for _, j := range todo {
		e.fast.sets[j.key] = *j.dst
		e.fast.stats.bytes += (*j.dst).size()
		e.fast.built++
	}
}

// setKey names the set of field f over atoms, whatever their order.
func setKey(f int32, atoms []int32) string {
	sorted := slices.Clone(atoms)
	slices.Sort(sorted)
	b := make([]byte, 0, 4*(len(sorted)+1))
	b = binary.LittleEndian.AppendUint32(b, uint32(f))
	for _, a := range sorted {
		b = binary.LittleEndian.AppendUint32(b, uint32(a))
	}
	return string(b)
}

// fastAtom is the value of a literal atom, read from the marks.
func (e *Engine) fastAtom(id int32, k atomKind, ev *event.Event, sc *scratch) bool {
	if sc.markGen[id] == sc.gen {
		return k == keywordAtom || !e.atoms[id].neq
	}
	if k == keywordAtom || !e.atoms[id].neq {
		return false
	}
	// neq holds for a present field none of whose values matched.
	_, _, ok := e.value(ev, e.atoms[id].field)
	return ok
}
