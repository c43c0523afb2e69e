package query

import (
	"net/netip"
	"strings"
)

// parser is a recursive descent over the query text:
//
//	query   = [ or ]
//	or      = and { "OR" and }
//	and     = not { [ "AND" ] not }
//	not     = ( "NOT" | "-" ) not | primary
//	primary = "(" or ")" | [ field ":" ] value
//	value   = "(" or ")" | quoted | range | comparison | word
//
// A field:( … ) group gives its field to the bare terms inside.
type parser struct {
	s     string
	pos   int
	depth int
}

func (p *parser) parse() (node, error) {
	p.skip()
	if p.end() {
		return nil, nil
	}
	n, err := p.or("")
	if err != nil {
		return nil, err
	}
	p.skip()
	if !p.end() { // only a ) stops or() early
		return nil, p.fail(p.pos, "a ) closes no (")
	}
	return n, nil
}

func (p *parser) end() bool { return p.pos >= len(p.s) }

func isBlank(c byte) bool { return strings.IndexByte(blanks, c) >= 0 }

func (p *parser) skip() {
	for !p.end() && isBlank(p.s[p.pos]) {
		p.pos++
	}
}

// keyword reports whether the operator w stands at the current position,
// as a word of its own.
func (p *parser) keyword(w string) bool {
	if !strings.HasPrefix(p.s[p.pos:], w) {
		return false
	}
	i := p.pos + len(w)
	return i == len(p.s) || isBlank(p.s[i]) || p.s[i] == '(' || p.s[i] == ')'
}

// token is the text at off for an error: up to the next blank.
func (p *parser) token(off int) string {
	if off >= len(p.s) {
		return ""
	}
	end := off + 1
	for end < len(p.s) && !isBlank(p.s[end]) && end-off < 40 {
		end++
	}
	return p.s[off:end]
}

func (p *parser) fail(off int, msg string) error {
	return syntaxError(p.s, off, p.token(off), msg)
}

func (p *parser) nest(off int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.fail(off, "the query nests deeper than 64 levels")
	}
	return nil
}

func (p *parser) or(field string) (node, error) {
	first, err := p.and(field)
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for {
		p.skip()
		if p.end() || !p.keyword("OR") {
			return join(false, kids), nil
		}
		p.pos += len("OR")
		k, err := p.and(field)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
}

func (p *parser) and(field string) (node, error) {
	first, err := p.not(field)
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for {
		p.skip()
		if p.end() || p.s[p.pos] == ')' || p.keyword("OR") {
			return join(true, kids), nil
		}
		if p.keyword("AND") {
			p.pos += len("AND")
		}
		k, err := p.not(field)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
}

func (p *parser) not(field string) (node, error) {
	p.skip()
	start := p.pos
	neg := false
	switch {
	case p.end():
	case p.keyword("NOT"):
		p.pos += len("NOT")
		neg = true
	case p.s[p.pos] == '-':
		if p.pos+1 == len(p.s) || isBlank(p.s[p.pos+1]) || p.s[p.pos+1] == ')' {
			return nil, p.fail(start, "a - negates the term right after it; write \\- for a value that begins with -")
		}
		p.pos++
		neg = true
	}
	if !neg {
		return p.primary(field)
	}
	if err := p.nest(start); err != nil {
		return nil, err
	}
	k, err := p.not(field)
	p.depth--
	if err != nil {
		return nil, err
	}
	return &notNode{k}, nil
}

func (p *parser) primary(field string) (node, error) {
	p.skip()
	if p.end() {
		return nil, p.fail(p.pos, "expected a term")
	}
	switch {
	case p.s[p.pos] == ')':
		return nil, p.fail(p.pos, "expected a term before )")
	case p.s[p.pos] == '(':
		return p.group(field)
	case p.keyword("AND"), p.keyword("OR"):
		return nil, p.fail(p.pos, "expected a term before "+p.token(p.pos))
	}
	return p.clause(field)
}

func (p *parser) group(field string) (node, error) {
	open := p.pos
	if err := p.nest(open); err != nil {
		return nil, err
	}
	p.pos++
	p.skip()
	if !p.end() && p.s[p.pos] == ')' {
		return nil, p.fail(open, "empty parentheses")
	}
	n, err := p.or(field)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.end() {
		return nil, p.fail(open, "this ( is not closed")
	}
	p.pos++ // the )
	p.depth--
	return n, nil
}

// clause reads [field:]value.
func (p *parser) clause(field string) (node, error) {
	start := p.pos
	if strings.IndexByte(`"[{<>`, p.s[p.pos]) < 0 {
		_, name, stop, err := p.word(blanks+`()":`, false)
		if err != nil {
			return nil, err
		}
		if stop == ':' {
			if name == "" {
				return nil, p.fail(start, "a field name is missing before :")
			}
			p.pos++ // the :
			return p.value(name, false, start)
		}
		p.pos = start
	}
	return p.value(field, field == "", start)
}

func (p *parser) value(field string, bare bool, start int) (node, error) {
	missing := "expected a value after " + field + ":"
	if bare {
		missing = "expected a value"
	}
	if p.end() || isBlank(p.s[p.pos]) || p.s[p.pos] == ')' {
		return nil, syntaxError(p.s, start, p.s[start:p.pos], missing)
	}
	switch c := p.s[p.pos]; c {
	case '(':
		return p.group(field)
	case '"':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return &term{field, newTextTest([]elem{{lit: s}}, bare)}, nil
	case '[', '{':
		r, err := p.rangeValue()
		if err != nil {
			return nil, err
		}
		return &term{field, r}, nil
	case '>', '<':
		r, err := p.comparison()
		if err != nil {
			return nil, err
		}
		return &term{field, r}, nil
	}
	elems, text, _, err := p.word(blanks+"()", true)
	if err != nil {
		return nil, err
	}
	if !hasWildcard(elems) {
		if pfx, err := netip.ParsePrefix(text); err == nil {
			return &term{field, &cidrTest{pfx}}, nil
		}
	}
	return &term{field, newTextTest(elems, bare)}, nil
}

func hasWildcard(elems []elem) bool {
	for _, e := range elems {
		if e.kind != 0 {
			return true
		}
	}
	return false
}

// word reads unquoted text up to a byte of stops, unescaping it; with
// wild, unescaped * and ? are wildcards. It returns the text in parts,
// as one string, and the byte it stopped at (0 at the end). A quote
// inside a word is refused: it would have been meant as a quote.
func (p *parser) word(stops string, wild bool) ([]elem, string, byte, error) {
	var elems []elem
	var lit, all strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			elems = append(elems, elem{lit: lit.String()})
			lit.Reset()
		}
	}
	for !p.end() {
		c := p.s[p.pos]
		if c == '\\' {
			if p.pos+1 == len(p.s) {
				return nil, "", 0, p.fail(p.pos, "a \\ at the end of the query escapes nothing")
			}
			lit.WriteByte(p.s[p.pos+1])
			all.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			flush()
			return elems, all.String(), c, nil
		}
		if c == '"' {
			return nil, "", 0, p.fail(p.pos, `a quote inside a word: escape it as \" or quote the whole value`)
		}
		if wild && (c == '*' || c == '?') {
			flush()
			elems = append(elems, elem{kind: c})
		} else {
			lit.WriteByte(c)
		}
		all.WriteByte(c)
		p.pos++
	}
	flush()
	return elems, all.String(), 0, nil
}

