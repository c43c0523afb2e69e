// Package query is the investigation query language: what a responder
// types to search events — field:value terms with wildcards, CIDR blocks
// and ranges, combined with AND, OR, NOT and parentheses — and its
// matcher. docs/investigation.md is the user's reference; this package
// is its implementation, and the two change together.
package query

// Fields is an event as the matcher sees it. Field names compare without
// regard to case. A term tests each value with m; a Fields reports
// whether some value satisfied it. The matcher does not keep m or the
// values: an implementation may hand over views of reused buffers.
type Fields interface {
	// Any reports whether some value of the field named name satisfies m.
	Any(name string, m ValueMatcher) bool
	// AnyField reports whether some value of any field satisfies m: the
	// test of a term that names no field.
	AnyField(m ValueMatcher) bool
}

// ValueMatcher is one term's test of one value.
type ValueMatcher interface {
	MatchValue(v string) bool
}

// Query is a parsed query. It holds no state while matching: one Query
// may match in many goroutines at once.
type Query struct {
	root node
	src  string
}

// MaxLen bounds the length of a query in bytes, and MaxDepth its nesting
// (parentheses and NOTs): a query is typed by a person, and the bounds keep
// a pasted blob from costing the server its stack.
const (
	MaxLen   = 16 << 10
	MaxDepth = 64
)

// Parse parses s. An empty query (or one of only blanks) matches every
// event. A *SyntaxError says what is wrong and where.
func Parse(s string) (*Query, error) {
	if len(s) > MaxLen {
		return nil, syntaxError(s, MaxLen, "", "the query is longer than 16 KiB")
	}
	p := &parser{s: s}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Query{root: root, src: s}, nil
}

// Match reports whether the event f satisfies the query.
func (q *Query) Match(f Fields) bool {
	if q == nil || q.root == nil {
		return true
	}
	return q.root.match(f)
}

// String returns the query in its canonical form: explicit AND and OR,
// NOT for -, parentheses only where precedence needs them, values quoted
// or escaped as needed. Parsing it gives the same query again.
func (q *Query) String() string {
	if q == nil || q.root == nil {
		return ""
	}
	var b []byte
	b = q.root.appendTo(b, precOr)
	return string(b)
}

// Empty reports whether the query matches every event (it has no term).
func (q *Query) Empty() bool { return q == nil || q.root == nil }
