package jsonscan

// Object enters the object that is the next value. Its members are then
// read with Key and, after each key, the member's value; or with Member.
func (s *Scanner) Object() bool {
	if s.err != nil {
		return false
	}
	if s.skipSpace() != '{' {
		s.unexpected("want '{'")
		return false
	}
	return s.open()
}

// Key reads the next key of the object entered last and the colon after
// it, and returns the key unescaped. At the end of the object it leaves it
// and returns false, as it does on error.
func (s *Scanner) Key() ([]byte, bool) {
	if !s.toKey() {
		return nil, false
	}
	d, i := s.data, s.pos
	if e := nextStop(d, i+1); e+1 < len(d) && d[e] == '"' && d[e+1] == ':' {
		// A plain key and its colon: most keys.
		s.pos = e + 2
		return d[i+1 : e : e], true
	}
	k, ok := s.keyString()
	return k, ok && s.colon()
}

// KeyIf reads the next key of the object entered last if it is k, written
// as it is and followed by its colon, and returns it as it stands in the
// record; otherwise it reads nothing and returns false. k must hold no
// '"', '\\' or control character. A decoder that expects a record's keys
// to be the last one's confirms each with a compare rather than a scan.
func (s *Scanner) KeyIf(k []byte) ([]byte, bool) {
	d, i := s.data, s.pos
	if s.err != nil {
		return nil, false
	}
	if !s.first {
		if i >= len(d) || d[i] != ',' {
			return nil, false
		}
		i++
	}
	j := i + 1
	e := j + len(k)
	if e+1 >= len(d) || d[i] != '"' || d[e] != '"' || d[e+1] != ':' || string(d[j:e]) != string(k) {
		return nil, false
	}
	s.first = false
	s.pos = e + 2
	return d[j:e:e], true
}

// keyString reads the key that opens at s.pos.
func (s *Scanner) keyString() ([]byte, bool) {
	start := s.pos
	end, esc := s.scanString()
	if end == 0 {
		return nil, false
	}
	k := s.data[start+1 : end-1 : end-1]
	if esc {
		k = s.unescape(k)
	}
	return k, true
}

// toKey moves to the opening quote of the next key, or out of the object.
// Compact JSON, the common case, takes the first two branches.
func (s *Scanner) toKey() bool {
	d, i := s.data, s.pos
	if s.err == nil && i+1 < len(d) {
		if d[i] == ',' && d[i+1] == '"' && !s.first {
			s.pos = i + 1
			return true
		}
		if d[i] == '"' && s.first {
			s.first = false
			return true
		}
	}
	return s.nextKey()
}

// Member reads the next member of the object entered last: its key, as
// Key returns it, and its value, as Value returns it. At the end of the
// object it leaves it and returns false, as it does on error.
func (s *Scanner) Member() (key []byte, v Value, ok bool) {
	if key, ok = s.Key(); !ok {
		return nil, Value{}, false
	}
	v = s.Value()
	return key, v, v.Kind != Invalid
}

// skipKey is Key for a key nobody reads: it is checked, not unescaped.
func (s *Scanner) skipKey() bool {
	if !s.toKey() {
		return false
	}
	s.scanString()
	return s.colon()
}

// nextKey moves to the opening quote of the next key, or out of the object.
func (s *Scanner) nextKey() bool {
	if s.err != nil {
		return false
	}
	c := s.skipSpace()
	first := s.first
	s.first = false
	switch {
	case c == '}':
		s.close()
		return false
	case !first:
		if c != ',' {
			s.unexpected("want ',' or '}' after an object member")
			return false
		}
		s.pos++
		c = s.skipSpace()
	}
	if c != '"' {
		s.unexpected("want a string key")
		return false
	}
	return true
}

func (s *Scanner) colon() bool {
	if s.pos < len(s.data) && s.data[s.pos] == ':' {
		s.pos++
		return true
	}
	if s.err != nil {
		return false
	}
	if s.skipSpace() != ':' {
		s.unexpected("want ':' after an object key")
		return false
	}
	s.pos++
	return true
}
