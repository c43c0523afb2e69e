package detect

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
	nc    uint32   // classes
	delta []uint32 // by row offset (state*nc) + class: next row<<1 | ends
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
	a.nc = n

	// The trie, written straight into the table: 0 means no child (the root
	// is nobody's child).
	nc := int(n)
	delta := make([]uint32, nc)
	own := [][]int32{nil}
	for i, l := range lits {
		s := 0
		for j := 0; j < len(l); j++ {
			c := int(a.class[l[j]])
			next := int(delta[s*nc+c])
			if next == 0 {
				next = len(own)
				own = append(own, nil)
				delta = append(delta, make([]uint32, nc)...)
				delta[s*nc+c] = uint32(next)
			}
			s = next
		}
		own[s] = append(own[s], outputs[i]...)
	}
	states := len(own)

	// Breadth first: the failure state of a child is where its parent's
	// failure state goes on the same class; a missing transition goes where
	// the failure state's goes. A row still holds only trie children when
	// its state is dequeued, and rows are completed in order of depth, so
	// every failure row read is complete.
	fail := make([]int32, states)
	outList := make([][]int32, states)
	queue := make([]int32, 1, states)
	for qi := 0; qi < len(queue); qi++ {
		s := int(queue[qi])
		f := int(fail[s])
		for c := 0; c < nc; c++ {
			t := delta[s*nc+c]
			switch {
			case t != 0:
				if s != 0 {
					fail[t] = int32(delta[f*nc+c])
				}
				queue = append(queue, int32(t))
			case s != 0:
				delta[s*nc+c] = delta[f*nc+c]
			}
		}
		outList[s] = own[s]
		if s != 0 && len(outList[f]) > 0 {
			outList[s] = append(append([]int32(nil), own[s]...), outList[f]...)
		}
	}
	// Renumber the states in breadth-first order: a scan spends most of its
	// steps near the root, and those rows now share a few cache lines
	// instead of being strewn over the table in insertion order.
	renum := make([]uint32, states)
	for i, s := range queue {
		renum[s] = uint32(i)
	}
	ends := make([]bool, states)
	outAt := make([]int32, states+1)
	var outs []int32
	for i, s := range queue {
		outAt[i] = int32(len(outs))
		outs = append(outs, outList[s]...)
		ends[i] = len(outList[s]) > 0
	}
	outAt[states] = int32(len(outs))
	// Premultiply and flag.
	table := make([]uint32, len(delta))
	for i, s := range queue {
		row, newRow := delta[int(s)*nc:int(s)*nc+nc], table[i*nc:i*nc+nc]
		for c, t := range row {
			t = renum[t]
			newRow[c] = t*n<<1 | b2u(ends[t])
		}
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

// outputs returns the ids of the literals that end at hit h.
func (a *automaton) outputs(h acHit) []int32 {
	s := h.row / a.nc
	return a.outs[a.outAt[s]:a.outAt[s+1]]
}

// size is the automaton's memory in bytes, for the compile summary.
func (a *automaton) size() int {
	return 4*len(a.delta) + 4*len(a.outAt) + 4*len(a.outs) + 256
}
