package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// unescape appends the string body raw, checked by scanString, to the
// buffer with its escapes replaced, and returns that part of the buffer.
// A \u escape of half a surrogate pair that has no other half becomes
// U+FFFD, as in encoding/json.
//
// Plain bytes are copied a word at a time into room made beforehand: the
// text is never longer than raw, and eight bytes of slack take the last
// word's overshoot, into bytes not handed out yet.
func (s *Scanner) unescape(raw []byte) []byte {
	start := len(s.buf)
	buf := slices.Grow(s.buf, len(raw)+8)
	dst := buf[start : start+len(raw)+8]
	w, i := 0, 0
	for i+8 <= len(raw) {
		x := binary.LittleEndian.Uint64(raw[i : i+8])
		binary.LittleEndian.PutUint64(dst[w:w+8], x)
		m := backslashes(x)
		if m == 0 {
			i, w = i+8, w+8
			continue
		}
		n := bits.TrailingZeros64(m) >> 3
		i, w = i+n, w+n
		if raw[i+1] == '\\' {
			dst[w] = '\\'
			i, w = i+2, w+1
			continue
		}
		i, w = unescapeOne(raw, i, dst, w)
	}
	for i < len(raw) {
		if raw[i] == '\\' {
			i, w = unescapeOne(raw, i, dst, w)
			continue
		}
		dst[w] = raw[i]
		i, w = i+1, w+1
	}
	s.buf = buf[:start+w]
	return buf[start : start+w : start+w]
}

// unescapeOne writes the escape at raw[i] to dst[w:] and returns the
// offsets past both.
func unescapeOne(raw []byte, i int, dst []byte, w int) (int, int) {
	c := raw[i+1]
	switch c {
	case '\\', '"', '/':
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	default: // 'u'
		r, n := hex4(raw[i+2:]), 6
		if r >= 0xd800 && r < 0xe000 {
			var m int
			r, m = surrogate(r, raw[i+6:])
			n += m
		}
		return i + n, w + utf8.EncodeRune(dst[w:], r)
	}
	dst[w] = c
	return i + 2, w + 1
}

// backslashes marks, by its high bit, each byte of x that is '\\'; the
// lowest mark is exact, as in stops.
func backslashes(x uint64) uint64 {
	b := x ^ (lsb * '\\')
	return (b - lsb) &^ b & msb
}

// surrogate pairs the surrogate r with the \u escape that opens rest, if
// that is its low half, and returns the rune and how many bytes of rest
// the pair took; otherwise U+FFFD and none.
func surrogate(r rune, rest []byte) (rune, int) {
	if r < 0xdc00 && len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' {
		if lo := hex4(rest[2:]); lo >= 0xdc00 && lo < 0xe000 {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 6
		}
	}
	return utf8.RuneError, 0
}

// hex4 reads four hex digits that scanString has checked.
func hex4(b []byte) rune {
	return rune(unhex[b[0]])<<12 | rune(unhex[b[1]])<<8 | rune(unhex[b[2]])<<4 | rune(unhex[b[3]])
}

// unhex is the value of a hex digit, -1 for other bytes.
var unhex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()
