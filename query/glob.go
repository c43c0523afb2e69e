package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// elem is one part of a text: a literal (kind 0) or a wildcard, * (any
// run of characters) or ? (one character).
type elem struct {
	kind byte
	lit  string
}

// lower folds s the way values are folded when matched: rune by rune.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.Map(unicode.ToLower, s)
		}
	}
	return s
}

// glob reports whether s matches p without regard to case (p's literals
// are lowered). It backtracks only to the last *, so it runs in
// O(len(p)·len(s)) at worst.
func glob(p []elem, s string) bool {
	if len(p) == 3 && p[0].kind == '*' && p[1].kind == 0 && p[2].kind == '*' {
		return containsFold(s, p[1].lit) // a bare word: the common case
	}
	pi, si := 0, 0
	star, starS := -1, 0
	for {
		if pi < len(p) {
			switch e := p[pi]; e.kind {
			case '*':
				if pi == len(p)-1 {
					return true // a trailing * takes the rest
				}
				star, starS = pi, si
				pi++
				continue
			case '?':
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			default:
				if n, ok := prefixFold(s[si:], e.lit); ok {
					si += n
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if star < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = star+1, starS
	}
}

// prefixFold reports whether s begins with lit (lowered) without regard
// to case, and how many bytes of s that prefix takes.
func prefixFold(s, lit string) (int, bool) {
	i, j := 0, 0
	for j < len(lit) {
		if i >= len(s) {
			return 0, false
		}
		c, l := s[i], lit[j]
		if c < utf8.RuneSelf && l < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != l {
				return 0, false
			}
			i++
			j++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		lr, m := utf8.DecodeRuneInString(lit[j:])
		if unicode.ToLower(r) != lr {
			return 0, false
		}
		i += n
		j += m
	}
	return i, true
}

// compareFold compares a and b rune by rune without regard to case.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, n := utf8.DecodeRuneInString(a)
		rb, m := utf8.DecodeRuneInString(b)
		ra, rb = unicode.ToLower(ra), unicode.ToLower(rb)
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		a, b = a[n:], b[m:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// containsFold reports whether s holds lit (lowered) without regard to
// case. It skips ahead to the places where lit's first byte, in either
// case, stands.
func containsFold(s, lit string) bool {
	if lit == "" {
		return true
	}
	c0 := lit[0]
	// Only the Kelvin sign lowers to an ASCII letter (k) from outside
	// ASCII: for that letter, and non-ASCII ones, go rune by rune.
	if c0 >= utf8.RuneSelf || c0 == 'k' {
		for i := 0; i < len(s); {
			if _, ok := prefixFold(s[i:], lit); ok {
				return true
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
		return false
	}
	up := c0
	if 'a' <= c0 && c0 <= 'z' {
		up -= 'a' - 'A'
	}
	for i := 0; i < len(s); {
		j := indexEither(s[i:], c0, up)
		if j < 0 {
			return false
		}
		i += j
		if _, ok := prefixFold(s[i:], lit); ok {
			return true
		}
		i++
	}
	return false
}

// indexEither is the index of the first a or b in s, or -1.
func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	j := strings.IndexByte(s, b)
	switch {
	case i < 0:
		return j
	case j < 0 || i < j:
		return i
	}
	return j
}
