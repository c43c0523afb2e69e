package detect

import "unsafe"

// An automaton finds every occurrence of a set of lower-case literals in a
// value, in one pass: an Aho–Corasick automaton turned into a DFA whose
// transitions are a dense table over byte classes. Bytes no literal holds
// share one class, and ASCII capitals share the class of their lower case,
// so an ASCII value is matched case-insensitively without being lowered
// first.
//
// Each table entry is the next state's row offset shifted left by one, its
// low bit telling whether some literal ends in that state: the inner loop is
// one load and one test per byte.
type automaton struct {
	class [256]uint8
	nc    uint32 // classes
	// begin and end are the anchor classes of an anchored automaton
	// (newAnchoredAutomaton); 0 in others.
	begin, end uint32
	maxLit     int      // the longest literal, in bytes
	delta      []uint32 // by row offset (state*nc) + class: next row<<1 | ends
	// outs[outAt[s]:outAt[s+1]] are the ids of the literals that end in
	// state s, its own and those of its suffixes.
	outAt []int32
	outs  []int32
}

// acHit is an occurrence: the state a literal ended in, and the offset just
// after it.
type acHit struct {
	row uint32
	end int32
}

// maxClasses bounds the alphabet: the class ids are bytes, one is kept for
// the bytes no literal holds.
const maxClasses = 256

// newAutomaton builds the automaton of lits; outputs[i] are the ids reported
// when lits[i] occurs. Literals must be in lower case (as rules lower them).
func newAutomaton(lits []string, outputs [][]int32) *automaton {
	return newAnchoredAutomaton(lits, nil, outputs)
}

// Anchors of a literal in an anchored automaton: it must start the value,
// end it, or both (an equal literal).
const (
	anchorBegin uint8 = 1 << iota
	anchorEnd
)

// newAnchoredAutomaton builds the automaton of lits, each with its anchors
// (nil: none). Anchors are two more classes, begin and end, that no byte
// maps to: scanAnchored feeds begin before the value and end after it, so
// that "begin lit end" occurs only when the value is lit. One pass then
// answers equal, prefix, suffix and substring literals at once.
func newAnchoredAutomaton(lits []string, anchors []uint8, outputs [][]int32) *automaton {
	a := &automaton{}
	// Byte classes: one per byte some literal holds, 0 for the rest.
	var used [256]bool
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			used[l[i]] = true
		}
	}
	n := uint32(1)
	for b := 0; b < 256; b++ {
		if used[b] {
			a.class[b] = uint8(n)
			n++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		if !used[b] {
			a.class[b] = a.class[b+'a'-'A']
		}
	}
	if anchors != nil {
		a.begin, a.end = n, n+1
		n += 2
	}
	a.nc = n

	// The trie first, sparse: a dense row a state from the start cost
	// memory in proportion to states × classes, a table's worth again.
	nc := int(n)
	size := 1
	for _, l := range lits {
		size += len(l) + 2 // the anchors
	}
	b := newTrieBuilder(nc, size)
	var syms []uint16
	for i, l := range lits {
		a.maxLit = max(a.maxLit, len(l))
		syms = syms[:0]
		if anchors != nil && anchors[i]&anchorBegin != 0 {
			syms = append(syms, uint16(a.begin))
		}
		for j := 0; j < len(l); j++ {
			syms = append(syms, uint16(a.class[l[j]]))
		}
		if anchors != nil && anchors[i]&anchorEnd != 0 {
			syms = append(syms, uint16(a.end))
		}
		s := int32(0)
		for _, c := range syms {
			s = b.child(s, c)
		}
		b.own[s] = append(b.own[s], outputs[i]...)
	}
	states := len(b.own)

	// Then the table, its states numbered breadth first: a scan spends
	// most of its steps near the root, and those rows share a few cache
	// lines. A state's row is its failure state's row (complete: it is
	// shallower) with its own children written over it; its children's
	// failure states are where that row went on their classes.
	table := make([]uint32, states*nc)
	queue := make([]int32, 1, states) // trie nodes by state number
	fail := make([]int32, states)     // by state number
	outList := make([][]int32, states)
	var kids []int32
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		row := table[qi*nc : qi*nc+nc]
		f := int(fail[qi])
		if qi != 0 {
			copy(row, table[f*nc:f*nc+nc])
		}
		kids = b.children(s, kids[:0])
		for _, ch := range kids {
			c := b.label[ch]
			ci := int32(len(queue))
			queue = append(queue, ch)
			if qi != 0 {
				fail[ci] = int32(row[c])
			}
			row[c] = uint32(ci)
		}
		outList[qi] = b.own[s]
		if qi != 0 && len(outList[f]) > 0 {
			outList[qi] = append(append([]int32(nil), b.own[s]...), outList[f]...)
		}
	}
	outAt := make([]int32, states+1)
	var outs []int32
	for i := range states {
		outAt[i] = int32(len(outs))
		outs = append(outs, outList[i]...)
	}
	outAt[states] = int32(len(outs))
	// Premultiply and flag.
	for k, t := range table {
		table[k] = t*n<<1 | b2u(outAt[t+1] > outAt[t])
	}
	a.delta, a.outAt, a.outs = table, outAt, outs
	return a
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// scanLowered appends the occurrences in s, an ASCII value (capitals are
// folded by the class table) or one already lowered (its non-ASCII bytes are
// mapped as they are).
func (a *automaton) scanLowered(s string, hits []acHit) []acHit {
	st := uint32(0)
	delta := a.delta
	for i := 0; i < len(s); i++ {
		x := delta[st+uint32(a.class[s[i]])]
		st = x >> 1
		if x&1 != 0 {
			hits = append(hits, acHit{row: st, end: int32(i + 1)})
		}
	}
	return hits
}

