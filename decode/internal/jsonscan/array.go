package jsonscan

import "strconv"

// Array enters the array that is the next value. Its elements are then
// read with More and, each time it returns true, the element.
func (s *Scanner) Array() bool {
	if s.err != nil {
		return false
	}
	if s.skipSpace() != '[' {
		s.unexpected("want '['")
		return false
	}
	return s.open()
}

// More reports whether the array entered last has a further element, and
// moves to it. At the end of the array it leaves it and returns false, as
// it does on error.
func (s *Scanner) More() bool {
	if s.err != nil {
		return false
	}
	c := s.skipSpace()
	if c == ']' {
		s.first = false
		s.close()
		return false
	}
	if s.first {
		s.first = false
		return true // whatever is here must be a value, which reading it checks
	}
	if c != ',' {
		s.unexpected("want ',' or ']' after an array element")
		return false
	}
	s.pos++
	return true
}

func (s *Scanner) open() bool {
	if s.depth >= MaxDepth {
		s.fail(s.pos, "objects and arrays nested deeper than "+strconv.Itoa(MaxDepth))
		return false
	}
	s.depth++
	s.pos++
	s.first = true
	return true
}

func (s *Scanner) close() {
	s.depth--
	s.pos++
}
