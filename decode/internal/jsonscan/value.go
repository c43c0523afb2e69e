package jsonscan

// Value reads the next value. A string is checked but not unescaped, an
// object or array is passed over whole (Seek to its Start to walk into
// it). The Kind is Invalid on error.
func (s *Scanner) Value() Value {
	if s.err != nil {
		return Value{}
	}
	if v, ok := s.plainString(); ok {
		return v
	}
	c := s.skipSpace()
	start := s.pos
	k := kindOf[c]
	if k == String {
		end, esc := s.scanString()
		if end == 0 {
			return Value{}
		}
		return Value{Kind: String, Start: start, End: end, escaped: esc}
	}
	switch k {
	case Number:
		s.number()
	case Null:
		s.literal("null")
	case True:
		s.literal("true")
	case False:
		s.literal("false")
	case Object:
		if s.Object() {
			for s.skipKey() {
				s.Value()
			}
		}
	case Array:
		if s.Array() {
			for s.More() {
				s.Value()
			}
		}
	default:
		s.unexpected("want a value")
	}
	if s.err != nil {
		return Value{}
	}
	return Value{Kind: k, Start: start, End: s.pos}
}

// Text returns the text of a scalar Value read in this record: a string
// unescaped, a number as written, "true", "false" or "null". An object or
// array gives its JSON text. The result must not be modified.
func (s *Scanner) Text(v Value) []byte {
	switch v.Kind {
	case Invalid:
		return nil
	case String:
		raw := s.data[v.Start+1 : v.End-1 : v.End-1]
		if !v.escaped {
			return raw
		}
		return s.unescape(raw)
	}
	return s.data[v.Start:v.End:v.End]
}

// Read reads the next value, as Value does, and returns with it its text,
// as Text would: a string is checked and unescaped in one pass. It is
// Value for a value the caller is going to read anyway. An object or array
// is passed over and has no text.
func (s *Scanner) Read() (Value, []byte) {
	if s.err != nil {
		return Value{}, nil
	}
	if v, ok := s.plainString(); ok {
		return v, s.data[v.Start+1 : v.End-1 : v.End-1]
	}
	if s.skipSpace() != '"' {
		v := s.Value()
		if v.Kind == Object || v.Kind == Array {
			return v, nil
		}
		return v, s.Text(v)
	}
	start := s.pos
	end, text, esc := s.readString()
	if end == 0 {
		return Value{}, nil
	}
	return Value{Kind: String, Start: start, End: end, escaped: esc}, text
}

// plainString reads the string at s.pos, with no white space before it,
// if it holds no escapes: the common value, read without the general
// way's steps.
func (s *Scanner) plainString() (Value, bool) {
	d, i := s.data, s.pos
	if i >= len(d) || d[i] != '"' {
		return Value{}, false
	}
	e := nextStop(d, i+1)
	if e >= len(d) || d[e] != '"' {
		return Value{}, false
	}
	s.pos = e + 1
	return Value{Start: i, End: e + 1, Kind: String}, true
}
