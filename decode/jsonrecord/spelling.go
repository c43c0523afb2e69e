package jsonrecord

// Spelling gives a record's top-level keys back their schema's spelling
// when an export changed their case (all lower case, Log Analytics'
// PascalCase), so that rules written against the schema match. It is
// read-only and may be shared; see Hooks.Spelling.
type Spelling struct {
	byLower map[string]string
}

// NewSpelling returns the Spelling of a schema's top-level names.
func NewSpelling(names ...string) *Spelling {
	s := &Spelling{byLower: make(map[string]string, len(names))}
	for _, n := range names {
		s.byLower[string(appendLower(nil, []byte(n)))] = n
	}
	return s
}

// respell returns the schema's spelling of k, in *buf, or k itself when
// the schema has no such name.
func (s *Spelling) respell(k []byte, buf *[]byte) []byte {
	*buf = appendLower((*buf)[:0], k)
	return s.find(*buf, k, buf)
}

// find is respell for a key already in lower case.
func (s *Spelling) find(lower, k []byte, buf *[]byte) []byte {
	if n, ok := s.byLower[string(lower)]; ok {
		*buf = append((*buf)[:0], n...)
		return *buf
	}
	return k
}

// appendLower appends s to dst with ASCII letters in lower case.
func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
