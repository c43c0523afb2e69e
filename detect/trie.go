package detect

// A trie answers the anchored literals of a field: walked from a value's
// start it finds the equal and prefix literals, built over reversed
// literals and walked from the end the suffix ones. A walk stops at the
// first byte no literal continues with, so it reads a few bytes, not the
// value. Edges are labelled with byte classes, ASCII capitals folded as in
// an automaton. The root, where every walk starts, has a dense row; other
// nodes (most have one child) a short sorted list of edges, which keeps the
// trie a few hundred kilobytes where dense rows took megabytes: a walk
// misses the cache less.
type trie struct {
	class [256]uint8
	root  []int32 // by class: the root's child; 0 for none
	nodes []tnode
	edges []tedge
	outs  []int32
}

// tnode is one node: its edges edges[edge:edge+nedge] and the ids of the
// literals ending there, outs[out:out+nout]. Nodes are numbered depth
// first, so that a literal's chain of single-child nodes, and their edges,
// lie one after the other in memory: a deep walk reads sequential lines
// instead of missing the cache at every byte.
type tnode struct {
	edge, nedge, out, nout int32
}

type tedge struct {
	child int32
	label uint8 // byte class
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
	next := make([]int32, n) // dense rows while building
	own := [][]int32{nil}
	for i, l := range lits {
		s := 0
		for j := 0; j < len(l); j++ {
			b := l[j]
			if rev {
				b = l[len(l)-1-j]
			}
			c := int(t.class[b])
			nx := int(next[s*n+c])
			if nx == 0 {
				nx = len(own)
				own = append(own, nil)
				next = append(next, make([]int32, n)...)
				next[s*n+c] = int32(nx)
			}
			s = nx
		}
		own[s] = append(own[s], outputs[i]...)
	}
	// Number the nodes depth first (preorder, children by class).
	order := make([]int32, 0, len(own))
	stack := []int32{0}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order = append(order, s)
		row := next[int(s)*n : int(s)*n+n]
		for c := n - 1; c >= 0; c-- {
			if ch := row[c]; ch != 0 {
				stack = append(stack, ch)
			}
		}
	}
	renum := make([]int32, len(own))
	for i, s := range order {
		renum[s] = int32(i)
	}
	t.root = make([]int32, n)
	for c, ch := range next[:n] {
		t.root[c] = renum[ch]
	}
	t.nodes = make([]tnode, len(own))
	for i, s := range order {
		nd := &t.nodes[i]
		nd.edge = int32(len(t.edges))
		if i > 0 {
			for c, ch := range next[int(s)*n : int(s)*n+n] {
				if ch != 0 {
					t.edges = append(t.edges, tedge{child: renum[ch], label: uint8(c)})
				}
			}
		}
		nd.nedge = int32(len(t.edges)) - nd.edge
		nd.out = int32(len(t.outs))
		t.outs = append(t.outs, own[s]...)
		nd.nout = int32(len(own[s]))
	}
	return t
}

// step returns the child of node on class c, or 0.
func (t *trie) step(node int32, c uint8) int32 {
	if node == 0 {
		return t.root[c]
	}
	nd := &t.nodes[node]
	for _, e := range t.edges[nd.edge : nd.edge+nd.nedge] {
		if e.label == c {
			return e.child
		}
	}
	return 0
}

// walk follows s from its start (or its end, for a reversed trie) and
// appends (node, length matched) for every node on the way where literals
// end. It reports false when it met a non-ASCII byte: the value must then
// be lowered and walked again.
func (t *trie) walk(s string, rev bool, hits []acHit) ([]acHit, bool) {
	node := int32(0)
	for j := 0; j < len(s); j++ {
		b := s[j]
		if rev {
			b = s[len(s)-1-j]
		}
		if b >= 0x80 {
			return hits, false
		}
		node = t.step(node, t.class[b])
		if node == 0 {
			break
		}
		if t.nodes[node].nout != 0 {
			hits = append(hits, acHit{row: uint32(node), end: int32(j + 1)})
		}
	}
	return hits, true
}

// walkLowered is walk over a lowered value, which may hold non-ASCII bytes.
func (t *trie) walkLowered(s string, rev bool, hits []acHit) []acHit {
	node := int32(0)
	for j := 0; j < len(s); j++ {
		b := s[j]
		if rev {
			b = s[len(s)-1-j]
		}
		node = t.step(node, t.class[b])
		if node == 0 {
			break
		}
		if t.nodes[node].nout != 0 {
			hits = append(hits, acHit{row: uint32(node), end: int32(j + 1)})
		}
	}
	return hits
}

func (t *trie) outputs(node uint32) []int32 {
	nd := &t.nodes[node]
	return t.outs[nd.out : nd.out+nd.nout]
}

func (t *trie) size() int {
	return 256 + 4*len(t.root) + 16*len(t.nodes) + 8*len(t.edges) + 4*len(t.outs)
}
