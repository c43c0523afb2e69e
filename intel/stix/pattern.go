package stix

import (
	"fmt"
	"strings"
)

// The STIX patterning language (STIX 2.1 part 9), parsed by recursive
// descent from its grammar rather than picked apart with expressions, so
// that quoting, nesting and operators mean what the specification says.
//
//	pattern      = obsSeq EOF
//	obsSeq       = obsOr  { "FOLLOWEDBY" obsOr }
//	obsOr        = obsAnd { "OR" obsAnd }
//	obsAnd       = obs    { "AND" obs }
//	obs          = ( "[" cmpOr "]" | "(" obsSeq ")" ) { qualifier }
//	qualifier    = "START" t'…' "STOP" t'…' | "WITHIN" number "SECONDS" | "REPEATS" int "TIMES"
//	cmpOr        = cmpAnd { "OR" cmpAnd }
//	cmpAnd       = test   { "AND" test }
//	test         = "(" cmpOr ")" | "EXISTS" path | path ["NOT"] op literal
//	path         = type ":" (name | 'string') { "." (name | 'string') | "[" (int | "*") "]" }

// Pattern is a parsed STIX pattern.
type Pattern struct {
	Root *Observation
}

// Observation is an observation expression: either a comparison between
// brackets (Comparison set) or Op applied to Terms.
type Observation struct {
	Op         string // "AND", "OR", "FOLLOWEDBY"; "" for a bracketed comparison
	Terms      []*Observation
	Comparison *Comparison
	Qualifiers []string // as written, e.g. "WITHIN 300 SECONDS"
}

// Comparison is a comparison expression: a Test or Op of Terms.
type Comparison struct {
	Op    string // "AND", "OR"; "" for a test
	Terms []*Comparison
	Test  *Test
}

// Test compares one object path with literals.
type Test struct {
	Path   Path
	Not    bool
	Op     string // =, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET, EXISTS
	Values []Literal
}

// Path is an object path: an object type and the steps into it; a step is
// a property name or an index ("[0]", "[*]").
type Path struct {
	Type  string
	Steps []string
}

func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		if strings.HasPrefix(s, "[") {
			b.WriteString(s)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isName(s) {
			b.WriteString(s)
		} else {
			b.WriteString(quote(s))
		}
	}
	return b.String()
}

// Literal is a constant of the language; Text is the decoded value (the
// unescaped string, the timestamp or hex text).
type Literal struct {
	Kind string // string, int, float, bool, timestamp, hex, binary
	Text string
}

// PatternError is a syntax error and the byte offset where it was found.
type PatternError struct {
	Offset int
	Msg    string
}

func (e *PatternError) Error() string { return fmt.Sprintf("pattern: offset %d: %s", e.Offset, e.Msg) }

// maxDepth bounds nesting so that a hostile pattern cannot exhaust the
// stack.
const maxDepth = 100

