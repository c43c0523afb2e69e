package mssqlaudit

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// The fast path. Nearly every record is one flat object of scalars, or one
// holding a flat "properties" object: scan reads that shape straight from
// the record, with no parse tree, and take hands its scalars to the Dict and
// the ECS mapping, unescaping only the strings wanted. Anything else —
// nested values, escaped keys, bad JSON — makes scan give up, and Decode
// parses the record with fastjson, which names, values and errors the
// record as it always did. scan accepts nothing fastjson refuses, and gives
// the same values: FuzzDecode compares the two paths.

// A token is one scalar of the record.
type token struct {
	key  []byte // the key, without quotes (it has no escapes)
	val  []byte // a string's raw content, a number's text
	kind uint8
}

const (
	kString  = iota // no backslash
	kEscaped        // a string with backslashes
	kNumber
	kTrue
	kFalse
	kNull
)

// scan tokenizes rec into d.toks, reporting false for a record it leaves
// to fastjson. It sets d.azure when the record has a properties object.
func (d *Decoder) scan(rec []byte) bool {
	d.toks = d.toks[:0]
	i := skipWS(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return false
	}
	i, ok := d.scanObject(rec, i+1, true)
	if !ok {
		return false
	}
	return skipWS(rec, i) == len(rec)
}

// scanObject scans the members of the object whose '{' precedes rec[i]
// and returns the index after its '}'.
func (d *Decoder) scanObject(rec []byte, i int, top bool) (int, bool) {
	i = skipWS(rec, i)
	if i < len(rec) && rec[i] == '}' {
		return i + 1, true
	}
	for {
		// Key: fastjson's parseRawKey, leaving escaped keys to it.
		i = skipWS(rec, i)
		if i >= len(rec) || rec[i] != '"' {
			return 0, false
		}
		ks := i + 1
		if i = quoteOrBackslash(rec, ks); i < 0 || rec[i] != '"' {
			return 0, false
		}
		key := rec[ks:i:i]
		i = skipWS(rec, i+1)
		if i >= len(rec) || rec[i] != ':' {
			return 0, false
		}
		i = skipWS(rec, i+1)
		if i >= len(rec) {
			return 0, false
		}
		t := token{key: key}
		switch c := rec[i]; c {
		case '"':
			vs := i + 1
			e, esc := stringEnd(rec, vs)
			if e < 0 {
				return 0, false
			}
			t.val, i = rec[vs:e:e], e+1
			if esc {
				t.kind = kEscaped
			}
		case '{':
			if !top || string(key) != "properties" {
				return 0, false // nested: the Flattener names it
			}
			d.azure = true
			var ok bool
			if i, ok = d.scanObject(rec, i+1, false); !ok {
				return 0, false
			}
			t.kind = kNull // nothing to take
			t.key = nil
		case 't':
			if len(rec)-i < 4 || string(rec[i:i+4]) != "true" {
				return 0, false
			}
			t.kind, i = kTrue, i+4
		case 'f':
			if len(rec)-i < 5 || string(rec[i:i+5]) != "false" {
				return 0, false
			}
			t.kind, i = kFalse, i+5
		case 'n':
			if len(rec)-i < 4 || string(rec[i:i+4]) != "null" {
				return 0, false
			}
			t.kind, i = kNull, i+4
		default:
			// fastjson's parseRawNumber: a run of number characters;
			// inf and nan, or anything else, go to fastjson.
			s := i
			for i < len(rec) && isNumChar(rec[i]) {
				i++
			}
			if i == s || i == s+1 && (rec[s] == '-' || rec[s] == '+') && i < len(rec) {
				return 0, false
			}
			t.kind, t.val = kNumber, rec[s:i:i]
		}
		if t.key != nil {
			d.toks = append(d.toks, t)
		}
		i = skipWS(rec, i)
		if i >= len(rec) {
			return 0, false
		}
		switch rec[i] {
		case ',':
			i++
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func isNumChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+'
}

// stringEnd returns the index of the quote closing the string whose
// content starts at rec[i], -1 if there is none, and whether the content
// holds a backslash. A quote closes the string when an even number of
// backslashes precede it, as fastjson's parseRawString has it.
func stringEnd(rec []byte, i int) (int, bool) {
	esc := false
	for {
		j := quoteOrBackslash(rec, i)
		if j < 0 {
			return -1, esc
		}
		if rec[j] == '"' {
			return j, esc
		}
		esc = true
		i = j + 2 // past the escaped byte, whatever it is
	}
}

// quoteOrBackslash returns the index of the first '"' or '\\' in rec from
// i on, -1 if there is none. It tests eight bytes at a time.
func quoteOrBackslash(rec []byte, i int) int {
	const (
		lo     = 0x0101010101010101
		hi     = 0x8080808080808080
		quote  = '"' * lo
		bslash = '\\' * lo
	)
	for ; i+8 <= len(rec); i += 8 {
		w := binary.LittleEndian.Uint64(rec[i:])
		q, b := w^quote, w^bslash
		// A zero byte of q or b is a match; this finds the first exactly
		// (the borrow only runs past a match, toward higher bytes).
		if m := ((q-lo)&^q | (b-lo)&^b) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(rec); i++ {
		if c := rec[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// take hands the scanned scalars to the Dict and the ECS mapping.
func (d *Decoder) take() {
	d.buf = d.buf[:0]
	for k := range d.toks {
		t := &d.toks[k]
		id, keep, p := d.want(t.key)
		if !keep && p == nil {
			continue
		}
		var s string
		switch t.kind {
		case kString, kNumber:
			s = view.String(t.val)
		case kEscaped:
			// A buffer that grows leaves earlier strings pointing at the
			// old array, which stays alive and unchanged.
			start := len(d.buf)
			d.buf = unescape(d.buf, t.val)
			s = view.String(d.buf[start:])
		case kTrue:
			s = "true"
		case kFalse:
			s = "false"
		default:
			continue
		}
		if keep {
			d.ev.Fields.Set(id, s)
		}
		if p != nil {
			*p = s
		}
	}
}

// unescape appends the JSON string content s unescaped to b, as fastjson's
// unescapeStringBestEffort does: bad escapes stay as they are.
func unescape(b, s []byte) []byte {
	for len(s) > 0 {
		n := bytes.IndexByte(s, '\\')
		if n < 0 {
			return append(b, s...)
		}
		b = append(b, s[:n]...)
		s = s[n+1:]
		if len(s) == 0 {
			break
		}
		ch := s[0]
		s = s[1:]
		switch ch {
		case '"', '\\', '/':
			b = append(b, ch)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if len(s) < 4 {
				b = append(b, `\u`...)
				break
			}
			xs := s[:4]
			x, err := strconv.ParseUint(view.String(xs), 16, 16)
			if err != nil {
				b = append(b, `\u`...)
				break
			}
			s = s[4:]
			if !utf16.IsSurrogate(rune(x)) {
				b = utf8.AppendRune(b, rune(x))
				break
			}
			if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
				b = append(b, `\u`...)
				b = append(b, xs...)
				break
			}
			x1, err := strconv.ParseUint(view.String(s[2:6]), 16, 16)
			if err != nil {
				b = append(b, `\u`...)
				b = append(b, xs...)
				break
			}
			b = utf8.AppendRune(b, utf16.DecodeRune(rune(x), rune(x1)))
			s = s[6:]
		default:
			b = append(b, '\\', ch)
		}
	}
	return b
}