// quoted reads "…" in which \" and \\ (any \x) stand for the character.
func (p *parser) quoted() (string, error) {
	open := p.pos
	p.pos++
	var sb strings.Builder
	for !p.end() {
		c := p.s[p.pos]
		switch c {
		case '\\':
			if p.pos+1 == len(p.s) {
				return "", p.fail(open, "this quote is not closed")
			}
			sb.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		case '"':
			p.pos++
			if !p.end() && !isBlank(p.s[p.pos]) && p.s[p.pos] != ')' {
				return "", p.fail(p.pos, "expected a blank or ) after the closing quote")
			}
			return sb.String(), nil
		}
		sb.WriteByte(c)
		p.pos++
	}
	return "", p.fail(open, "this quote is not closed")
}

// bound reads one end of a range: a word, a quoted text, or * (open)
// when open is allowed.
func (p *parser) bound(stops string, openOK bool) (bound, error) {
	start := p.pos
	if p.end() || strings.IndexByte(stops, p.s[p.pos]) >= 0 {
		return bound{}, p.fail(start, "expected a bound")
	}
	if p.s[p.pos] == '"' {
		s, err := p.quotedBound(stops)
		return bound{text: s}, err
	}
	_, text, _, err := p.word(stops, false)
	if err != nil {
		return bound{}, err
	}
	if p.s[start:p.pos] == "*" {
		if !openOK {
			return bound{}, p.fail(start, "a comparison needs a value, not *")
		}
		return bound{open: true}, nil
	}
	return bound{text: text}, nil
}

// quotedBound is quoted for a bound, which a ] or } may follow.
func (p *parser) quotedBound(stops string) (string, error) {
	open := p.pos
	p.pos++
	var sb strings.Builder
	for !p.end() {
		c := p.s[p.pos]
		if c == '\\' && p.pos+1 < len(p.s) {
			sb.WriteByte(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		p.pos++
		if c == '"' {
			if !p.end() && strings.IndexByte(stops, p.s[p.pos]) < 0 {
				return "", p.fail(p.pos, "expected a blank or the end of the range after the closing quote")
			}
			return sb.String(), nil
		}
		sb.WriteByte(c)
	}
	return "", p.fail(open, "this quote is not closed")
}

// rangeValue reads [lo TO hi], { } for exclusive ends (mixable).
func (p *parser) rangeValue() (*rangeTest, error) {
	open := p.pos
	loIncl := p.s[p.pos] == '['
	p.pos++
	p.skip()
	stops := blanks + "[]{}()"
	lo, err := p.bound(stops, true)
	if err != nil {
		return nil, err
	}
	p.skip()
	if !strings.HasPrefix(p.s[p.pos:], "TO") || p.pos+2 >= len(p.s) || !isBlank(p.s[p.pos+2]) {
		return nil, p.fail(p.pos, "expected TO between the ends of the range")
	}
	p.pos += 2
	p.skip()
	hi, err := p.bound(stops, true)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.end() {
		return nil, p.fail(open, "this range is not closed with ] or }")
	}
	c := p.s[p.pos]
	if c != ']' && c != '}' {
		return nil, p.fail(p.pos, "expected ] or } to close the range")
	}
	p.pos++
	if !p.end() && !isBlank(p.s[p.pos]) && p.s[p.pos] != ')' {
		return nil, p.fail(p.pos, "expected a blank or ) after the range")
	}
	return newRangeTest(lo, hi, loIncl, c == ']'), nil
}

// comparison reads >x, >=x, <x, <=x.
func (p *parser) comparison() (*rangeTest, error) {
	op := p.s[p.pos : p.pos+1]
	p.pos++
	if !p.end() && p.s[p.pos] == '=' {
		op += "="
		p.pos++
	}
	b, err := p.bound(blanks+"()", false)
	if err != nil {
		return nil, err
	}
	incl := len(op) == 2
	if op[0] == '>' {
		return newRangeTest(b, bound{open: true}, incl, true), nil
	}
	return newRangeTest(bound{open: true}, b, true, incl), nil
}
