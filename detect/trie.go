package detect

// A trie answers the anchored literals of a field: walked from a value's
// start it finds the equal and prefix literals, built over reversed
// literals and walked from the end the suffix ones. A walk stops at the
// first byte no literal continues with, so it reads a few bytes, not the
// value. Rows are dense over byte classes, ASCII capitals folded as in an
// automaton.
type trie struct {
	class [256]uint8
	nc    int
	next  []int32 // by node*nc + class; 0: no child
	outAt []int32 // outs[outAt[n]:outAt[n+1]]: ids of literals ending at n
	outs  []int32
}

// newTrie builds the trie of lits, reversed when rev; outputs[i] are the
// ids reported when lits[i] is found.
func newTrie(lits []string, outputs [][]int32, rev bool) *trie {
	t := &trie{}
	var used [256]bool
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			used[l[i]] = true
		}
	}
	n := 1
	for b := 0; b < 256; b++ {
		if used[b] {
			t.class[b] = uint8(n)
			n++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		if !used[b] {
			t.class[b] = t.class[b+'a'-'A']
		}
	}
	t.nc = n
	t.next = make([]int32, n)
	own := [][]int32{nil}
	for i, l := range lits {
		s := 0
		for j := 0; j < len(l); j++ {
			b := l[j]
			if rev {
				b = l[len(l)-1-j]
			}
			c := int(t.class[b])
			nx := int(t.next[s*n+c])
			if nx == 0 {
				nx = len(own)
				own = append(own, nil)
				t.next = append(t.next, make([]int32, n)...)
				t.next[s*n+c] = int32(nx)
			}
			s = nx
		}
		own[s] = append(own[s], outputs[i]...)
	}
	t.outAt = make([]int32, len(own)+1)
	for s, o := range own {
		t.outAt[s] = int32(len(t.outs))
		t.outs = append(t.outs, o...)
	}
	t.outAt[len(own)] = int32(len(t.outs))
	return t
}

// walk follows s from its start (or its end, for a reversed trie) and
// appends (node, length matched) for every node on the way where literals
// end. It reports false when it met a non-ASCII byte: the value must then
// be lowered and walked again.
func (t *trie) walk(s string, rev bool, hits []acHit) ([]acHit, bool) {
	node, nc := int32(0), int32(t.nc)
	for j := 0; j < len(s); j++ {
		b := s[j]
		if rev {
			b = s[len(s)-1-j]
		}
		if b >= 0x80 {
			return hits, false
		}
		node = t.next[node*nc+int32(t.class[b])]
		if node == 0 {
			break
		}
		if t.outAt[node] != t.outAt[node+1] {
			hits = append(hits, acHit{row: uint32(node), end: int32(j + 1)})
		}
	}
	return hits, true
}

// walkLowered is walk over a lowered value, which may hold non-ASCII bytes.
func (t *trie) walkLowered(s string, rev bool, hits []acHit) []acHit {
	node, nc := int32(0), int32(t.nc)
	for j := 0; j < len(s); j++ {
		b := s[j]
		if rev {
			b = s[len(s)-1-j]
		}
		node = t.next[node*nc+int32(t.class[b])]
		if node == 0 {
			break
		}
		if t.outAt[node] != t.outAt[node+1] {
			hits = append(hits, acHit{row: uint32(node), end: int32(j + 1)})
		}
	}
	return hits
}

func (t *trie) outputs(node uint32) []int32 { return t.outs[t.outAt[node]:t.outAt[node+1]] }

func (t *trie) size() int { return 4*len(t.next) + 4*len(t.outAt) + 4*len(t.outs) + 256 }
