package rule

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Expr is a node of a parsed condition: *Ref, *Not, *And, *Or or *Of.
type Expr interface {
	String() string
	expr()
}

// Ref names one search.
type Ref struct {
	Name   string
	Offset int // byte offset in the condition text
}

// Not negates X.
type Not struct{ X Expr }

// And holds when every item holds.
type And struct{ X []Expr }

// Or holds when any item holds.
type Or struct{ X []Expr }

// Of is `N of pattern`, `all of pattern`, `1 of them` or `all of them`:
// it holds when at least N (with All, every one) of the searches in Names
// match. Names is resolved at parse time, in document order; `them` leaves
// out searches whose name starts with an underscore.
type Of struct {
	All     bool
	N       int
	Pattern string // "them" for them
	Names   []string
	Offset  int
}

func (*Ref) expr() {}
func (*Not) expr() {}
func (*And) expr() {}
func (*Or) expr()  {}
func (*Of) expr()  {}

func (e *Ref) String() string { return e.Name }
func (e *Not) String() string { return "not " + e.X.String() }
func (e *And) String() string { return join(e.X, " and ") }
func (e *Or) String() string  { return join(e.X, " or ") }
func (e *Of) String() string {
	q := strconv.Itoa(e.N)
	if e.All {
		q = "all"
	}
	return q + " of " + e.Pattern
}

func join(xs []Expr, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// ConditionError is a problem in a condition, at a byte offset of its text.
type ConditionError struct {
	Offset int
	Reason string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason)
}

const errAggregation = "'|' aggregations (Sigma 1 count, near) are not supported: write a correlation rule"

// maxDepth bounds nesting so that a hostile condition cannot exhaust the
// stack.
const maxDepth = 256

// ParseCondition parses a Sigma condition over the search identifiers in
// names (document order). Precedence, loosest first: or, and, not, `x of`,
// parentheses. The words and, or, not, of, all and them are matched
// without regard to case.
func ParseCondition(src string, names []string) (Expr, error) {
	p := &condParser{src: src, names: names}
	p.next()
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		if strings.HasPrefix(p.tok.text, "|") {
			return nil, p.errf(p.tok.off, errAggregation)
		}
		return nil, p.errf(p.tok.off, "unexpected %q", p.tok.text)
	}
	return e, nil
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tLParen
	tRParen
)

type condTok struct {
	kind tokKind
	text string
	off  int
}

type condParser struct {
	src   string
	pos   int
	tok   condTok
	names []string
}

func (p *condParser) errf(off int, format string, args ...any) error {
	return &ConditionError{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

func (p *condParser) next() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = condTok{kind: tEOF, off: start}
		return
	}
	switch p.src[p.pos] {
	case '(':
		p.pos++
		p.tok = condTok{tLParen, "(", start}
		return
	case ')':
		p.pos++
		p.tok = condTok{tRParen, ")", start}
		return
	}
	for p.pos < len(p.src) && !isSpace(p.src[p.pos]) && p.src[p.pos] != '(' && p.src[p.pos] != ')' {
		p.pos++
	}
	p.tok = condTok{tWord, p.src[start:p.pos], start}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *condParser) is(word string) bool {
	return p.tok.kind == tWord && strings.EqualFold(p.tok.text, word)
}

func (p *condParser) or(depth int) (Expr, error) {
	x, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	if !p.is("or") {
		return x, nil
	}
	or := &Or{X: []Expr{x}}
	for p.is("or") {
		p.next()
		y, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		or.X = append(or.X, y)
	}
	return or, nil
}

func (p *condParser) and(depth int) (Expr, error) {
	x, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	if !p.is("and") {
		return x, nil
	}
	and := &And{X: []Expr{x}}
	for p.is("and") {
		p.next()
		y, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		and.X = append(and.X, y)
	}
	return and, nil
}

func (p *condParser) not(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, p.errf(p.tok.off, "condition nested deeper than %d", maxDepth)
	}
	if p.is("not") {
		p.next()
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.primary(depth)
}

func (p *condParser) primary(depth int) (Expr, error) {
	tok := p.tok
	switch tok.kind {
	case tEOF:
		return nil, p.errf(tok.off, "condition ends where a search identifier, 'not', '(' or 'x of' is expected")
	case tRParen:
		return nil, p.errf(tok.off, "unexpected ')'")
	case tLParen:
		p.next()
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.errf(p.tok.off, "missing ')' for '(' at offset %d", tok.off)
		}
		p.next()
		return x, nil
	}
	word := tok.text
	lower := strings.ToLower(word)
	switch lower {
	case "and", "or", "of", "them":
		return nil, p.errf(tok.off, "unexpected %q", word)
	}
	if strings.Contains(word, "|") {
		return nil, p.errf(tok.off+strings.Index(word, "|"), errAggregation)
	}
	p.next()
	if p.is("of") {
		n, all := 0, false
		if lower == "all" {
			all = true
		} else {
			v, err := strconv.Atoi(word)
			if err != nil || v < 1 {
				return nil, p.errf(tok.off, "%q before 'of' must be 'all' or a count of at least 1", word)
			}
			n = v
		}
		p.next()
		if p.tok.kind != tWord {
			return nil, p.errf(p.tok.off, "'of' must be followed by 'them' or a search identifier pattern")
		}
		pat := p.tok
		p.next()
		of := &Of{All: all, N: n, Pattern: pat.text, Offset: tok.off}
		if strings.EqualFold(pat.text, "them") {
			of.Pattern = "them"
			for _, name := range p.names {
				if !strings.HasPrefix(name, "_") {
					of.Names = append(of.Names, name)
				}
			}
			if len(of.Names) == 0 {
				return nil, p.errf(pat.off, "'them' names no search identifier (those starting with '_' are left out)")
			}
		} else {
			if err := checkIdent(pat.text); err != nil {
				return nil, p.errf(pat.off, "%v", err)
			}
			for _, name := range p.names {
				if globMatch(pat.text, name) {
					of.Names = append(of.Names, name)
				}
			}
			if len(of.Names) == 0 {
				return nil, p.errf(pat.off, "pattern %q matches no search identifier", pat.text)
			}
		}
		if n > len(of.Names) {
			return nil, p.errf(tok.off, "%d of %s: only %d search identifiers match", n, of.Pattern, len(of.Names))
		}
		return of, nil
	}
	if lower == "all" {
		return nil, p.errf(tok.off, "'all' must be followed by 'of'")
	}
	if err := checkIdent(word); err != nil {
		return nil, p.errf(tok.off, "%v", err)
	}
	if strings.Contains(word, "*") {
		return nil, p.errf(tok.off, "wildcard %q needs '1 of' or 'all of' before it", word)
	}
	for _, name := range p.names {
		if name == word {
			return &Ref{Name: word, Offset: tok.off}, nil
		}
	}
	return nil, p.errf(tok.off, "unknown search identifier %q", word)
}

func checkIdent(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*' || c >= 0x80 {
			continue
		}
		return fmt.Errorf("character %q not allowed in search identifier %q", c, s)
	}
	return nil
}

// globMatch matches a search identifier pattern, where only `*` is special.
func globMatch(pattern, name string) bool {
	// path.Match treats `?`, `[` and `\` specially too; identifiers hold
	// none of them (checkIdent), so it matches exactly what `*` means here.
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
