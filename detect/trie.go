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
	// While building, the root has a dense row and other nodes a list of
	// children sorted by class (first child, next sibling): memory in
	// proportion to the nodes, not to nodes × classes.
	size := 1
	for _, l := range lits {
		size += len(l)
	}
	b := newTrieBuilder(n, size)
	for i, l := range lits {
		s := int32(0)
		for j := 0; j < len(l); j++ {
			c := l[j]
			if rev {
				c = l[len(l)-1-j]
			}
			s = b.child(s, uint16(t.class[c]))
		}
		b.own[s] = append(b.own[s], outputs[i]...)
	}
	// Number the nodes depth first (preorder, children by class).
	nodes := len(b.own)
	order := make([]int32, 0, nodes)
	stack := []int32{0}
	var kids []int32
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order = append(order, s)
		kids = b.children(s, kids[:0])
		for k := len(kids) - 1; k >= 0; k-- {
			stack = append(stack, kids[k])
		}
	}
	renum := make([]int32, nodes)
	for i, s := range order {
		renum[s] = int32(i)
	}
	t.root = make([]int32, n)
	for c, ch := range b.root {
		t.root[c] = renum[ch]
	}
	t.nodes = make([]tnode, nodes)
	t.edges = make([]tedge, 0, nodes-1)
	for i, s := range order {
		nd := &t.nodes[i]
		nd.edge = int32(len(t.edges))
		if i > 0 {
			for ch := b.first[s]; ch != 0; ch = b.sib[ch] {
				t.edges = append(t.edges, tedge{child: renum[ch], label: uint8(b.label[ch])})
			}
		}
		nd.nedge = int32(len(t.edges)) - nd.edge
		nd.out = int32(len(t.outs))
		t.outs = append(t.outs, b.own[s]...)
		nd.nout = int32(len(b.own[s]))
	}
	return t
}

// trieBuilder is a trie (or an automaton's trie) while it is built: node 0
// is the root, whose children are found by class in root; the children of
// other nodes are a list from first through sib, ascending by label. 0 is
// no node.
type trieBuilder struct {
	root       []int32
	first, sib []int32
	label      []uint16
	own        [][]int32
}

// newTrieBuilder returns an empty builder with room for nodes nodes (the
// root included): a trie has at most a node a literal byte, and growing
// the lists as they fill copied them over and over.
func newTrieBuilder(classes, nodes int) *trieBuilder {
	b := &trieBuilder{
		root:  make([]int32, classes),
		first: make([]int32, 1, nodes),
		sib:   make([]int32, 1, nodes),
		label: make([]uint16, 1, nodes),
		own:   make([][]int32, 1, nodes),
	}
	return b
}

// child returns the child of s on class c, adding it if missing.
func (b *trieBuilder) child(s int32, c uint16) int32 {
	if s == 0 {
		if ch := b.root[c]; ch != 0 {
			return ch
		}
		ch := b.node(c, 0)
		b.root[c] = ch
		return ch
	}
	prev, cur := int32(0), b.first[s]
	for cur != 0 && b.label[cur] < c {
		prev, cur = cur, b.sib[cur]
	}
	if cur != 0 && b.label[cur] == c {
		return cur
	}
	ch := b.node(c, cur)
	if prev == 0 {
		b.first[s] = ch
	} else {
		b.sib[prev] = ch
	}
	return ch
}

func (b *trieBuilder) node(c uint16, next int32) int32 {
	id := int32(len(b.own))
	b.first = append(b.first, 0)
	b.sib = append(b.sib, next)
	b.label = append(b.label, c)
	b.own = append(b.own, nil)
	return id
}

// children appends the children of s, ascending by class.
func (b *trieBuilder) children(s int32, kids []int32) []int32 {
	if s == 0 {
		for _, ch := range b.root {
			if ch != 0 {
				kids = append(kids, ch)
			}
		}
		return kids
	}
	for ch := b.first[s]; ch != 0; ch = b.sib[ch] {
		kids = append(kids, ch)
	}
	return kids
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