// ParsePattern parses a STIX 2.1 pattern.
func ParsePattern(s string) (*Pattern, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.obsSeq(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errf(t, "unexpected %s after the pattern", t)
	}
	return &Pattern{Root: root}, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errf(t token, format string, a ...any) error {
	return &PatternError{Offset: t.off, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) keyword(word string) bool {
	if t := p.peek(); t.kind == tWord && t.text == word {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.errf(t, "expected %s, found %s", what, t)
	}
	return t, nil
}

// binary parses "sub { WORD sub }" into one node a level, flattening runs
// of the same operator.
func binaryObs(p *parser, word string, depth int, sub func(int) (*Observation, error)) (*Observation, error) {
	first, err := sub(depth)
	if err != nil {
		return nil, err
	}
	terms := []*Observation{first}
	for p.keyword(word) {
		t, err := sub(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &Observation{Op: word, Terms: terms}, nil
}

func (p *parser) obsSeq(depth int) (*Observation, error) {
	if depth > maxDepth {
		return nil, p.errf(p.peek(), "nested too deeply")
	}
	return binaryObs(p, "FOLLOWEDBY", depth, p.obsOr)
}

func (p *parser) obsOr(depth int) (*Observation, error) {
	return binaryObs(p, "OR", depth, p.obsAnd)
}

func (p *parser) obsAnd(depth int) (*Observation, error) {
	return binaryObs(p, "AND", depth, p.obs)
}

func (p *parser) obs(depth int) (*Observation, error) {
	var o *Observation
	switch t := p.next(); t.kind {
	case tLBrack:
		c, err := p.cmpOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRBrack, "]"); err != nil {
			return nil, err
		}
		o = &Observation{Comparison: c}
	case tLParen:
		inner, err := p.obsSeq(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, ")"); err != nil {
			return nil, err
		}
		// A qualifier after the parentheses applies to the whole group:
		// wrap it so that the group's own qualifiers stay apart.
		o = &Observation{Op: "GROUP", Terms: []*Observation{inner}}
	default:
		return nil, p.errf(t, "expected [ or ( to start an observation, found %s", t)
	}
	for {
		q, ok, err := p.qualifier()
		if err != nil {
			return nil, err
		}
		if !ok {
			return o, nil
		}
		o.Qualifiers = append(o.Qualifiers, q)
	}
}

func (p *parser) qualifier() (string, bool, error) {
	switch {
	case p.keyword("START"):
		a, err := p.expect(tTimestamp, "a t'…' timestamp after START")
		if err != nil {
			return "", false, err
		}
		if !p.keyword("STOP") {
			return "", false, p.errf(p.peek(), "expected STOP")
		}
		b, err := p.expect(tTimestamp, "a t'…' timestamp after STOP")
		if err != nil {
			return "", false, err
		}
		return "START t'" + a.text + "' STOP t'" + b.text + "'", true, nil
	case p.keyword("WITHIN"):
		n := p.next()
		if (n.kind != tInt && n.kind != tFloat) || strings.HasPrefix(n.text, "-") {
			return "", false, p.errf(n, "expected a positive number after WITHIN, found %s", n)
		}
		if !p.keyword("SECONDS") {
			return "", false, p.errf(p.peek(), "expected SECONDS")
		}
		return "WITHIN " + n.text + " SECONDS", true, nil
	case p.keyword("REPEATS"):
		n := p.next()
		if n.kind != tInt || strings.HasPrefix(n.text, "-") {
			return "", false, p.errf(n, "expected a positive integer after REPEATS, found %s", n)
		}
		if !p.keyword("TIMES") {
			return "", false, p.errf(p.peek(), "expected TIMES")
		}
		return "REPEATS " + n.text + " TIMES", true, nil
	}
	return "", false, nil
}

func binaryCmp(p *parser, word string, depth int, sub func(int) (*Comparison, error)) (*Comparison, error) {
	first, err := sub(depth)
	if err != nil {
		return nil, err
	}
	terms := []*Comparison{first}
	for p.keyword(word) {
		t, err := sub(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &Comparison{Op: word, Terms: terms}, nil
}

func (p *parser) cmpOr(depth int) (*Comparison, error) {
	if depth > maxDepth {
		return nil, p.errf(p.peek(), "nested too deeply")
	}
	return binaryCmp(p, "OR", depth, p.cmpAnd)
}

func (p *parser) cmpAnd(depth int) (*Comparison, error) {
	return binaryCmp(p, "AND", depth, p.test)
}

func (p *parser) test(depth int) (*Comparison, error) {
	if p.peek().kind == tLParen {
		p.next()
		c, err := p.cmpOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, ")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	if p.keyword("EXISTS") {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &Comparison{Test: &Test{Path: path, Op: "EXISTS"}}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	t := &Test{Path: path, Not: p.keyword("NOT")}
	op := p.next()
	switch {
	case op.kind == tOp:
		t.Op = op.text
		if t.Op == "==" {
			t.Op = "="
		} else if t.Op == "<>" {
			t.Op = "!="
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if t.Op != "=" && t.Op != "!=" && lit.Kind == "bool" {
			return nil, p.errf(op, "%s needs an orderable literal, not a boolean", t.Op)
		}
		t.Values = []Literal{lit}
	case op.kind == tWord && op.text == "IN":
		t.Op = "IN"
		if _, err := p.expect(tLParen, "( after IN"); err != nil {
			return nil, err
		}
		if p.peek().kind == tRParen {
			p.next()
			break
		}
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			t.Values = append(t.Values, lit)
			sep := p.next()
			if sep.kind == tRParen {
				break
			}
			if sep.kind != tComma {
				return nil, p.errf(sep, "expected , or ) in the IN set, found %s", sep)
			}
		}
	case op.kind == tWord && (op.text == "LIKE" || op.text == "MATCHES" || op.text == "ISSUBSET" || op.text == "ISSUPERSET"):
		t.Op = op.text
		lit, err := p.expect(tString, "a string after "+op.text)
		if err != nil {
			return nil, err
		}
		t.Values = []Literal{{Kind: "string", Text: lit.text}}
	default:
		return nil, p.errf(op, "expected a comparison operator after %s, found %s", path, op)
	}
	return &Comparison{Test: t}, nil
}

func (p *parser) path() (Path, error) {
	t := p.next()
	if t.kind != tWord || isKeyword(t.text) {
		return Path{}, p.errf(t, "expected an object type, found %s", t)
	}
	path := Path{Type: t.text}
	if _, err := p.expect(tColon, ": after the object type"); err != nil {
		return Path{}, err
	}
	first := p.next()
	if (first.kind != tWord || strings.Contains(first.text, "-")) && first.kind != tString {
		return Path{}, p.errf(first, "expected a property name, found %s", first)
	}
	path.Steps = append(path.Steps, first.text)
	for {
		switch p.peek().kind {
		case tDot:
			p.next()
			s := p.next()
			if (s.kind != tWord || strings.Contains(s.text, "-")) && s.kind != tString {
				return Path{}, p.errf(s, "expected a property name after ., found %s", s)
			}
			path.Steps = append(path.Steps, s.text)
		case tLBrack:
			p.next()
			i := p.next()
			if i.kind != tInt && i.kind != tStar {
				return Path{}, p.errf(i, "expected an index or * in [], found %s", i)
			}
			if _, err := p.expect(tRBrack, "]"); err != nil {
				return Path{}, err
			}
			path.Steps = append(path.Steps, "["+i.text+"]")
		default:
			return path, nil
		}
	}
}

func (p *parser) literal() (Literal, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return Literal{Kind: "string", Text: t.text}, nil
	case tInt:
		return Literal{Kind: "int", Text: t.text}, nil
	case tFloat:
		return Literal{Kind: "float", Text: t.text}, nil
	case tTimestamp:
		return Literal{Kind: "timestamp", Text: t.text}, nil
	case tHex:
		return Literal{Kind: "hex", Text: t.text}, nil
	case tBinary:
		return Literal{Kind: "binary", Text: t.text}, nil
	case tWord:
		if t.text == "true" || t.text == "false" {
			return Literal{Kind: "bool", Text: t.text}, nil
		}
	}
	return Literal{}, p.errf(t, "expected a literal, found %s", t)
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true, "MATCHES": true,
	"ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true, "IN": true, "START": true, "STOP": true,
	"WITHIN": true, "SECONDS": true, "REPEATS": true, "TIMES": true, "true": true, "false": true,
}

func isKeyword(s string) bool { return keywords[s] }

func isName(s string) bool {
	if s == "" || isKeyword(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quote writes s as a pattern string literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
