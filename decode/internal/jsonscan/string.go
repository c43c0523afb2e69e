package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
)

// stop marks the bytes that end a run of plain bytes in a string: the
// closing quote, a backslash, and the control characters JSON forbids.
var stop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const (
	lsb = 0x0101010101010101 // the low bit of each byte of a word
	msb = 0x8080808080808080 // the high bit of each byte
)

// stops marks, by its high bit, each byte of x (eight string bytes, the
// first in the low byte) that is a stop byte. Flipping bit 1 turns '"'
// into 0x20 and keeps the control characters below it, so one subtraction
// finds both; another finds '\\'. A byte that wraps round in either
// subtraction has its high bit set; &^ x drops the bytes that had it set
// already (0x80 and up, never a stop). Only the lowest mark is sure, which
// is all nextStop uses: a borrow runs upwards from a marked byte and may
// mark the bytes above it.
func stops(x uint64) uint64 {
	lt := (x ^ (lsb * 0x02)) - lsb*0x21 // '"' or below 0x20
	bs := (x ^ (lsb * '\\')) - lsb      // '\\'
	return (lt | bs) &^ x & msb
}

// nextStop returns the offset of the first stop byte in d at or after i,
// or len(d). It goes sixteen bytes a round, and works out which of the two
// words holds the stop without a branch: most keys and many values end
// within sixteen bytes, at no predictable place.
func nextStop(d []byte, i int) int {
	for ; i+16 <= len(d); i += 16 {
		w := d[i : i+16 : i+16]
		lo := stops(binary.LittleEndian.Uint64(w[:8]))
		hi := stops(binary.LittleEndian.Uint64(w[8:16]))
		if lo|hi != 0 {
			n := bits.TrailingZeros64(lo) >> 3 // 8 when lo is 0
			return i + n + n>>3*(bits.TrailingZeros64(hi)>>3)
		}
	}
	for i < len(d) && !stop[d[i]] {
		i++
	}
	return i
}

// scanString checks the string that opens at s.pos, moves past it, and
// returns the offset past its closing quote and whether it holds escapes.
func (s *Scanner) scanString() (end int, escaped bool) {
	d := s.data
	i := s.pos + 1
	for {
		if i = nextStop(d, i); i >= len(d) {
			s.unterminated()
			return 0, false
		}
		if d[i] == '"' {
			s.pos = i + 1
			return i + 1, escaped
		}
		if i+1 < len(d) && d[i] == '\\' && d[i+1] == '\\' {
			i += 2 // the usual escape, in a Windows path
		} else if i = s.escape(i); i < 0 {
			return 0, false
		}
		escaped = true
	}
}

// readString is scanString that also returns the string's text: the
// record's bytes if it holds no escapes, else the text unescaped into the
// buffer in the same pass, from the first escape on. The text is nil on
// error.
func (s *Scanner) readString() (end int, text []byte, escaped bool) {
	d := s.data
	i := nextStop(d, s.pos+1)
	if i < len(d) && d[i] == '"' {
		start := s.pos + 1
		s.pos = i + 1
		return i + 1, d[start:i:i], false
	}
	// Copy what came before the first stop, then go on copying, eight
	// bytes at a time, into room for the rest of the record: the text is
	// never longer than what it is read from. The last word's overshoot
	// lands in bytes not handed out yet.
	from := s.pos + 1
	start := len(s.buf)
	buf := slices.Grow(s.buf, len(d)-from+8)
	dst := buf[start : start+len(d)-from+8]
	w := copy(dst, d[from:min(i, len(d))])
	for {
		if i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i : i+8])
			binary.LittleEndian.PutUint64(dst[w:w+8], x)
			m := stops(x)
			if m == 0 {
				i, w = i+8, w+8
				continue
			}
			n := bits.TrailingZeros64(m) >> 3
			i, w = i+n, w+n
		} else {
			for i < len(d) && !stop[d[i]] {
				dst[w] = d[i]
				i, w = i+1, w+1
			}
			if i >= len(d) {
				s.unterminated()
				return 0, nil, false
			}
		}
		if d[i] == '"' {
			break
		}
		if i+1 < len(d) && d[i] == '\\' && d[i+1] == '\\' {
			dst[w] = '\\'
			i, w = i+2, w+1
			continue
		}
		next := s.escape(i)
		if next < 0 {
			return 0, nil, false
		}
		// A \u escape may take the next one along as the other half of a
		// surrogate pair: check that one first.
		if d[i+1] == 'u' && next+1 < len(d) && d[next] == '\\' && d[next+1] == 'u' && s.escape(next) < 0 {
			return 0, nil, false
		}
		i, w = unescapeOne(d, i, dst, w)
	}
	s.pos = i + 1
	s.buf = buf[:start+w]
	return i + 1, buf[start : start+w : start+w], true
}

func (s *Scanner) unterminated() {
	s.fail(len(s.data), "unterminated string (opened at byte "+strconv.Itoa(s.pos)+")")
}

// escape checks the escape sequence at d[i] and returns the offset past
// it, or -1 after failing; d[i] is a stop byte other than '"', so a
// backslash or a control character.
func (s *Scanner) escape(i int) int {
	d := s.data
	if d[i] != '\\' {
		s.fail(i, "control character "+describe(d[i])+" in string (escape it)")
		return -1
	}
	if i+1 >= len(d) {
		s.unterminated()
		return -1
	}
	switch d[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		for j := i + 2; j < i+6; j++ {
			if j >= len(d) {
				s.unterminated()
				return -1
			}
			if unhex[d[j]] < 0 {
				s.fail(j, "want four hex digits after \\u, got "+describe(d[j]))
				return -1
			}
		}
		return i + 6
	}
	s.fail(i+1, "invalid escape: "+describe(d[i+1])+" after \\ in string")
	return -1
}
