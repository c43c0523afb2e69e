package ingest

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// maxJSONDepth bounds nesting: the scanner recurses, and a body of 64 MiB of
// '[' must not exhaust the stack. Real events nest a handful of levels.
const maxJSONDepth = 256

// syntaxError says what is wrong with a JSON text and where (a 0-based byte
// offset into the record or body scanned).
type syntaxError struct {
	Offset int
	Msg    string
}

func (e *syntaxError) Error() string { return e.Msg + " at byte " + strconv.Itoa(e.Offset) }

// span is a record's extent in the body.
type span struct{ start, end int }

// jsonScanner validates JSON text (RFC 8259) with exact error offsets, which
// fastjson's errors do not give, and in the same pass notes the first string
// longer than maxField and, when asked, the extents of one array's elements.
// It allocates only on error and is reused from record to record.
type jsonScanner struct {
	b        []byte
	maxField int // 0: no check

	long     bool   // a string longer than maxField was seen
	longKey  []byte // the field it belongs to (nil outside an object)
	longName bool   // the over-long string was the field name itself

	elemDepth int // collect elements of the array at this depth (0: none)
	elems     []span
}

func (s *jsonScanner) reset(b []byte, maxField int) {
	s.b, s.maxField = b, maxField
	s.long, s.longKey, s.longName = false, nil, false
	s.elemDepth = 0
	s.elems = s.elems[:0]
}

// validate checks that b holds exactly one JSON value, surrounded by
// whitespace at most.
func (s *jsonScanner) validate(b []byte, maxField int) *syntaxError {
	s.reset(b, maxField)
	i := s.ws(0)
	i, err := s.value(i, 0, nil)
	if err != nil {
		return err
	}
	if i = s.ws(i); i < len(b) {
		return s.unexpected(i, "after the JSON value")
	}
	return nil
}

func (s *jsonScanner) ws(i int) int { return skipWS(s.b, i) }

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (s *jsonScanner) value(i, depth int, key []byte) (int, *syntaxError) {
	if i >= len(s.b) {
		return i, s.eof(i, "expected a value")
	}
	switch c := s.b[i]; c {
	case '{':
		return s.object(i, depth+1)
	case '[':
		return s.array(i, depth+1, key)
	case '"':
		end, err := s.str(i)
		if err == nil && s.maxField > 0 && end-i-2 > s.maxField {
			s.noteLong(key, false)
		}
		return end, err
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.number(i)
		}
		return i, s.unexpected(i, "where a value was expected")
	}
}

func (s *jsonScanner) noteLong(key []byte, name bool) {
	if !s.long {
		s.long, s.longKey, s.longName = true, key, name
	}
}

func (s *jsonScanner) object(i, depth int) (int, *syntaxError) {
	if depth > maxJSONDepth {
		return i, &syntaxError{i, fmt.Sprintf("nesting deeper than %d levels", maxJSONDepth)}
	}
	b := s.b
	i = s.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return i, s.eof(i, "expected a field name")
		}
		if b[i] != '"' {
			return i, s.unexpected(i, "where a field name was expected")
		}
		end, err := s.str(i)
		if err != nil {
			return end, err
		}
		key := b[i+1 : end-1]
		if s.maxField > 0 && len(key) > s.maxField {
			s.noteLong(key, true)
		}
		i = s.ws(end)
		if i >= len(b) {
			return i, s.eof(i, "expected ':'")
		}
		if b[i] != ':' {
			return i, s.unexpected(i, "where ':' was expected")
		}
		if i, err = s.value(s.ws(i+1), depth, key); err != nil {
			return i, err
		}
		if i = s.ws(i); i >= len(b) {
			return i, s.eof(i, "expected ',' or '}'")
		}
		switch b[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			return i + 1, nil
		default:
			return i, s.unexpected(i, "where ',' or '}' was expected")
		}
	}
}

