package rule

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
)

// CodecVersion names the layout AppendRules writes; DecodeRules refuses
// any other. Change it with every change of the rule model.
const CodecVersion = 3

// AppendRules appends a compact binary form of parsed rules to b: what a
// rule cache keeps so that a start need not parse the YAML again.
// DecodeRules reads it back into rules equal to these (a regular
// expression is kept as its source and compiled again).
func AppendRules(b []byte, rules []*Rule) []byte {
	e := encoder{b: b}
	e.uint(CodecVersion)
	e.uint(uint64(len(rules)))
	for _, r := range rules {
		e.rule(r)
	}
	return e.b
}

// DecodeRules reads what AppendRules wrote. Bad or truncated input is an
// error, never a panic.
func DecodeRules(b []byte) ([]*Rule, error) {
	// One string holds all the text: a decoded string is a slice of it,
	// not an allocation of its own.
	d := decoder{s: string(b)}
	if v := d.uint(); d.err == nil && v != CodecVersion {
		return nil, fmt.Errorf("rule codec version %d, want %d", v, CodecVersion)
	}
	n := d.uint()
	if n > uint64(len(d.s)-d.off) {
		d.fail("length past the end")
		n = 0
	}
	rules := make([]*Rule, 0, n)
	for range n {
		if d.err != nil {
			break
		}
		rules = append(rules, d.rule())
	}
	if d.err == nil && d.off != len(d.s) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return rules, nil
}

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int)     { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// count writes a slice's length, 0 for nil and n+1 otherwise, so that nil
// and empty slices come back as they were.
func (e *encoder) count(n int, isNil bool) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}

func (e *encoder) strs(l []string) {
	e.count(len(l), l == nil)
	for _, s := range l {
		e.str(s)
	}
}

func (e *encoder) pos(p Pos) { e.int(p.Line); e.int(p.Col) }

func (e *encoder) rule(r *Rule) {
	m := &r.Meta
	for _, s := range []string{m.ID, m.Name, m.Title, m.Description, m.Status, m.Author, m.Date, m.Modified, m.Level} {
		e.str(s)
	}
	e.strs(m.Tags)
	e.strs(m.References)
	e.strs(m.FalsePositives)
	e.str(m.Remediation)
	e.str(m.Confidence)
	e.str(m.Outcome)
	e.strs(r.Fields)
	e.str(r.Logsource.Product)
	e.str(r.Logsource.Category)
	e.str(r.Logsource.Service)
	e.bool(r.Aggregation != nil)
	if a := r.Aggregation; a != nil {
		e.uint(uint64(a.Window))
		e.strs(a.By)
	}
	e.strs(r.Filters)
	e.str(r.File)
	e.int(r.Line)
	e.bool(r.Detection != nil)
	if d := r.Detection; d != nil {
		e.count(len(d.Searches), d.Searches == nil)
		for _, s := range d.Searches {
			e.search(s)
		}
		e.expr(d.Condition)
		e.pos(d.Pos)
	}
}

func (e *encoder) search(s *Search) {
	e.str(s.Name)
	e.pos(s.Pos)
	e.count(len(s.Groups), s.Groups == nil)
	for _, g := range s.Groups {
		e.count(len(g), g == nil)
		for _, m := range g {
			e.matcher(m)
		}
	}
}

func (e *encoder) matcher(m *Matcher) {
	e.str(m.Field)
	e.strs(m.Modifiers)
	e.uint(uint64(m.Op))
	e.bool(m.All)
	e.bool(m.Cased)
	e.bool(m.Neq)
	e.uint(uint64(m.Time))
	e.str(m.Position)
	e.str(m.Payload)
	e.pos(m.Pos)
	e.count(len(m.Values), m.Values == nil)
	for i := range m.Values {
		e.value(&m.Values[i])
	}
}

func (e *encoder) value(v *Value) {
	e.str(v.Raw)
	e.count(len(v.Patterns), v.Patterns == nil)
	for _, p := range v.Patterns {
		e.count(len(p), p == nil)
		for _, t := range p {
			e.uint(uint64(t.Kind))
			e.str(t.Text)
		}
	}
	e.bool(v.Regexp != nil)
	if v.Regexp != nil {
		e.str(v.Regexp.String())
	}
	pb, _ := v.Prefix.MarshalBinary() // never fails
	e.str(string(pb))
	e.uint(math.Float64bits(v.Number))
	e.bool(v.Exists)
	e.str(v.Ref)
}

// Condition nodes, by kind.
const (
	exprNil byte = iota
	exprRef
	exprNot
	exprAnd
	exprOr
	exprOf
)

func (e *encoder) expr(x Expr) {
	switch x := x.(type) {
	case nil:
		e.b = append(e.b, exprNil)
	case *Ref:
		e.b = append(e.b, exprRef)
		e.str(x.Name)
		e.int(x.Offset)
	case *Not:
		e.b = append(e.b, exprNot)
		e.expr(x.X)
	case *And:
		e.b = append(e.b, exprAnd)
		e.exprs(x.X)
	case *Or:
		e.b = append(e.b, exprOr)
		e.exprs(x.X)
	case *Of:
		e.b = append(e.b, exprOf)
		e.bool(x.All)
		e.int(x.N)
		e.str(x.Pattern)
		e.strs(x.Names)
		e.int(x.Offset)
	default:
		panic(fmt.Sprintf("rule codec: condition node %T", x))
	}
}

func (e *encoder) exprs(xs []Expr) {
	e.count(len(xs), xs == nil)
	for _, x := range xs {
		e.expr(x)
	}
}

type decoder struct {
	s     string
	off   int
	err   error
	depth int
}

var errTruncated = errors.New("truncated")

