package detect

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/detect/payload"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// An atom is one compiled matcher: a field (or, for keywords, every value
// of the event), an operation and its values. Atoms are shared by every
// rule that writes the same matcher and evaluated at most once per event.
// The next step replaces their one-by-one evaluation with a multi-pattern
// automaton per field that sets the atoms' bits in one pass.
type atom struct {
	field   int32 // field slot (Dict id); -1 for a keyword search
	op      rule.Op
	all     bool
	cased   bool
	neq     bool
	exists  bool
	values  []valueMatcher
	cost    int32
	keyword bool
	// contains counts pContains patterns: worth a bigram filter.
	contains int
	// time, when set, reads the field as a timestamp and compares its
	// part (minute…year) as a number.
	time rule.TimePart
	// position is how a fieldref compares: "", contains, startswith or
	// endswith.
	position string
	// payload is the kind of attack payload an OpPayload atom looks for.
	payload payload.Kind
	// literal: the literal sets can answer the atom (literalOnly).
	literal bool
}

// valueMatcher is one value as written: alternatives for OpMatch, or the
// regexp, network or number of the other operations.
type valueMatcher struct {
	pats  []pat
	re    *regexp.Regexp
	reMin int // shortest value re can match in (minMatchLen); speed only
	// reNeed: literal sets every ASCII value re matches in holds one of
	// each of (requiredAll); speed only.
	reNeed [][]string
	reFact regexFacts // speed only
	prefix netip.Prefix
	num    float64
	ref    int32 // OpFieldRef: the field slot compared with
}

type patKind uint8

const (
	pEqual patKind = iota
	pPrefix
	pSuffix
	pContains
	pAnything
	pSegments // literals separated by stars, no `?`
	pGlob
)

// pat is a wildcard pattern in the fastest form its shape allows.
type pat struct {
	kind patKind
	lit  string
	glob rule.Pattern
	// pSegments: the literals in order; anchored at the start and end
	// unless the pattern starts or ends with a star.
	segs            []string
	openStart, open bool
	grams           []uint16 // pContains: byte pairs for the bigram filter
}

func compilePattern(p rule.Pattern) pat {
	lit := func(t rule.Token) bool { return t.Kind == rule.Lit }
	star := func(t rule.Token) bool { return t.Kind == rule.Star }
	switch {
	case len(p) == 0:
		return pat{kind: pEqual}
	case len(p) == 1 && lit(p[0]):
		return pat{kind: pEqual, lit: p[0].Text}
	case len(p) == 1 && star(p[0]):
		return pat{kind: pAnything}
	case len(p) == 2 && lit(p[0]) && star(p[1]):
		return pat{kind: pPrefix, lit: p[0].Text}
	case len(p) == 2 && star(p[0]) && lit(p[1]):
		return pat{kind: pSuffix, lit: p[1].Text}
	case len(p) == 3 && star(p[0]) && lit(p[1]) && star(p[2]):
		return pat{kind: pContains, lit: p[1].Text, grams: literalGrams(p[1].Text)}
	}
	segs, ok := []string(nil), true
	for _, t := range p {
		switch t.Kind {
		case rule.One:
			ok = false
		case rule.Lit:
			segs = append(segs, t.Text)
		}
	}
	if ok {
		return pat{kind: pSegments, segs: segs, openStart: star(p[0]), open: star(p[len(p)-1])}
	}
	return pat{kind: pGlob, glob: p}
}

