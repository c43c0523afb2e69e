package detect

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// needsLower reports whether s changes when lowered: it holds an ASCII
// capital or any non-ASCII byte (which may or may not fold; the slow path
// decides).
func needsLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c-'A' < 26 || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// appendLower appends s in lower case, as strings.ToLower would give it for
// valid UTF-8, without allocating when dst has room. ASCII goes byte by byte;
// the rest of the string is folded rune by rune from the first non-ASCII
// byte on. Invalid UTF-8 bytes are copied as they are, so they cannot
// accidentally equal a literal's U+FFFD.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendLowerUnicode(dst, s[i:])
		}
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendLowerUnicode(dst []byte, s string) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[0])
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		s = s[n:]
	}
	return dst
}

// bytesString views b as a string without copying. The scratch arena hands
// out such views and only overwrites them on the next event, after every
// use within one Match has ended.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// lowersToASCII reports whether lowering s makes an ASCII byte out of a
// non-ASCII rune: U+0130 (İ) lowers to i and U+212A (Kelvin sign) to k,
// and no other rune lowers to ASCII. Otherwise the ASCII runs of s lowered
// are those of its lower case, so ASCII literals are found in s with ASCII
// case folding alone.
// It may report true for other strings holding their first bytes.
func lowersToASCII(s string) bool {
	return strings.IndexByte(s, 0xC4) >= 0 || strings.IndexByte(s, 0xE2) >= 0
}