func (s *jsonScanner) array(i, depth int, key []byte) (int, *syntaxError) {
	if depth > maxJSONDepth {
		return i, &syntaxError{i, fmt.Sprintf("nesting deeper than %d levels", maxJSONDepth)}
	}
	b := s.b
	collect := depth == s.elemDepth
	i = s.ws(i + 1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		start := i
		end, err := s.value(i, depth, key)
		if err != nil {
			return end, err
		}
		if collect {
			s.elems = append(s.elems, span{start, end})
		}
		if i = s.ws(end); i >= len(b) {
			return i, s.eof(i, "expected ',' or ']'")
		}
		switch b[i] {
		case ',':
			i = s.ws(i + 1)
		case ']':
			return i + 1, nil
		default:
			return i, s.unexpected(i, "where ',' or ']' was expected")
		}
	}
}

// str scans the string starting at the quote at i and returns the offset
// just past its closing quote. A plain loop over a table beats
// bytes.IndexByte here: most strings in events are a few dozen bytes.
func (s *jsonScanner) str(i int) (int, *syntaxError) {
	b := s.b
	p := i + 1
	for {
		// Eight bytes at a time while none of them ends the plain run:
		// string content is most of a record's bytes.
		for p+8 <= len(b) && !hasStrSpecial(binary.LittleEndian.Uint64(b[p:])) {
			p += 8
		}
		for p < len(b) && !strSpecial[b[p]] {
			p++
		}
		if p >= len(b) {
			return len(b), &syntaxError{i, "unterminated string"}
		}
		switch c := b[p]; {
		case c == '"':
			return p + 1, nil
		case c < 0x20:
			return p, &syntaxError{p, fmt.Sprintf("control character 0x%02x in string", c)}
		}
		// A backslash.
		if p+1 >= len(b) {
			return p, &syntaxError{p, "unterminated escape"}
		}
		switch b[p+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			p += 2
		case 'u':
			if p+6 > len(b) || !isHex(b[p+2]) || !isHex(b[p+3]) || !isHex(b[p+4]) || !isHex(b[p+5]) {
				return p, &syntaxError{p, "invalid \\u escape"}
			}
			p += 6
		default:
			return p, &syntaxError{p, "invalid escape " + quoteByte(b[p+1], "\\")}
		}
	}
}

// hasStrSpecial reports whether any byte of w is a quote, a backslash or a
// control character (below 0x20), with the classic SWAR zero-byte test.
func hasStrSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	less20 := (w - 0x20*ones) & ^w & highs
	return less20|zero(w^('"'*ones))|zero(w^('\\'*ones)) != 0
}

// strSpecial marks the bytes that end a run of plain string content.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *jsonScanner) number(i int) (int, *syntaxError) {
	b := s.b
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = s.digits(i)
	default:
		return i, &syntaxError{start, "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || b[i+1] < '0' || b[i+1] > '9' {
			return i, &syntaxError{start, "invalid number"}
		}
		i = s.digits(i + 1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, &syntaxError{start, "invalid number"}
		}
		i = s.digits(i)
	}
	return i, nil
}

func (s *jsonScanner) digits(i int) int {
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		i++
	}
	return i
}

func (s *jsonScanner) literal(i int, lit string) (int, *syntaxError) {
	if len(s.b)-i < len(lit) || string(s.b[i:i+len(lit)]) != lit {
		return i, s.unexpected(i, "where a value was expected")
	}
	return i + len(lit), nil
}

func (s *jsonScanner) unexpected(i int, where string) *syntaxError {
	return &syntaxError{i, "unexpected " + quoteByte(s.b[i], "") + " " + where}
}

func (s *jsonScanner) eof(i int, want string) *syntaxError {
	return &syntaxError{i, "unexpected end of input, " + want}
}

// quoteByte names a byte for a message: printable ASCII as itself, anything
// else by its code, so that replies stay short and valid UTF-8.
func quoteByte(c byte, prefix string) string {
	if c > 0x20 && c < 0x7f {
		return "'" + prefix + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