// matchSegments matches literals separated by stars: taking each literal
// at its leftmost place after the previous one is never wrong, since a star
// can absorb whatever lies between; only the last literal must sit at the
// end when the pattern does not end with a star.
func (p *pat) matchSegments(s string) bool {
	segs := p.segs
	if !p.openStart {
		if !strings.HasPrefix(s, segs[0]) {
			return false
		}
		s, segs = s[len(segs[0]):], segs[1:]
	}
	last := ""
	if !p.open && len(segs) > 0 {
		last, segs = segs[len(segs)-1], segs[:len(segs)-1]
	}
	for _, seg := range segs {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	if p.open {
		return true
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// match reports whether s matches; flt, when not nil, is the bigram filter
// of s.
func (p *pat) match(s string, flt *bigrams) bool {
	switch p.kind {
	case pEqual:
		return s == p.lit
	case pPrefix:
		return strings.HasPrefix(s, p.lit)
	case pSuffix:
		return strings.HasSuffix(s, p.lit)
	case pContains:
		if flt != nil && !flt.has(p.grams) {
			return false
		}
		return strings.Contains(s, p.lit)
	case pAnything:
		return true
	case pSegments:
		return p.matchSegments(s)
	}
	return p.glob.Match(s)
}

// newAtom compiles matcher m, all but the Dict slots it reads (bind sets
// them): it reads nothing but m, so the compiler can have it done on
// another core ahead of the placing (plan.go).
func newAtom(m *rule.Matcher) (atom, error) {
	a := atom{field: -1, op: m.Op, all: m.All, cased: m.Cased, neq: m.Neq, keyword: m.Field == "",
		time: m.Time, position: m.Position}
	a.values = make([]valueMatcher, 0, len(m.Values))
	// The compiled patterns of all the values are one allocation, each
	// value's a full slice of it.
	var pats []pat
	if m.Op == rule.OpMatch {
		n := 0
		for _, v := range m.Values {
			n += len(v.Patterns)
		}
		pats = make([]pat, 0, n)
	}
	for _, v := range m.Values {
		var vm valueMatcher
		switch m.Op {
		case rule.OpMatch:
			if len(v.Patterns) == 0 {
				return a, fmt.Errorf("value %q of %q has no pattern", v.Raw, m.Field)
			}
			from := len(pats)
			for _, p := range v.Patterns {
				cp := compilePattern(p)
				if cp.kind == pContains {
					a.contains++
				}
				pats = append(pats, cp)
			}
			vm.pats = pats[from:len(pats):len(pats)]
		case rule.OpRegexp:
			if v.Regexp == nil {
				return a, fmt.Errorf("value %q of %q has no regular expression", v.Raw, m.Field)
			}
			vm.re = v.Regexp
			vm.reMin = minMatchLen(v.Regexp.String())
			vm.reNeed = requiredAll(v.Regexp.String())
			vm.reFact = factsOf(v.Regexp.String())
		case rule.OpCIDR:
			if !v.Prefix.IsValid() {
				return a, fmt.Errorf("value %q of %q has no network", v.Raw, m.Field)
			}
			vm.prefix = v.Prefix
		case rule.OpLT, rule.OpLTE, rule.OpGT, rule.OpGTE, rule.OpEqual:
			vm.num = v.Number
		case rule.OpFieldRef:
			if v.Ref == "" || m.Field == "" {
				return a, fmt.Errorf("fieldref of %q has no field to compare with", m.Field)
			}
			vm.ref = -1 // bind
		case rule.OpExists:
			a.exists = v.Exists
		case rule.OpPayload:
			k, ok := payload.KindOf(m.Payload)
			if !ok {
				return a, fmt.Errorf("%q looks for an unknown payload %q", m.Field, m.Payload)
			}
			a.payload, a.exists = k, v.Exists
		case rule.OpNull:
		default:
			return a, fmt.Errorf("operation %v of %q is not supported", m.Op, m.Field)
		}
		a.values = append(a.values, vm)
	}
	if len(a.values) == 0 {
		return a, fmt.Errorf("%q has no values", m.Field)
	}
	a.cost = a.estimate()
	a.literal = literalOnly(m, &a)
	return a, nil
}

// bind gives a, made by newAtom from m, the slot of the field it reads
// and of the fields its fieldref values compare with; intern adds a field
// to the Dict and returns its slot.
func (a *atom) bind(m *rule.Matcher, field int32, intern func(string) int32) {
	a.field = field
	if m.Op == rule.OpFieldRef {
		for i := range a.values {
			a.values[i].ref = intern(m.Values[i].Ref)
		}
	}
}

// estimate is a rough relative cost of evaluating the atom, used to order
// the terms of an and/or so that cheap ones decide first.
func (a *atom) estimate() int32 {
	var c int32 = 1
	for _, v := range a.values {
		switch {
		case a.op == rule.OpPayload:
			c += 60 // decoding and parsing, about a microsecond
		case v.re != nil:
			c += 30
		default:
			for _, p := range v.pats {
				if p.kind == pGlob {
					c += 4
				} else {
					c++
				}
			}
		}
	}
	if a.keyword {
		c *= 20
	}
	return c
}

// appendAtomKey appends to b a key that identifies equal matchers, so that
// rules share their atoms. Texts are length-prefixed, so that no two
// matchers share a key; it is built without fmt, as it is for every
// matcher of every rule at each start.
func appendAtomKey(b []byte, m *rule.Matcher) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(m.Field)
	b = append(b, byte(m.Op), flag(m.All), flag(m.Cased), flag(m.Neq), byte(m.Time))
	str(m.Position)
	str(m.Payload)
	b = binary.AppendUvarint(b, uint64(len(m.Values)))
	for _, v := range m.Values {
		switch m.Op {
		case rule.OpMatch:
			b = binary.AppendUvarint(b, uint64(len(v.Patterns)))
			for _, p := range v.Patterns {
				b = binary.AppendUvarint(b, uint64(len(p)))
				for _, t := range p {
					b = append(b, byte(t.Kind))
					str(t.Text)
				}
			}
		case rule.OpRegexp:
			if v.Regexp != nil { // newAtom refuses it
				str(v.Regexp.String())
			}
		case rule.OpCIDR:
			str(v.Prefix.String())
		case rule.OpExists, rule.OpPayload:
			b = append(b, flag(v.Exists))
		case rule.OpFieldRef:
			str(v.Ref)
		default:
			// As text: the same for every NaN, as fmt printed it.
			b = strconv.AppendFloat(b, v.Number, 'g', -1, 64)
			b = append(b, 0)
		}
	}
	return b
}

func flag(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// test reports whether value matcher vm accepts one value of the field: s
// as the event has it and low in lower case.
func (a *atom) test(vm *valueMatcher, s, low string, flt *bigrams) bool {
	switch a.op {
	case rule.OpMatch:
		in := low
		if a.cased {
			in, flt = s, nil
		}
		for i := range vm.pats {
			if vm.pats[i].match(in, flt) {
				return true
			}
		}
		return false
	case rule.OpRegexp:
		if len(s) < vm.reMin {
			return false
		}
		if m, ok := vm.reFact.decide(s); ok {
			return m
		}
		if len(vm.reNeed) > 0 && isASCII(s) && !hasRequired(s, vm.reNeed) {
			return false
		}
		return vm.re.MatchString(s)
	case rule.OpCIDR:
		ip, ok := parseIP(s)
		return ok && vm.prefix.Contains(ip)
	case rule.OpPayload:
		return payload.Detect(a.payload, s) == a.exists
	case rule.OpLT, rule.OpLTE, rule.OpGT, rule.OpGTE, rule.OpEqual:
		var f float64
		var ok bool
		if a.time != rule.NoTime {
			f, ok = timePart(s, a.time)
		} else {
			f, ok = parseNumber(s)
		}
		if !ok {
			return false
		}
		switch a.op {
		case rule.OpEqual:
			return f == vm.num
		case rule.OpLT:
			return f < vm.num
		case rule.OpLTE:
			return f <= vm.num
		case rule.OpGT:
			return f > vm.num
		}
		return f >= vm.num
	}
	return false
}

// eval evaluates the atom on ev.
func (e *Engine) evalAtom(a *atom, ev *event.Event, sc *scratch) bool {
	if a.keyword {
		return e.evalKeyword(a, ev, sc)
	}
	s, id, ok := e.value(ev, a.field)
	switch a.op {
	case rule.OpExists:
		return ok == a.exists
	case rule.OpNull:
		return !ok || s == ""
	}
	if !ok {
		return false
	}
	if a.op == rule.OpFieldRef {
		return e.evalFieldRef(a, ev, s, sc) != a.neq
	}
	if id < 0 || !ev.Fields.Multi(id) {
		low := s
		var flt *bigrams
		if a.op == rule.OpMatch && !a.cased {
			low = sc.lower(a.field, s)
			if a.contains > 2 && len(low) >= minFiltered {
				flt = sc.filter(a.field, low)
			}
		}
		var hit bool
		if a.all {
			hit = true
			for i := range a.values {
				if !a.test(&a.values[i], s, low, flt) {
					hit = false
					break
				}
			}
		} else {
			for i := range a.values {
				if a.test(&a.values[i], s, low, flt) {
					hit = true
					break
				}
			}
		}
		return hit != a.neq
	}
	// A field with several values: a value matcher is satisfied when any of
	// the field's values satisfies it.
	hit := a.all
	for i := range a.values {
		vm := &a.values[i]
		found := false
		ev.Fields.Each(id, func(v string) bool {
			low := v
			if a.op == rule.OpMatch && !a.cased && needsLower(v) {
				sc.tmp = appendLower(sc.tmp[:0], v)
				low = bytesString(sc.tmp)
			}
			found = a.test(vm, v, low, nil)
			return !found
		})
		if found != a.all {
			hit = found
			break
		}
	}
	return hit != a.neq
}

// evalKeyword looks for the keyword values in every value of the event: its
// own fields (those the Dict holds), its common fields and its raw record.
// A value matcher is satisfied when any of them matches; with all, every
// value matcher must be.
func (e *Engine) evalKeyword(a *atom, ev *event.Event, sc *scratch) bool {
	for i := range a.values {
		vm := &a.values[i]
		var found bool
		if !a.cased && vm.substringsOnly() {
			// Plain keywords are substrings: one search of the event's
			// lowered values joined by NULs (which no literal holds) tells
			// whether any value holds one.
			flt := sc.haystack(ev)
			for j := range vm.pats {
				if flt.has(vm.pats[j].grams) && strings.Contains(sc.hayText(ev), vm.pats[j].lit) {
					found = true
					break
				}
			}
		} else {
			found = e.keywordValue(a, vm, ev, sc)
		}
		if found != a.all {
			return found
		}
	}
	return a.all
}

// substringsOnly reports whether every pattern is a plain substring search
// of a literal without NUL.
func (vm *valueMatcher) substringsOnly() bool {
	for i := range vm.pats {
		if vm.pats[i].kind != pContains || strings.IndexByte(vm.pats[i].lit, 0) >= 0 {
			return false
		}
	}
	return len(vm.pats) > 0
}

func (e *Engine) keywordValue(a *atom, vm *valueMatcher, ev *event.Event, sc *scratch) bool {
	same := ev.Fields.Dict() == e.dict
	for _, id := range ev.Fields.IDs() {
		found := false
		first := true
		ev.Fields.Each(id, func(v string) bool {
			var low string
			switch {
			case a.cased:
				low = v
			case first && same:
				low = sc.lower(id, v)
			default:
				sc.tmp = appendLower(sc.tmp[:0], v)
				low = bytesString(sc.tmp)
			}
			first = false
			found = a.test(vm, v, low, nil)
			return !found
		})
		if found {
			return true
		}
	}
	for c := range ev.Common {
		v := ev.Common[c]
		if v == "" {
			continue
		}
		low := v
		if !a.cased {
			low = sc.lower(int32(len(e.fields)+c), v)
		}
		if a.test(vm, v, low, nil) {
			return true
		}
	}
	if len(ev.Raw) > 0 {
		raw := bytesString(ev.Raw)
		low := raw
		if !a.cased {
			low = sc.lower(int32(len(e.fields)+event.NumCommon), raw)
		}
		if a.test(vm, raw, low, nil) {
			return true
		}
	}
	return false
}

// value returns the first value of field slot f: the event's own field
// first, then the common field of the same ECS name. id is the field's id
// in the event's Dict, or -1 when the value came from a common field.
func (e *Engine) value(ev *event.Event, f int32) (string, int32, bool) {
	fl := &e.fields[f]
	id := f
	if d := ev.Fields.Dict(); d != e.dict {
		// An event decoded with another Dict (an open one, as `vigil
		// decode` uses): look the name up there.
		var ok bool
		if d == nil {
			id, ok = -1, false
		} else {
			id, ok = d.ID(fl.name)
		}
		if !ok {
			id = -1
		}
	}
	if id >= 0 {
		if v, ok := ev.Fields.Get(id); ok {
			return v, id, true
		}
	}
	if fl.common >= 0 {
		if v := ev.Common[fl.common]; v != "" {
			return v, -1, true
		}
	}
	return "", -1, false
}

// evalFieldRef compares s, the field's (first) value, with the first value
// of each referenced field: equal, or containing, starting or ending with
// it, in Unicode lower case (as plain values compare) unless cased. A
// referenced field the event lacks compares false, so that with all it
// fails the matcher (docs/rules.md: with all every value must match).
func (e *Engine) evalFieldRef(a *atom, ev *event.Event, s string, sc *scratch) bool {
	if !a.cased {
		// The scratch lowers each slot's first value once per event:
		// fieldref reads exactly that value, of either field.
		s = sc.lower(a.field, s)
	}
	for i := range a.values {
		ref := a.values[i].ref
		other, _, ok := e.value(ev, ref)
		hit := ok
		if ok {
			if !a.cased {
				other = sc.lower(ref, other)
			}
			hit = compareRef(s, other, a.position)
		}
		if hit != a.all {
			return hit // any: the first true; all: the first false
		}
	}
	return a.all
}

// compareRef compares a field's value with a referenced field's, both
// already lowered unless the comparison is cased. Lowering both the way
// plain values are lowered (appendLower: Unicode lower case, bytes that
// are not UTF-8 kept) rather than strings.EqualFold or strings.ToLower
// keeps fieldref in step with them: simple folding would equal S and ſ,
// and ToLower turns invalid bytes into U+FFFD, making "\xff" end with
// "\xfe".
func compareRef(s, other, position string) bool {
	switch position {
	case "contains":
		return strings.Contains(s, other)
	case "startswith":
		return strings.HasPrefix(s, other)
	case "endswith":
		return strings.HasSuffix(s, other)
	}
	return s == other
}