// scanAnchored is scanLowered over the value framed by the anchor classes.
// Hits that end at the begin anchor report end 0, at the end anchor
// len(s)+1. Long values are split among interleaved passes (scanWide).
func (a *automaton) scanAnchored(s string, hits []acHit) []acHit {
	if a.wide(s) {
		return a.scanWide(s, hits)
	}
	x := a.delta[a.begin]
	if x&1 != 0 {
		hits = append(hits, acHit{row: x >> 1, end: 0})
	}
	st, hits := a.run(x>>1, s, 0, len(s), hits)
	if x := a.delta[st+a.end]; x&1 != 0 {
		hits = append(hits, acHit{row: x >> 1, end: int32(len(s) + 1)})
	}
	return hits
}

// run steps from row st over s[from:to], appending hits, and returns the
// row it ends in. The table is built so that a row plus a class is always
// inside it: the loads go without bounds checks.
func (a *automaton) run(st uint32, s string, from, to int, hits []acHit) (uint32, []acHit) {
	d := unsafe.Pointer(unsafe.SliceData(a.delta))
	b := unsafe.Pointer(unsafe.StringData(s))
	cls := &a.class
	for i := from; i < to; i++ {
		x := *(*uint32)(unsafe.Add(d, uintptr(st+uint32(cls[*(*byte)(unsafe.Add(b, i))]))*4))
		st = x >> 1
		if x&1 != 0 {
			hits = append(hits, acHit{row: st, end: int32(i + 1)})
		}
	}
	return st, hits
}

// A pass over a value is a chain of dependent loads (each step needs the
// row the last one found), so it runs at the latency of a load, not at the
// throughput of the core. Long values are cut into wideWays pieces scanned
// side by side in one loop: independent chains the core overlaps. Each
// piece but the first starts maxLit bytes early from the root, enough for
// the automaton to be in the state a single pass would be in by the piece's
// first byte (no literal is longer), and reports only hits ending inside
// the piece.
const (
	wideWays = 4
	wideMin  = 128
)

func (a *automaton) scanWide(s string, hits []acHit) []acHit {
	n := len(s)
	q := n / wideWays
	var st [wideWays]uint32
	var at [wideWays]int // the next byte of each piece
	x := a.delta[a.begin]
	if x&1 != 0 {
		hits = append(hits, acHit{row: x >> 1, end: 0})
	}
	st[0] = x >> 1
	for w := 1; w < wideWays; w++ {
		at[w] = w * q
		st[w] = a.warm(s[at[w]-a.maxLit : at[w]])
	}
	d := unsafe.Pointer(unsafe.SliceData(a.delta))
	b := unsafe.Pointer(unsafe.StringData(s))
	cls := &a.class
	step := func(st uint32, i int) uint32 {
		return *(*uint32)(unsafe.Add(d, uintptr(st+uint32(cls[*(*byte)(unsafe.Add(b, i))]))*4))
	}
	for i := 0; i < q; i++ {
		x0 := step(st[0], i)
		x1 := step(st[1], q+i)
		x2 := step(st[2], 2*q+i)
		x3 := step(st[3], 3*q+i)
		st[0], st[1], st[2], st[3] = x0>>1, x1>>1, x2>>1, x3>>1
		if (x0|x1|x2|x3)&1 != 0 {
			for w, x := range [wideWays]uint32{x0, x1, x2, x3} {
				if x&1 != 0 {
					hits = append(hits, acHit{row: x >> 1, end: int32(w*q + i + 1)})
				}
			}
		}
	}
	// The last piece takes the bytes the division left over.
	last, hits := a.run(st[wideWays-1], s, wideWays*q, n, hits)
	if x := a.delta[last+a.end]; x&1 != 0 {
		hits = append(hits, acHit{row: x >> 1, end: int32(n + 1)})
	}
	return hits
}

// wide reports whether scanAnchored cuts s into interleaved pieces.
func (a *automaton) wide(s string) bool {
	return len(s) >= wideMin && len(s) >= 2*wideWays*a.maxLit
}

// warm runs s from the root without reporting hits.
func (a *automaton) warm(s string) uint32 {
	st := uint32(0)
	for i := 0; i < len(s); i++ {
		st = a.delta[st+uint32(a.class[s[i]])] >> 1
	}
	return st
}

// outputs returns the ids of the literals that end at hit h.
func (a *automaton) outputs(h acHit) []int32 {
	s := h.row / a.nc
	return a.outs[a.outAt[s]:a.outAt[s+1]]
}

// size is the automaton's memory in bytes, for the compile summary.
func (a *automaton) size() int {
	return 4*len(a.delta) + 4*len(a.outAt) + 4*len(a.outs) + 256
}
