// Package jsonscan reads one JSON record in a single pass without building
// a tree, for decoders that want a few of a record's values and pass over
// the rest. The caller walks objects and arrays itself (Object, then Key
// or Member; Array, then More) and takes each value as a Value: its kind
// and its place in the record. A value the caller wants it reads with Read,
// or with Text afterwards; the others are checked and passed over, their
// strings never unescaped. An object or array passed over whole can be
// walked into later (Seek). KeyIf confirms an expected key with a compare.
//
// The whole record is checked as encoding/json would check it: a record
// that is not JSON gives a *SyntaxError with the offset of the fault.
// Unlike encoding/json, strings that are not valid UTF-8 are kept as they
// are rather than repaired.
//
// Texts and keys alias the record when they hold no escapes and the
// Scanner's own buffer when they do. Both stay valid, and unchanged, until
// the next Reset. A Scanner allocates only while its buffer grows to the
// size of the largest records, and is not safe for concurrent use.
package jsonscan

// MaxDepth is how deeply objects and arrays may nest, as in encoding/json.
const MaxDepth = 10000

// Scanner reads one record at a time. The zero Scanner is ready for Reset.
type Scanner struct {
	data  []byte
	pos   int
	depth int
	// first is set between an opening bracket and the first Key or More
	// of it, which must not find a comma.
	first bool
	buf   []byte // unescaped strings of the record; only ever appended to
	err   *SyntaxError
}

// Value is a value the Scanner read or passed over.
type Value struct {
	// Start and End delimit the value's text in the record, quotes and
	// brackets included.
	Start, End int
	Kind       Kind
	escaped    bool
}

// Reset starts a new record. Texts and keys of the previous one become
// invalid.
func (s *Scanner) Reset(record []byte) {
	s.data, s.pos, s.depth, s.first, s.err = record, 0, 0, false, nil
	s.buf = s.buf[:0]
}

// Err returns the first syntax error met in the record, or nil. After an
// error every method returns its zero answer.
func (s *Scanner) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// Offset returns where the Scanner is in the record.
func (s *Scanner) Offset() int { return s.pos }

// Seek moves to offset off, which must be the Start of a Value read in
// this record: a Value passed over whole can then be walked into.
func (s *Scanner) Seek(off int) {
	s.pos, s.first = off, false
}

// Peek returns the kind of the next value without reading it, as its
// first byte tells; Invalid at the end of the record or where no value can
// start. Reading the value checks the rest.
func (s *Scanner) Peek() Kind {
	if s.err != nil {
		return Invalid
	}
	return kindOf[s.skipSpace()]
}

// End checks that nothing but white space follows the top-level value, and
// returns the record's syntax error, if any.
func (s *Scanner) End() error {
	if s.err == nil {
		if s.skipSpace(); s.pos < len(s.data) {
			s.fail(s.pos, "unexpected "+describe(s.data[s.pos])+" after the top-level value")
		}
	}
	return s.Err()
}

// skipSpace moves past white space and returns the next byte, 0 at the end
// of the record.
func (s *Scanner) skipSpace() byte {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.data[s.pos]
	}
	return s.skipSpaceSlow()
}

func (s *Scanner) skipSpaceSlow() byte {
	for ; s.pos < len(s.data); s.pos++ {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// unexpected fails at the current byte, which is not what want says.
func (s *Scanner) unexpected(want string) {
	if s.pos >= len(s.data) {
		s.fail(len(s.data), "unexpected end of record, "+want)
		return
	}
	s.fail(s.pos, "unexpected "+describe(s.data[s.pos])+", "+want)
}

// fail records the first error; later ones follow from it.
func (s *Scanner) fail(off int, msg string) {
	if s.err == nil {
		s.err = &SyntaxError{Offset: off, Msg: msg}
	}
}
