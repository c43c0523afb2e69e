package detect

// A bigram filter is a 4096-bit set of the hashed byte pairs of one value.
// A literal can only occur in a value holding all of its byte pairs, so a
// few bit tests turn away most contains-literals without scanning the value.
// It pays for long values checked against many literals (command lines,
// script blocks, the keyword haystack); short values are scanned directly.
// The literal sets (literalset.go) answer literal atoms without it; it
// serves the atoms still evaluated one by one (atom.go), such as globs and
// the keyword searches the literal sets do not take.
type bigrams [64]uint64

// minFiltered is the shortest value that gets a filter.
const minFiltered = 64

// maxGrams bounds the pairs tested per literal.
const maxGrams = 8

func gramHash(a, b byte) uint16 {
	return uint16((uint32(a)<<8 | uint32(b)) * 0x9E3779B1 >> 20)
}

func (f *bigrams) build(s string) {
	clear(f[:])
	f.add(s, 0)
}

// add adds the pairs of s, the first one paired with prev, and returns the
// last byte.
func (f *bigrams) add(s string, prev byte) byte {
	for i := 0; i < len(s); i++ {
		h := gramHash(prev, s[i])
		f[h>>6] |= 1 << (h & 63)
		prev = s[i]
	}
	return prev
}

// addFolded is add over s with ASCII capitals lowered on the fly. It stops
// and reports false at the first non-ASCII byte, whose lower case only the
// Unicode tables know.
func (f *bigrams) addFolded(s string, prev byte) (byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return prev, false
		}
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		h := gramHash(prev, c)
		f[h>>6] |= 1 << (h & 63)
		prev = c
	}
	return prev, true
}

func (f *bigrams) has(grams []uint16) bool {
	for _, h := range grams {
		if f[h>>6]&(1<<(h&63)) == 0 {
			return false
		}
	}
	return true
}

// literalGrams picks up to maxGrams byte pairs of lit, spread over it.
func literalGrams(lit string) []uint16 {
	n := len(lit) - 1
	if n < 1 {
		return nil
	}
	step := 1
	if n > maxGrams {
		step = (n + maxGrams - 1) / maxGrams
	}
	var out []uint16
	for i := 0; i < n; i += step {
		out = append(out, gramHash(lit[i], lit[i+1]))
	}
	if last := gramHash(lit[n-1], lit[n]); out[len(out)-1] != last {
		out = append(out, last)
	}
	return out
}