func (d *decoder) fail(reason string) {
	if d.err == nil {
		d.err = fmt.Errorf("rule codec: %s at byte %d", reason, d.off)
	}
	d.off = len(d.s)
}

func (d *decoder) uint() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.off >= len(d.s) || shift > 63 {
			d.fail(errTruncated.Error())
			return 0
		}
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (d *decoder) int() int {
	u := d.uint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return int(v)
}

func (d *decoder) byte() byte {
	if d.off >= len(d.s) {
		d.fail(errTruncated.Error())
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

func (d *decoder) bool() bool { return d.byte() != 0 }

func (d *decoder) str() string {
	n := d.uint()
	if n > uint64(len(d.s)-d.off) {
		d.fail(errTruncated.Error())
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// len reads a length written by count: -1 for nil. A length longer than
// the bytes left cannot be right (every element takes a byte at least).
func (d *decoder) len() int {
	n := d.uint()
	if n == 0 {
		return -1
	}
	if n-1 > uint64(len(d.s)-d.off) {
		d.fail("length past the end")
		return -1
	}
	return int(n - 1)
}

func (d *decoder) strs() []string {
	n := d.len()
	if n < 0 {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = d.str()
	}
	return l
}

func (d *decoder) pos() Pos { return Pos{Line: d.int(), Col: d.int()} }

func (d *decoder) rule() *Rule {
	r := &Rule{}
	m := &r.Meta
	for _, p := range []*string{&m.ID, &m.Name, &m.Title, &m.Description, &m.Status, &m.Author, &m.Date, &m.Modified, &m.Level} {
		*p = d.str()
	}
	m.Tags = d.strs()
	m.References = d.strs()
	m.FalsePositives = d.strs()
	m.Remediation = d.str()
	m.Confidence = d.str()
	m.Outcome = d.str()
	r.Fields = d.strs()
	r.Logsource.Product = d.str()
	r.Logsource.Category = d.str()
	r.Logsource.Service = d.str()
	if d.bool() {
		w := d.uint()
		if w > math.MaxInt64 {
			d.fail("aggregation window out of range")
		}
		r.Aggregation = &Aggregation{Window: time.Duration(w), By: d.strs()}
	}
	r.Filters = d.strs()
	r.File = d.str()
	r.Line = d.int()
	if d.bool() {
		det := &Detection{}
		if n := d.len(); n >= 0 {
			det.Searches = make([]*Search, n)
			for i := range det.Searches {
				det.Searches[i] = d.search()
			}
		}
		det.Condition = d.expr()
		det.Pos = d.pos()
		r.Detection = det
	}
	return r
}

func (d *decoder) search() *Search {
	s := &Search{Name: d.str(), Pos: d.pos()}
	if n := d.len(); n >= 0 {
		s.Groups = make([][]*Matcher, n)
		for i := range s.Groups {
			if k := d.len(); k >= 0 {
				g := make([]*Matcher, k)
				for j := range g {
					g[j] = d.matcher()
				}
				s.Groups[i] = g
			}
		}
	}
	return s
}

func (d *decoder) matcher() *Matcher {
	m := &Matcher{Field: d.str(), Modifiers: d.strs()}
	m.Op = Op(d.uint())
	m.All = d.bool()
	m.Cased = d.bool()
	m.Neq = d.bool()
	m.Time = TimePart(d.uint())
	m.Position = d.str()
	m.Payload = d.str()
	m.Pos = d.pos()
	if n := d.len(); n >= 0 {
		m.Values = make([]Value, n)
		for i := range m.Values {
			d.value(&m.Values[i])
		}
	}
	return m
}

func (d *decoder) value(v *Value) {
	v.Raw = d.str()
	if n := d.len(); n >= 0 {
		v.Patterns = make([]Pattern, n)
		for i := range v.Patterns {
			k := d.len()
			if k < 0 {
				continue
			}
			p := make(Pattern, k)
			for j := range p {
				p[j] = Token{Kind: TokenKind(d.uint()), Text: d.str()}
			}
			v.Patterns[i] = p
		}
	}
	if d.bool() {
		src := d.str()
		if d.err != nil {
			return
		}
		re, err := regexp.Compile(src)
		if err != nil {
			d.fail("bad regular expression")
			return
		}
		v.Regexp = re
	}
	if pb := d.str(); d.err == nil {
		if err := v.Prefix.UnmarshalBinary([]byte(pb)); err != nil {
			d.fail("bad network")
		}
	}
	v.Number = math.Float64frombits(d.uint())
	v.Exists = d.bool()
	v.Ref = d.str()
}

// maxExprDepth bounds a decoded condition's nesting, as the condition
// parser bounds a written one's.
const maxExprDepth = 1000

func (d *decoder) expr() Expr {
	if d.depth++; d.depth > maxExprDepth {
		d.fail("condition nested too deep")
	}
	defer func() { d.depth-- }()
	switch k := d.byte(); k {
	case exprNil:
		return nil
	case exprRef:
		return &Ref{Name: d.str(), Offset: d.int()}
	case exprNot:
		return &Not{X: d.expr()}
	case exprAnd:
		return &And{X: d.exprs()}
	case exprOr:
		return &Or{X: d.exprs()}
	case exprOf:
		x := &Of{All: d.bool(), N: d.int()}
		x.Pattern = d.str()
		x.Names = d.strs()
		x.Offset = d.int()
		return x
	default:
		d.fail(fmt.Sprintf("condition node kind %d", k))
		return nil
	}
}

func (d *decoder) exprs() []Expr {
	n := d.len()
	if n < 0 {
		return nil
	}
	xs := make([]Expr, n)
	for i := range xs {
		xs[i] = d.expr()
	}
	return xs
}
