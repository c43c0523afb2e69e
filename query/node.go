package query

// node is one part of a parsed query.
type node interface {
	match(f Fields) bool
	// appendTo appends the canonical form; outer is the precedence of the
	// enclosing operator, to know when parentheses are needed.
	appendTo(b []byte, outer int) []byte
}

// Precedence, loosest first: NOT binds tighter than AND, AND than OR.
const (
	precOr = iota
	precAnd
	precNot
)

type orNode struct{ kids []node }

func (n *orNode) match(f Fields) bool {
	for _, k := range n.kids {
		if k.match(f) {
			return true
		}
	}
	return false
}

func (n *orNode) appendTo(b []byte, outer int) []byte {
	return appendList(b, n.kids, " OR ", precOr, outer)
}

type andNode struct{ kids []node }

func (n *andNode) match(f Fields) bool {
	for _, k := range n.kids {
		if !k.match(f) {
			return false
		}
	}
	return true
}

func (n *andNode) appendTo(b []byte, outer int) []byte {
	return appendList(b, n.kids, " AND ", precAnd, outer)
}

func appendList(b []byte, kids []node, op string, prec, outer int) []byte {
	paren := outer > prec
	if paren {
		b = append(b, '(')
	}
	for i, k := range kids {
		if i > 0 {
			b = append(b, op...)
		}
		// A same-operator child is flattened when parsed, so one that
		// reaches here was parenthesised: keep it so, or it would merge.
		b = k.appendTo(b, prec+1)
	}
	if paren {
		b = append(b, ')')
	}
	return b
}

type notNode struct{ kid node }

func (n *notNode) match(f Fields) bool { return !n.kid.match(f) }

func (n *notNode) appendTo(b []byte, outer int) []byte {
	b = append(b, "NOT "...)
	return n.kid.appendTo(b, precNot)
}

// join builds an AND or OR of kids, flattening children of the same
// operator so that a AND (b AND c) and (a AND b) AND c are one query.
func join(and bool, kids []node) node {
	if len(kids) == 1 {
		return kids[0]
	}
	var flat []node
	for _, k := range kids {
		switch k := k.(type) {
		case *andNode:
			if and {
				flat = append(flat, k.kids...)
				continue
			}
		case *orNode:
			if !and {
				flat = append(flat, k.kids...)
				continue
			}
		}
		flat = append(flat, k)
	}
	if and {
		return &andNode{flat}
	}
	return &orNode{flat}
}
