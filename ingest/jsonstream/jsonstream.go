// Package jsonstream splits a stream of JSON records in the shapes tools
// write them: one object a line, objects pretty-printed one after another,
// arrays of objects, and evtx_dump's default output (a "Record N" line
// before each pretty-printed record). Each record keeps the line it starts
// on, for evidence.
package jsonstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Splitter reads records from a stream. Text between records that is not
// JSON (other than evtx_dump's "Record N" lines and blank lines) is given
// as a record of its own, a line at a time, for the decoder to refuse with
// its line number; a record cut short at the end is given as it is.
type Splitter struct {
	br   *bufio.Reader
	line int // lines read so far

	rest     []byte // the unread part of the current line
	restLine int    // its line number

	inArray bool // between the elements of a top-level array
	buf     []byte
}

// New returns a Splitter reading br.
func New(br *bufio.Reader) *Splitter { return &Splitter{br: br} }

// Next returns the next record and the line it starts on; io.EOF after the
// last. A record that spanned lines is compacted onto one; the record is
// the caller's to keep.
func (s *Splitter) Next() ([]byte, int, error) {
	for {
		l, n, err := s.nextLine()
		if err != nil {
			return nil, 0, err
		}
		l = bytes.TrimLeft(l, " \t\r\n\ufeff")
		if s.inArray {
			l = bytes.TrimLeft(l, ", \t\r\n")
			if len(l) > 0 && l[0] == ']' {
				s.inArray = false
				s.setRest(l[1:], n)
				continue
			}
		}
		if len(bytes.TrimSpace(l)) == 0 || isRecordLine(l) {
			continue
		}
		switch l[0] {
		case '[':
			if !s.inArray {
				s.inArray = true
				s.setRest(l[1:], n)
				continue
			}
			fallthrough
		case '{':
			return s.value(l, n)
		}
		// not JSON: give the line's text as it is
		return append([]byte(nil), bytes.TrimRight(l, " \t\r\n")...), n, nil
	}
}

// nextLine returns the rest of the current line if any, else the next line.
func (s *Splitter) nextLine() ([]byte, int, error) {
	if len(s.rest) > 0 {
		l := s.rest
		s.rest = nil
		return l, s.restLine, nil
	}
	l, err := s.br.ReadSlice('\n')
	for err == bufio.ErrBufferFull {
		// a line longer than the buffer: gather it
		s.buf = append(s.buf[:0], l...)
		l, err = s.br.ReadSlice('\n')
		s.buf = append(s.buf, l...)
		l = s.buf
	}
	if len(l) == 0 && err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, err
	}
	if err != nil && err != io.EOF {
		return nil, 0, err
	}
	s.line++
	// ReadSlice's bytes are valid until the next read: keep a copy in rest
	// when a line holds more than one value.
	return l, s.line, nil
}

func (s *Splitter) setRest(b []byte, line int) {
	if len(bytes.TrimSpace(b)) == 0 {
		s.rest = nil
		return
	}
	s.rest = append([]byte(nil), b...)
	s.restLine = line
}

// value reads the JSON value starting at l[0] (an object or array), on the
// line numbered n and the lines after it.
func (s *Splitter) value(l []byte, n int) ([]byte, int, error) {
	var (
		rec    []byte
		depth  int
		inStr  bool
		esc    bool
		lines  int
		closed = -1
	)
	for {
		lines++
		for i, c := range l {
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					closed = i
				}
			}
			if closed >= 0 {
				break
			}
		}
		if closed >= 0 {
			rec = append(rec, l[:closed+1]...)
			s.setRest(l[closed+1:], n+lines-1)
			break
		}
		rec = append(rec, l...)
		next, _, err := s.nextLine()
		if err == io.EOF {
			break // cut short: the decoder says what is wrong
		}
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", s.line, err)
		}
		l = next
	}
	if lines > 1 || bytes.IndexByte(rec, '\n') >= 0 {
		var b bytes.Buffer
		b.Grow(len(rec))
		if json.Compact(&b, rec) == nil {
			return b.Bytes(), n, nil
		}
		rec = bytes.TrimRight(rec, " \t\r\n")
	}
	return rec, n, nil
}

// IsRecordLine reports whether l is evtx_dump's "Record N" line.
func IsRecordLine(l []byte) bool { return isRecordLine(l) }

func isRecordLine(l []byte) bool {
	l = bytes.TrimRight(l, " \t\r\n")
	d, ok := bytes.CutPrefix(l, []byte("Record "))
	if !ok || len(d) == 0 {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Framed reports whether a stream that starts with head needs a Splitter
// rather than one record a line: its first record is an array, or an
// object that does not end on its first line, or it starts with
// evtx_dump's "Record N" line.
func Framed(head []byte) bool {
	for len(head) > 0 {
		var l []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			l, head = head[:i], head[i+1:]
		} else {
			l, head = head, nil
		}
		l = bytes.TrimSpace(bytes.TrimPrefix(l, []byte("\ufeff")))
		if len(l) == 0 {
			continue
		}
		switch {
		case isRecordLine(l):
			return true
		case l[0] == '[':
			// an array of records, not a text log's "[date] …"
			r := bytes.TrimSpace(l[1:])
			return len(r) == 0 || r[0] == '{' || r[0] == '['
		case l[0] == '{':
			return l[len(l)-1] != '}'
		}
		return false
	}
	return false
}

// Joiner joins the lines of a JSON record written over several lines, for
// framing that goes a line at a time (a tailed file): a record that starts
// an object or array goes on until its brackets close. It is a
// decode.Joiner.
type Joiner struct{}

// Continues reports whether line continues rec: rec starts a JSON object
// or array that is not closed yet.
func (Joiner) Continues(rec, _ []byte) bool {
	rec = bytes.TrimLeft(rec, " \t\r\n\ufeff")
	if len(rec) == 0 || rec[0] != '{' && rec[0] != '[' {
		return false
	}
	depth, inStr, esc := 0, false, false
	for _, c := range rec {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return depth > 0
}
