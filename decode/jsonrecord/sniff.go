package jsonrecord

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as a JSON object: it starts with '{' and ends with '}'.
// It scores below every JSON format that names its shape (windows,
// cloudtrail, cowrie …), which win when they recognise the object.
func Sniff(rec []byte) int {
	rec = bytes.TrimSpace(rec)
	if len(rec) < 2 || rec[0] != '{' || rec[len(rec)-1] != '}' {
		return 0
	}
	return 50
}

// ObjectHead is what the sniffers of JSON formats look in: the first 4 KiB
// of rec without its leading white space, nil when that does not start an
// object. Sniffing a whole record would cost as much as decoding it.
func ObjectHead(rec []byte) []byte {
	if len(rec) > 4096 {
		rec = rec[:4096]
	}
	rec = bytes.TrimLeft(rec, " \t\r\n")
	if len(rec) == 0 || rec[0] != '{' {
		return nil
	}
	return rec
}

// TopKeys reports which of keys rec, a JSON object or the head of one
// (ObjectHead), has at its top level: bit i is set when keys[i] is one of
// its keys, not a key of an object within it. fold compares ASCII
// case-insensitively. A sniffer asks it so that a record wrapped in
// another object ({"event":{…}}), which its decoder refuses, is not
// claimed. It reads rec once, does not check it is valid JSON, and
// compares keys as they are written (escapes are not undone).
func TopKeys(rec []byte, fold bool, keys ...string) uint64 {
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return 0
	}
	var found uint64
	depth := 0
	for ; i < len(rec); i++ {
		switch rec[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return found
			}
		case '"':
			end := stringEnd(rec, i+1)
			if end < 0 {
				return found
			}
			if depth == 1 {
				if j := skipSpace(rec, end+1); j < len(rec) && rec[j] == ':' {
					k := rec[i+1 : end]
					for n, key := range keys {
						if n < 64 && (string(k) == key || fold && equalFold(k, key)) {
							found |= 1 << n
						}
					}
				}
			}
			i = end
		}
	}
	return found
}

// stringEnd returns the index of the quote that closes the string whose
// text starts at i, -1 when rec ends first.
func stringEnd(rec []byte, i int) int {
	for {
		j := bytes.IndexByte(rec[i:], '"')
		if j < 0 {
			return -1
		}
		j += i
		bs := 0 // backslashes before the quote: an odd number escapes it
		for k := j - 1; k >= i && rec[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return j
		}
		i = j + 1
	}
}

func skipSpace(rec []byte, i int) int {
	for i < len(rec) && (rec[i] == ' ' || rec[i] == '\t' || rec[i] == '\r' || rec[i] == '\n') {
		i++
	}
	return i
}

// equalFold reports whether k and s are equal ASCII case-insensitively.
func equalFold(k []byte, s string) bool {
	if len(k) != len(s) {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], s[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
