package query

import (
	"net/netip"
	"strings"
)

// term is one field:value test (field empty: any field).
type term struct {
	field string
	test  ValueMatcher
}

func (t *term) match(f Fields) bool {
	if t.field == "" {
		return f.AnyField(t.test)
	}
	return f.Any(t.field, t.test)
}

func (t *term) appendTo(b []byte, _ int) []byte {
	bare := t.field == ""
	if !bare {
		b = appendEscaped(b, t.field, fieldSpecial)
		b = append(b, ':')
	}
	switch v := t.test.(type) {
	case *textTest:
		return v.appendTo(b, bare)
	case *cidrTest:
		s := v.prefix.String()
		if bare {
			return appendEscaped(b, s, bareSpecial)
		}
		return append(b, s...)
	case *rangeTest:
		return v.appendTo(b)
	}
	panic("query: unknown test")
}

// textTest compares a value with a text, whose * and ? are wildcards
// unless escaped or quoted. A term naming a field compares the whole
// value; a bare term looks for the text anywhere in a value.
type textTest struct {
	text []elem // as typed, for String
	pat  []elem // lowered; for a bare term, wrapped in *…*
}

func (t *textTest) MatchValue(v string) bool { return glob(t.pat, v) }

func newTextTest(text []elem, bare bool) *textTest {
	t := &textTest{text: text}
	if bare {
		t.pat = append(t.pat, elem{kind: '*'})
	}
	for _, e := range text {
		if e.kind == 0 {
			e.lit = lower(e.lit)
		}
		t.pat = append(t.pat, e)
	}
	if bare {
		t.pat = append(t.pat, elem{kind: '*'})
	}
	t.pat = compact(t.pat)
	return t
}

// compact merges adjacent literals and runs of * so that matching does
// not backtrack over equivalent stars.
func compact(p []elem) []elem {
	out := p[:0]
	for _, e := range p {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if e.kind == 0 && last.kind == 0 {
				last.lit += e.lit
				continue
			}
			if e.kind == '*' && last.kind == '*' {
				continue
			}
		}
		if e.kind == 0 && e.lit == "" {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (t *textTest) wild() bool {
	for _, e := range t.text {
		if e.kind != 0 {
			return true
		}
	}
	return false
}

func (t *textTest) literal() string {
	var sb strings.Builder
	for _, e := range t.text {
		if e.kind == 0 {
			sb.WriteString(e.lit)
		} else {
			sb.WriteByte(e.kind)
		}
	}
	return sb.String()
}

func (t *textTest) appendTo(b []byte, bare bool) []byte {
	if !t.wild() {
		s := t.literal()
		if needsQuotes(s, bare) {
			return appendQuoted(b, s)
		}
	}
	special, lead := valueSpecial, leadSpecial
	if bare {
		special, lead = bareSpecial, leadSpecial+"-"
	}
	for i, e := range t.text {
		if e.kind != 0 {
			b = append(b, e.kind)
			continue
		}
		lit := e.lit
		if i == 0 && lit != "" && strings.IndexByte(lead, lit[0]) >= 0 {
			b = append(b, '\\', lit[0])
			lit = lit[1:]
		}
		b = appendEscaped(b, lit, special)
	}
	return b
}

// needsQuotes reports whether s, typed quoted, would read differently
// unquoted even with escapes: a blank, a keyword, a CIDR block.
func needsQuotes(s string, bare bool) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n\f\v") {
		return true
	}
	if bare && (s == "AND" || s == "OR" || s == "NOT") {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// cidrTest keeps values that are addresses in a block.
type cidrTest struct{ prefix netip.Prefix }

func (t *cidrTest) MatchValue(v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	return t.prefix.Contains(a.WithZone("").Unmap())
}
