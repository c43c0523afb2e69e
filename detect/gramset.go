package detect

import (
	"encoding/binary"
	"unsafe"
)

// A gramSet finds substring literals of four bytes or more without walking
// an automaton byte by byte. Every literal has a trigram at its offset 0 and
// one at offset 1, so looking at the trigrams at even offsets of the value
// only, one of them lands on each occurrence; a 65,536-bit table of the
// literals' hashed trigrams turns away nearly all positions with a load and
// a bit test that do not depend on each other (the CPU overlaps them, where
// an automaton's steps wait on one another). Surviving positions are
// checked exactly by a walk of the literals' trie from there, which stops
// at the first byte no literal continues with.
//
// Trigrams are folded with |0x20, which maps A–Z onto a–z (and a few
// punctuation marks onto others): a superset filter, never a miss.
type gramSet struct {
	bits [1 << 10]uint64
	// step is how far apart the probed trigrams are: every literal has
	// len >= step+2 and its trigrams at offsets 0..step-1 are in bits, so
	// probing the value at every step-th offset lands on one of them.
	step int
	t    *trie // of the literals, reporting their ids
	// pre holds the hashed first four bytes (folded like the trigrams) of
	// every literal: a position whose four bytes miss it starts none, so
	// most candidate positions are turned away without a trie walk.
	pre [1 << (preBits - 6)]uint64
	// pre8: every literal has eight bytes or more, and pre holds their
	// first eight (the first four of "event::clear" let every "EventID"
	// through to a trie walk; eight do not).
	pre8 bool
}

const preBits = 18

func preHash(g uint32) uint32 { return ((g | 0x20202020) * 0x9E3779B1) >> (32 - preBits) }

func preHash8(g uint64) uint32 {
	return uint32(((g | 0x2020202020202020) * 0x9E3779B97F4A7C15) >> (64 - preBits))
}

// maxGramStep bounds the probe step (and the trigrams a literal puts in
// the table).
const maxGramStep = 8

// minGramLit is the shortest literal a gramSet takes.
const minGramLit = 4

func triHash(g uint32) uint32 { return ((g | 0x202020) * 0x9E3779B1) >> 16 }

func newGramSet(lits []string, outs [][]int32) *gramSet {
	g := &gramSet{t: newTrie(lits, outs, false), step: maxGramStep}
	for _, l := range lits {
		g.step = min(g.step, len(l)-2)
	}
	g.pre8 = true
	for _, l := range lits {
		g.pre8 = g.pre8 && len(l) >= 8
	}
	for _, l := range lits {
		h := preHash(binary.LittleEndian.Uint32([]byte(l[:4])))
		if g.pre8 {
			h = preHash8(binary.LittleEndian.Uint64([]byte(l[:8])))
		}
		g.pre[h>>6] |= 1 << (h & 63)
		for off := 0; off < g.step; off++ {
			h := triHash(uint32(l[off]) | uint32(l[off+1])<<8 | uint32(l[off+2])<<16)
			g.bits[h>>6] |= 1 << (h & 63)
		}
	}
	return g
}

// scan appends the occurrences in s, which must be ASCII or already
// lowered, as (trie node, end - start) pairs: t.outputs(node) ended there.
func (g *gramSet) scan(s string, hits []acHit) []acHit {
	n := len(s)
	step := g.step
	if n < step+2 {
		return hits
	}
	b := unsafe.Slice(unsafe.StringData(s), n)
	checked := -1
	i := 0
	for ; i+4 <= n; i += step {
		h := triHash(binary.LittleEndian.Uint32(b[i:]) & 0xFFFFFF)
		if g.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		hits = g.candidates(s, b, max(i-step+1, checked+1, 0), i, hits)
		checked = i
	}
	// The last trigram, when it ends the value.
	if i+3 == n {
		h := triHash(uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16)
		if g.bits[h>>6]&(1<<(h&63)) != 0 {
			hits = g.candidates(s, b, max(i-step+1, checked+1, 0), i, hits)
		}
	}
	return hits
}

// candidates walks the trie from the positions from..to whose first bytes
// could start a literal.
func (g *gramSet) candidates(s string, b []byte, from, to int, hits []acHit) []acHit {
	n := len(b)
	if g.pre8 {
		for p := from; p <= min(to, n-8); p++ {
			h := preHash8(binary.LittleEndian.Uint64(b[p:]))
			if g.pre[h>>6]&(1<<(h&63)) != 0 {
				hits = g.t.walkLowered(s[p:], false, hits)
			}
		}
		return hits
	}
	for p := from; p <= min(to, n-4); p++ {
		h := preHash(binary.LittleEndian.Uint32(b[p:]))
		if g.pre[h>>6]&(1<<(h&63)) != 0 {
			hits = g.t.walkLowered(s[p:], false, hits)
		}
	}
	return hits
}

// verify appends the literals that occur at p.
func (g *gramSet) verify(b []byte, p int, hits []acHit) []acHit {
	if p < 0 {
		return hits
	}
	return g.t.walkLowered(bytesString(b[p:]), false, hits)
}

// isASCII reports whether s has no byte >= 0x80, eight bytes at a time.
func isASCII(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	var acc uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		acc |= binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		acc |= uint64(b[i])
	}
	return acc&0x8080808080808080 == 0
}

func (g *gramSet) size() int { return len(g.bits)*8 + len(g.pre)*8 + g.t.size() }
