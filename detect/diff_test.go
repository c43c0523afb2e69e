package detect

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// This file is a differential test: random rules, generated as a small
// structure of our own and written out as YAML, and random events are
// evaluated by the compiled engine and by the reference evaluator below.
// The reference reads the structure directly, following docs/rules.md and
// the Sigma 2.1 specification; it uses neither the rule package's parsed
// values nor its transformations (patterns, windash, encodings,
// placeholders, condition trees), so that both sides are written from the
// text independently.

// refEvent is an event in the plainest form, for the reference evaluator.
type refEvent struct {
	fields map[string][]string // own fields, in the engine's Dict only
	common [event.NumCommon]string
	raw    string
}

// values returns the values of a field as the documentation reads: own
// field first, then the common field of that ECS name (when not empty).
func (ev *refEvent) values(name string) ([]string, bool) {
	if vs, ok := ev.fields[name]; ok {
		return vs, true
	}
	if c, ok := event.CommonID(name); ok && ev.common[c] != "" {
		return []string{ev.common[c]}, true
	}
	return nil, false
}

func (ev *refEvent) everything() []string {
	var out []string
	for _, vs := range ev.fields {
		out = append(out, vs...)
	}
	for _, v := range ev.common {
		if v != "" {
			out = append(out, v)
		}
	}
	if ev.raw != "" {
		out = append(out, ev.raw)
	}
	return out
}

// ---- the generated rule, as our own structure ----

type gEntry struct {
	field string
	mods  []string // as written
	vals  []string
	null  bool
	list  bool // written as a YAML list
}

type gSearch struct {
	name     string
	keywords []string
	kwAll    bool
	groups   [][]gEntry // keywords == nil: a map (one group) or a list of maps
}

type gCond interface{ prec() int }

type (
	cRef struct{ name string }
	cNot struct{ x gCond }
	cAnd struct{ x []gCond }
	cOr  struct{ x []gCond }
	cOf  struct {
		all bool
		n   int
		pat string // "them" or a pattern with '*'
	}
)

func (cRef) prec() int { return 4 }
func (cOf) prec() int  { return 4 }
func (cNot) prec() int { return 3 }
func (cAnd) prec() int { return 2 }
func (cOr) prec() int  { return 1 }

type gRule struct {
	searches []gSearch
	conds    []gCond // a list is the or of its items
}

// diffPlaceholders are the placeholders every random rule is loaded with.
var diffPlaceholders = map[string][]string{
	"P": {"a*", "-b"},
	"Q": {"K"},
	"R": {"x\\", "1", ""},
}

// ---- the reference evaluator ----

// foldLower is Unicode lower case; bytes that are not UTF-8 (encoded
// values) are left as they are.
func foldLower(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[0])
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		s = s[n:]
	}
	return b.String()
}

var dashes = "-/\u2013\u2014\u2015"

// wildcardRegexp turns a Sigma value into an anchored regular expression:
// '*' any run, '?' one character, backslash escaping '*', '?' and itself
// only; with windash each dash stands for any of the five.
func wildcardRegexp(v string, windash bool, pos string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	if pos == "contains" || pos == "endswith" {
		b.WriteString(`.*`)
	}
	rs := []rune(v)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs) && strings.ContainsRune(`*?\`, rs[i+1]):
			b.WriteString(regexp.QuoteMeta(string(rs[i+1])))
			i++
		case r == '*':
			b.WriteString(`.*`)
		case r == '?':
			b.WriteString(`.`)
		case windash && strings.ContainsRune(dashes, r):
			b.WriteString(`[\-/\x{2013}\x{2014}\x{2015}]`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if pos == "contains" || pos == "startswith" {
		b.WriteString(`.*`)
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// unescape reads a value without wildcards (as an encoded value must be).
func unescape(v string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v) && strings.IndexByte(`*?\`, v[i+1]) >= 0:
			b.WriteByte(v[i+1])
			i++
		case c == '*' || c == '?':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// windashAll lists every way of writing s with each dash any of the five.
func windashAll(s string) []string {
	out := []string{""}
	for _, r := range s {
		var next []string
		for _, o := range out {
			if strings.ContainsRune(dashes, r) {
				for _, d := range dashes {
					next = append(next, o+string(d))
				}
			} else {
				next = append(next, o+string(r))
			}
		}
		out = next
	}
	return out
}

var placeholderRe = regexp.MustCompile(`%([A-Za-z0-9_.\-]+)%`)

func expandAll(s string) []string {
	out := []string{""}
	last := 0
	for _, l := range placeholderRe.FindAllStringSubmatchIndex(s, -1) {
		var next []string
		for _, o := range out {
			for _, v := range diffPlaceholders[s[l[2]:l[3]]] {
				next = append(next, o+s[last:l[0]]+v)
			}
		}
		out, last = next, l[1]
	}
	for i := range out {
		out[i] += s[last:]
	}
	return out
}

func utf16Bytes(s string, enc string) string {
	var b []byte
	if enc == "utf16" {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if enc == "utf16be" {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// offsetFragments: for the text starting 0, 1 or 2 bytes into a 3-byte
// group, the Base64 characters whose 6 bits all come from the text.
func offsetFragments(s string) []string {
	var out []string
	for shift := 0; shift < 3; shift++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", shift) + s))
		var frag []byte
		for k := 0; k < len(enc); k++ {
			lo, hi := 6*k, 6*k+6 // bits of character k
			if lo >= 8*shift && hi <= 8*(shift+len(s)) {
				frag = append(frag, enc[k])
			}
		}
		if len(frag) > 0 {
			out = append(out, string(frag))
		}
	}
	return out
}

type mods struct {
	pos, typed, reFlags, utf, b64    string
	all, cased, neq, windash, expand bool
	time                             string
}

func readMods(ms []string) mods {
	var m mods
	for _, x := range ms {
		switch x {
		case "contains", "startswith", "endswith":
			m.pos = x
		case "re", "cidr", "lt", "lte", "gt", "gte", "exists", "fieldref":
			m.typed = x
		case "i", "m", "s":
			m.reFlags += x
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "neq":
			m.neq = true
		case "windash":
			m.windash = true
		case "expand":
			m.expand = true
		case "wide", "utf16le":
			m.utf = "utf16le"
		case "utf16be", "utf16":
			m.utf = x
		case "base64", "base64offset":
			m.b64 = x
		case "minute", "hour", "day", "week", "month", "year":
			m.time = x
		default:
			panic(x)
		}
	}
	return m
}

var decimalRe = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$`)

func refNumber(s string) (float64, bool) {
	if !decimalRe.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// timestampRe is the timestamp docs/rules.md describes: a date, then
// optionally 'T' or a space, hh:mm:ss, a fraction and a zone (RFC 3339,
// the zone optional).
var timestampRe = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:Z|[+-]([0-9]{2}):([0-9]{2}))?)?$`)

// refTimePart reads a part of a timestamp as written (no zone conversion).
func refTimePart(s, part string) (float64, bool) {
	m := timestampRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	y, mo, d := n(1), n(2), n(3)
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return 0, false // no such day
	}
	if m[4] != "" && (n(4) > 23 || n(5) > 59 || n(6) > 60) {
		return 0, false
	}
	if m[7] != "" && (n(7) > 23 || n(8) > 59) {
		return 0, false // RFC 3339 time-numoffset: an hour and a minute
	}
	switch part {
	case "year":
		return float64(y), true
	case "month":
		return float64(mo), true
	case "day":
		return float64(d), true
	case "week":
		_, w := t.ISOWeek()
		return float64(w), true
	}
	if m[4] == "" {
		return 0, false
	}
	if part == "hour" {
		return float64(n(4)), true
	}
	return float64(n(5)), true
}

func compare(op string, f, v float64) bool {
	switch op {
	case "lt":
		return f < v
	case "lte":
		return f <= v
	case "gt":
		return f > v
	case "gte":
		return f >= v
	}
	return f == v
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// valueTest returns the test of one rule value against one event value.
func valueTest(m mods, raw string) func(string) bool {
	switch m.typed {
	case "re":
		flags := m.reFlags
		src := raw
		if flags != "" {
			src = "(?" + flags + ")" + raw
		}
		re := regexp.MustCompile(src)
		return re.MatchString
	case "cidr":
		p := unmapPrefix(netip.MustParsePrefix(raw))
		return func(s string) bool {
			a, err := netip.ParseAddr(s)
			return err == nil && a.Zone() == "" && p.Contains(a.Unmap())
		}
	case "lt", "lte", "gt", "gte":
		v, _ := strconv.ParseFloat(raw, 64)
		return func(s string) bool {
			f, ok := refNumber(s)
			return ok && compare(m.typed, f, v)
		}
	}
	fold := func(s string) string { return s }
	if !m.cased {
		fold = foldLower
	}
	texts := []string{raw}
	if m.expand {
		texts = expandAll(raw)
	}
	if m.utf == "" && m.b64 == "" {
		var res []*regexp.Regexp
		for _, t := range texts {
			res = append(res, wildcardRegexp(fold(t), m.windash, m.pos))
		}
		return func(s string) bool {
			s = fold(s)
			for _, re := range res {
				if re.MatchString(s) {
					return true
				}
			}
			return false
		}
	}
	var lits []string
	for _, t := range texts {
		vs := []string{t}
		if m.windash {
			vs = windashAll(t)
		}
		for _, v := range vs {
			lit, ok := unescape(v)
			if !ok {
				panic("encoded wildcard: " + v)
			}
			if m.utf != "" {
				lit = utf16Bytes(lit, m.utf)
			}
			switch m.b64 {
			case "base64":
				lits = append(lits, base64.StdEncoding.EncodeToString([]byte(lit)))
			case "base64offset":
				lits = append(lits, offsetFragments(lit)...)
			default:
				lits = append(lits, lit)
			}
		}
	}
	for i := range lits {
		lits[i] = fold(lits[i])
	}
	return func(s string) bool {
		s = fold(s)
		for _, l := range lits {
			var ok bool
			switch m.pos {
			case "contains":
				ok = strings.Contains(s, l)
			case "startswith":
				ok = strings.HasPrefix(s, l)
			case "endswith":
				ok = strings.HasSuffix(s, l)
			default:
				ok = s == l
			}
			if ok {
				return true
			}
		}
		return false
	}
}

// diffStats counts, per kind of matcher, how often the reference found it
// true and false (logged by TestDifferential under -v), to show that
// every kind gets both outcomes.
var diffStats = map[string]*[2]int{}

func entryKind(e *gEntry) string {
	if e.null {
		return "null"
	}
	m := readMods(e.mods)
	switch {
	case m.time != "":
		return "time"
	case m.typed == "lt" || m.typed == "lte" || m.typed == "gt" || m.typed == "gte":
		return "number"
	case m.typed != "":
		return m.typed
	case m.b64 != "":
		return m.b64
	case m.utf != "":
		return "utf16"
	case m.expand:
		return "expand"
	case m.windash:
		return "windash"
	}
	return "plain"
}

func refEntry(e *gEntry, ev *refEvent) bool {
	ok := refEntry1(e, ev)
	k := entryKind(e)
	if diffStats[k] == nil {
		diffStats[k] = new([2]int)
	}
	if ok {
		diffStats[k][1]++
	} else {
		diffStats[k][0]++
	}
	return ok
}

func refEntry1(e *gEntry, ev *refEvent) bool {
	vals, present := ev.values(e.field)
	if e.null {
		return !present || vals[0] == ""
	}
	m := readMods(e.mods)
	switch {
	case m.typed == "exists":
		want := strings.EqualFold(e.vals[0], "true") || strings.EqualFold(e.vals[0], "yes")
		return present == want
	case !present:
		return false
	case m.typed == "fieldref":
		s := vals[0]
		cmp := func(ref string) bool {
			o, ok := ev.values(ref)
			if !ok {
				return false
			}
			// Values compare in Unicode lower case, as plain values do:
			// "S" and "ſ" differ, bytes that are not UTF-8 stay.
			a, b := s, o[0]
			if !m.cased {
				a, b = foldLower(a), foldLower(b)
			}
			switch m.pos {
			case "contains":
				return strings.Contains(a, b)
			case "startswith":
				return strings.HasPrefix(a, b)
			case "endswith":
				return strings.HasSuffix(a, b)
			}
			return a == b
		}
		return quantify(m, e.vals, cmp)
	case m.time != "":
		// docs/rules.md lists "time modifiers look at the first value"
		// under "not supported yet", but the engine reads every value
		// like any other modifier, which is the general rule.
		op := m.typed
		if op == "" {
			op = "eq"
		}
		return quantify(m, e.vals, func(raw string) bool {
			v, _ := strconv.ParseFloat(raw, 64)
			for _, s := range vals {
				if f, ok := refTimePart(s, m.time); ok && compare(op, f, v) {
					return true
				}
			}
			return false
		})
	}
	return quantify(m, e.vals, func(raw string) bool {
		test := valueTest(m, raw)
		for _, s := range vals {
			if test(s) {
				return true
			}
		}
		return false
	})
}

// quantify: any value (all: every value); neq: none.
func quantify(m mods, vals []string, f func(string) bool) bool {
	if m.all {
		for _, v := range vals {
			if !f(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if f(v) {
			return !m.neq
		}
	}
	return m.neq
}

func refSearch(s *gSearch, ev *refEvent) bool {
	if s.keywords != nil {
		every := ev.everything()
		found := func(k string) bool {
			re := wildcardRegexp(foldLower(k), false, "contains")
			for _, v := range every {
				if re.MatchString(foldLower(v)) {
					return true
				}
			}
			return false
		}
		for _, k := range s.keywords {
			if found(k) != s.kwAll {
				return !s.kwAll
			}
		}
		return s.kwAll
	}
	for _, g := range s.groups {
		all := true
		for i := range g {
			if !refEntry(&g[i], ev) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func globMatch(pat, name string) bool {
	return wildcardRegexp(strings.ReplaceAll(pat, `\`, `\\`), false, "").MatchString(name)
}

func matchNames(pat string, names []string) []string {
	var out []string
	for _, n := range names {
		if pat == "them" && !strings.HasPrefix(n, "_") || pat != "them" && globMatch(pat, n) {
			out = append(out, n)
		}
	}
	return out
}

// ofNames resolves the searches `N of pat` counts, in document order.
func (g *gRule) ofNames(pat string) []*gSearch {
	var out []*gSearch
	for i := range g.searches {
		s := &g.searches[i]
		if pat == "them" && !strings.HasPrefix(s.name, "_") || pat != "them" && globMatch(pat, s.name) {
			out = append(out, s)
		}
	}
	return out
}

func (g *gRule) search(name string) *gSearch {
	for i := range g.searches {
		if g.searches[i].name == name {
			return &g.searches[i]
		}
	}
	panic(name)
}

func (g *gRule) eval(c gCond, ev *refEvent) bool {
	switch c := c.(type) {
	case cRef:
		return refSearch(g.search(c.name), ev)
	case cNot:
		return !g.eval(c.x, ev)
	case cAnd:
		for _, x := range c.x {
			if !g.eval(x, ev) {
				return false
			}
		}
		return true
	case cOr:
		for _, x := range c.x {
			if g.eval(x, ev) {
				return true
			}
		}
		return false
	case cOf:
		names := g.ofNames(c.pat)
		n := 0
		for _, s := range names {
			if refSearch(s, ev) {
				n++
			}
		}
		if c.all {
			return n == len(names)
		}
		return n >= c.n
	}
	panic(fmt.Sprintf("%T", c))
}

func (g *gRule) match(ev *refEvent) bool {
	for _, c := range g.conds {
		if g.eval(c, ev) {
			return true
		}
	}
	return false
}

// ---- the generator ----

var (
	diffFields   = []string{"A", "B", "T", "source.ip", "user.name"}
	diffAlpha    = []string{"a", "A", "b", "-", "/", "\\", "*", "?", ".", "1", " ", "Ä", "ä", "ß", "\u212a", "k", "–", "—", "ſ", "s", "%"}
	diffLitAlpha = []string{"a", "A", "b", "-", "/", "\\", "\\*", "\\\\", ".", "1", " ", "Ä", "ß", "\u212a", "k", "–", "ſ", "cmd", "IEX ("}
	diffRes      = []string{"^a", "b$", "a.b", "[0-9]+", "(?:A|k)", "^$", "\u212a", "ſ", "^b.*$", "a\\.", "ä+", "-$"}
	diffCIDRs    = []string{"10.0.0.0/8", "fe80::/10", "1.2.3.4/32", "0.0.0.0/0", "::/0", "10.1.1.1/16", "::ffff:10.0.0.0/104"}
	diffNums     = []string{"1", "2.5", "-3", "0", "0.3", "1.1", "-0", "2.675", "12345678901234567890.5", "0.1"}
	diffNumVals  = []string{"2", "2.5", "-3", "0.3", "0.1", "1.1", "+1", ".5", "5.", "1e1", " 2", "0x10", "2.675", "12345678901234567890.5", "-0", "00.30", "3.0", "", "-", "."}
	diffIPVals   = []string{"10.1.1.1", "fe80::1", "1.2.3.4", "::ffff:10.1.1.1", "010.1.1.1", "10.1.1.1 ", "FE80::1", "fe80::1%1", "1.2.3.4.5", "::1", "10.1.2.3", "::ffff:1.2.3.4"}
	diffTimeVals = []string{"2024-05-06T03:04:05Z", "2024-05-06 03:04:05.678", "2024-05-06", "2024-01-01", "2023-12-31T23:59:59+02:00",
		"2024-12-30 00:00:00", "1999-12-31T23:59:59Z", "2021-01-03T12:30:00Z", "2020-12-31", "2024-02-29 23:00:00"}
	diffTimeEdge = []string{"2024-02-31", "2024-05-06Tjunk", "2024-05-06T03:04", " 2024-05-06", "2024-05-06t03:04:05z",
		"2024-13-01", "03:00", "2024-05-06T24:00:00Z", "2024-05-06 3:04:05", "2023-02-29", "2000-02-29", "1900-02-29",
		"2024-05-06T03:04:60Z", "2024-05-06T03:04:05.", "2024-05-06T03:04:05+24:00", "2024-05-06T03:04:05-07:30",
		"2024-05-06 ", "2024-05-06T03:04:05.123456789", "2024-05-06T03:04:05Z ", "2024-05-06T03:04:05+0200", "2024-04-31"}
	diffTimeNums = map[string][]string{
		"minute": {"0", "4", "30", "59"}, "hour": {"3", "23", "0", "12"}, "day": {"6", "1", "31", "30", "29"},
		"week": {"1", "52", "53", "18"}, "month": {"5", "12", "1", "2"}, "year": {"2024", "1999", "2023", "2021"},
	}
	diffSearchNames = []string{"sel_a", "sel_b", "filter_a", "_x", "x_sel"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randString(r *rand.Rand, alpha []string) string {
	var b strings.Builder
	for n := r.IntN(5); n > 0; n-- {
		b.WriteString(pick(r, alpha))
	}
	return b.String()
}

func countDashes(s string) int {
	n := 0
	for _, c := range s {
		if strings.ContainsRune(dashes, c) {
			n++
		}
	}
	return n
}

func randPlainValue(r *rand.Rand, lit bool, expand bool) string {
	alpha := diffAlpha
	if lit {
		alpha = diffLitAlpha
	}
	s := randString(r, alpha)
	if lit {
		// A lone backslash before a wildcard escape would not be literal
		// text any more: keep the value free of unescaped wildcards.
		s = strings.NewReplacer("*", "", "?", "").Replace(s)
		if strings.HasSuffix(s, "\\") && !strings.HasSuffix(s, "\\\\") {
			s += "x"
		}
	}
	if expand && r.IntN(3) > 0 {
		ph := pick(r, []string{"%P%", "%Q%", "%R%"})
		if lit && ph == "%P%" {
			ph = "%Q%" // P holds a wildcard
		}
		rs := []rune(s)
		s = string(rs[:len(rs)/2]) + ph + string(rs[len(rs)/2:])
	}
	return s
}

func shuffle(r *rand.Rand, xs []string) {
	r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
}

func randEntry(r *rand.Rand, field string) gEntry {
	e := gEntry{field: field}
	n := 1 + r.IntN(3)
	listOf := func(f func() string) {
		for range n {
			e.vals = append(e.vals, f())
		}
	}
	withAllNeq := func() {
		switch r.IntN(5) {
		case 0:
			e.mods = append(e.mods, "all")
			if n < 2 {
				n = 2
			}
		case 1:
			e.mods = append(e.mods, "neq")
		}
	}
	switch k := r.IntN(20); {
	case k < 5: // plain, with positions, windash, expand, cased
		if r.IntN(3) > 0 {
			e.mods = append(e.mods, pick(r, []string{"contains", "startswith", "endswith"}))
		}
		if r.IntN(3) == 0 {
			e.mods = append(e.mods, "windash")
		}
		ex := r.IntN(4) == 0
		if ex {
			e.mods = append(e.mods, "expand")
		}
		if r.IntN(4) == 0 {
			e.mods = append(e.mods, "cased")
		}
		withAllNeq()
		shuffle(r, e.mods)
		listOf(func() string { return randPlainValue(r, false, ex) })
	case k < 9: // encodings
		var enc []string
		b64 := ""
		switch r.IntN(3) {
		case 0:
			b64 = "base64"
		case 1:
			b64 = "base64offset"
		}
		if b64 == "" || r.IntN(2) == 0 {
			enc = append(enc, pick(r, []string{"utf16le", "utf16be", "utf16", "wide"}))
		}
		if b64 != "" {
			enc = append(enc, b64)
		}
		var other []string
		if b64 == "base64offset" {
			other = append(other, "contains")
		} else if r.IntN(2) == 0 {
			other = append(other, pick(r, []string{"contains", "startswith", "endswith"}))
		}
		if r.IntN(3) == 0 {
			other = append(other, "windash")
		}
		ex := r.IntN(4) == 0
		if ex {
			other = append(other, "expand")
		}
		if r.IntN(4) == 0 {
			other = append(other, "cased")
		}
		e.mods = other
		withAllNeq()
		// Encodings keep their order (text first, then Base64); the
		// other modifiers go anywhere.
		for _, x := range enc {
			i := r.IntN(len(e.mods) + 1)
			if len(enc) == 2 && x == b64 {
				// after the text encoding
				j := 0
				for j < len(e.mods) && e.mods[j] != enc[0] {
					j++
				}
				i = j + 1 + r.IntN(len(e.mods)-j)
			}
			e.mods = append(e.mods[:i], append([]string{x}, e.mods[i:]...)...)
		}
		listOf(func() string {
			v := randPlainValue(r, true, ex)
			if b64 == "base64offset" && v == "" {
				v = "cmd" // an empty value has no Base64 fragment
			}
			return v
		})
	case k < 11: // re
		e.mods = []string{"re"}
		fl := []string{"i", "m", "s"}
		shuffle(r, fl)
		e.mods = append(e.mods, fl[:r.IntN(4)]...)
		if r.IntN(5) == 0 {
			e.mods = append(e.mods, "cased")
		}
		if r.IntN(5) == 0 {
			e.mods = append(e.mods, "all")
			n = max(n, 2)
		}
		listOf(func() string { return pick(r, diffRes) })
	case k < 12:
		e.mods = []string{"cidr"}
		listOf(func() string { return pick(r, diffCIDRs) })
	case k < 14:
		e.mods = []string{pick(r, []string{"lt", "lte", "gt", "gte"})}
		listOf(func() string { return pick(r, diffNums) })
	case k < 15:
		e.mods = []string{"exists"}
		e.vals = []string{pick(r, []string{"true", "false", "yes", "no"})}
		return e
	case k < 16:
		e.null = true
		return e
	case k < 18: // time parts
		part := pick(r, []string{"minute", "hour", "day", "week", "month", "year"})
		e.mods = []string{part}
		switch r.IntN(3) {
		case 0:
			e.mods = append(e.mods, pick(r, []string{"lt", "lte", "gt", "gte"}))
		case 1:
			e.mods = append(e.mods, "neq")
		}
		shuffle(r, e.mods)
		listOf(func() string { return pick(r, diffTimeNums[part]) })
	default: // fieldref
		e.mods = []string{"fieldref"}
		if r.IntN(2) == 0 {
			e.mods = append(e.mods, pick(r, []string{"contains", "startswith", "endswith"}))
		}
		if r.IntN(4) == 0 {
			e.mods = append(e.mods, "cased")
		}
		withAllNeq()
		shuffle(r, e.mods)
		listOf(func() string { return pick(r, diffFields) })
	}
	e.list = len(e.vals) > 1 || r.IntN(2) == 0
	return e
}

func randSearch(r *rand.Rand, name string) gSearch {
	s := gSearch{name: name}
	switch r.IntN(5) {
	case 0: // keywords
		s.kwAll = r.IntN(3) == 0
		n := 1 + r.IntN(2)
		if s.kwAll {
			n = 2
		}
		for range n {
			s.keywords = append(s.keywords, randString(r, diffAlpha))
		}
	case 1: // list of maps
		for n := 1 + r.IntN(2); n > 0; n-- {
			s.groups = append(s.groups, randGroup(r))
		}
	default:
		s.groups = [][]gEntry{randGroup(r)}
	}
	return s
}

func randGroup(r *rand.Rand) []gEntry {
	var g []gEntry
	used := map[string]bool{}
	for m := 1 + r.IntN(3); m > 0; m-- {
		e := randEntry(r, pick(r, diffFields))
		key := e.field + "|" + strings.Join(e.mods, "|")
		if !used[key] {
			used[key] = true
			g = append(g, e)
		}
	}
	return g
}

// randOfPattern returns a pattern that matches at least one name: a name
// with a part replaced by '*'.
func randOfPattern(r *rand.Rand, names []string) string {
	if r.IntN(4) == 0 {
		for _, n := range names {
			if !strings.HasPrefix(n, "_") {
				return "them"
			}
		}
	}
	n := pick(r, names)
	i := r.IntN(len(n) + 1)
	j := i + r.IntN(len(n)-i+1)
	return n[:i] + "*" + n[j:]
}

func randCond(r *rand.Rand, names []string, depth int) gCond {
	k := r.IntN(10)
	if depth > 2 {
		k = r.IntN(5)
	}
	switch k {
	case 0, 1, 2:
		return cRef{pick(r, names)}
	case 3, 4:
		c := cOf{pat: randOfPattern(r, names)}
		switch r.IntN(4) {
		case 0, 1:
			c.n = 1
		case 2:
			c.all = true
		default:
			// The parser rejects N of a pattern that names fewer than
			// N searches.
			c.n = 2
			if len(matchNames(c.pat, names)) < 2 {
				c.n = 1
			}
		}
		return c
	case 5:
		return cNot{randCond(r, names, depth+1)}
	case 6, 7:
		return cOr{[]gCond{randCond(r, names, depth+1), randCond(r, names, depth+1)}}
	default:
		return cAnd{[]gCond{randCond(r, names, depth+1), randCond(r, names, depth+1)}}
	}
}

// ---- writing the rule out ----

func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func condString(r *rand.Rand, c gCond) string {
	sub := func(x gCond, min int) string {
		s := condString(r, x)
		if x.prec() < min || r.IntN(6) == 0 {
			return "(" + s + ")"
		}
		return s
	}
	switch c := c.(type) {
	case cRef:
		return c.name
	case cOf:
		q := strconv.Itoa(c.n)
		if c.all {
			q = "all"
		}
		return q + " of " + c.pat
	case cNot:
		return "not " + sub(c.x, 3)
	case cAnd:
		return sub(c.x[0], 2) + " and " + sub(c.x[1], 2)
	case cOr:
		return sub(c.x[0], 1) + " or " + sub(c.x[1], 1)
	}
	panic("cond")
}

func writeEntry(b *strings.Builder, e *gEntry, indent string) {
	key := e.field
	for _, m := range e.mods {
		key += "|" + m
	}
	if e.null {
		fmt.Fprintf(b, "%s%s: null\n", indent, key)
		return
	}
	if !e.list {
		fmt.Fprintf(b, "%s%s: %s\n", indent, yamlQuote(key), yamlQuote(e.vals[0]))
		return
	}
	fmt.Fprintf(b, "%s%s:\n", indent, yamlQuote(key))
	for _, v := range e.vals {
		fmt.Fprintf(b, "%s  - %s\n", indent, yamlQuote(v))
	}
}

func (g *gRule) yaml(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("title: random\nlogsource: {product: windows}\ndetection:\n")
	for _, s := range g.searches {
		fmt.Fprintf(&b, "  %s:\n", s.name)
		switch {
		case s.kwAll:
			b.WriteString("    '|all':\n")
			for _, k := range s.keywords {
				fmt.Fprintf(&b, "      - %s\n", yamlQuote(k))
			}
		case s.keywords != nil:
			for _, k := range s.keywords {
				fmt.Fprintf(&b, "    - %s\n", yamlQuote(k))
			}
		case len(s.groups) == 1 && r.IntN(4) > 0:
			for i := range s.groups[0] {
				writeEntry(&b, &s.groups[0][i], "    ")
			}
		default:
			for _, grp := range s.groups {
				b.WriteString("    -\n")
				for i := range grp {
					writeEntry(&b, &grp[i], "      ")
				}
			}
		}
	}
	if len(g.conds) == 1 {
		fmt.Fprintf(&b, "  condition: %s\n", condString(r, g.conds[0]))
	} else {
		b.WriteString("  condition:\n")
		for _, c := range g.conds {
			fmt.Fprintf(&b, "    - %s\n", condString(r, c))
		}
	}
	return b.String()
}

func randRule(r *rand.Rand) *gRule {
	g := &gRule{}
	names := append([]string(nil), diffSearchNames...)
	shuffle(r, names)
	names = names[:1+r.IntN(3)]
	for _, n := range names {
		g.searches = append(g.searches, randSearch(r, n))
	}
	g.conds = []gCond{randCond(r, names, 0)}
	for r.IntN(6) == 0 && len(g.conds) < 3 {
		g.conds = append(g.conds, randCond(r, names, 1))
	}
	return g
}

// ---- events ----

// hints are event values made from the rule's own values, so that
// encoded and wildcard values get matched now and then.
func (g *gRule) hints(r *rand.Rand) []string {
	var out []string
	for _, s := range g.searches {
		for _, grp := range s.groups {
			for _, e := range grp {
				if e.null || len(e.vals) == 0 {
					continue
				}
				m := readMods(e.mods)
				if m.typed != "" || m.time != "" {
					continue
				}
				for _, v := range e.vals {
					texts := []string{v}
					if m.expand {
						texts = expandAll(v)
					}
					t := pick(r, texts)
					if m.windash {
						t = pick(r, windashAll(t))
					}
					if m.utf == "" && m.b64 == "" {
						// fill the wildcards in
						t = strings.NewReplacer(`\*`, "*", `\?`, "?", "*", randString(r, diffAlpha), "?", "k").Replace(t)
						out = append(out, t)
						continue
					}
					lit, _ := unescape(t)
					if m.utf != "" {
						lit = utf16Bytes(lit, m.utf)
					}
					switch m.b64 {
					case "base64":
						lit = base64.StdEncoding.EncodeToString([]byte(lit))
					case "base64offset":
						lit = base64.StdEncoding.EncodeToString([]byte(randString(r, []string{"x", "yy", ""}) + lit + "z"))
					}
					out = append(out, lit)
				}
			}
		}
	}
	return out
}

func randEventValue(r *rand.Rand, field string, hints []string) string {
	switch k := r.IntN(10); {
	case k < 3 && len(hints) > 0:
		h := pick(r, hints)
		switch r.IntN(4) {
		case 0:
			h = strings.ToUpper(h)
		case 1:
			h = randString(r, diffAlpha) + h + randString(r, diffAlpha)
		}
		return h
	case k < 5 && field == "T":
		if r.IntN(3) == 0 {
			return pick(r, diffTimeEdge)
		}
		return pick(r, diffTimeVals)
	case k < 5:
		if r.IntN(2) == 0 {
			return pick(r, diffNumVals)
		}
		return pick(r, diffIPVals)
	}
	return randString(r, diffAlpha)
}

func randEvent(r *rand.Rand, e *Engine, hints []string) (*event.Event, *refEvent) {
	ev := &event.Event{Logsource: win}
	ev.Fields.Bind(e.Dict())
	ref := &refEvent{fields: map[string][]string{}}
	set := func(f, v string) {
		if ev.Fields.SetName([]byte(f), v) {
			ref.fields[f] = append(ref.fields[f], v)
		}
	}
	for _, f := range diffFields {
		if r.IntN(3) == 0 {
			continue
		}
		for n := 1 + r.IntN(2)*r.IntN(3); n > 0; n-- {
			set(f, randEventValue(r, f, hints))
		}
	}
	// fieldref: copy a value from field to field now and then
	if r.IntN(3) == 0 {
		from, to := pick(r, diffFields), pick(r, diffFields)
		if vs, ok := ref.fields[from]; ok && ref.fields[to] == nil {
			v := vs[0]
			switch r.IntN(3) {
			case 0:
				v = strings.ToUpper(v)
			case 1:
				v = "x" + v
			}
			set(to, v)
		}
	}
	for _, c := range []int{event.SourceIP, event.UserName, event.Message} {
		if r.IntN(2) == 0 {
			v := randEventValue(r, "", hints)
			ev.Common[c], ref.common[c] = v, v
		}
	}
	if r.IntN(3) == 0 {
		ref.raw = randString(r, diffAlpha) + randString(r, diffAlpha)
		ev.Raw = []byte(ref.raw)
	}
	return ev, ref
}

// checkRandom draws one random rule and n random events and fails when the
// engine and the reference disagree. It reports whether the parser took the
// rule and how many events matched.
func checkRandom(t *testing.T, r *rand.Rand, n int) (parsed bool, hits int) {
	g := randRule(r)
	src := g.yaml(r)
	o := &rule.Options{Placeholders: diffPlaceholders}
	set, errs := o.ParseSet("random.yml", []byte(src))
	if len(errs) > 0 {
		if testing.Verbose() && os.Getenv("VIGIL_DIFF_REJECTS") != "" {
			t.Logf("rejected: %v\n%s", errs, src)
		}
		return false, 0
	}
	e, errs := Compile(set.Rules, Options{})
	if len(errs) > 0 {
		t.Fatalf("compile: %v\n%s", errs, src)
	}
	hints := g.hints(r)
	for j := 0; j < n; j++ {
		ev, ref := randEvent(r, e, hints)
		want := g.match(ref)
		got := len(e.Match(ev, nil)) == 1
		if want {
			hits++
		}
		if got != want {
			t.Fatalf("engine %v, reference %v\nrule:\n%s\nevent: fields %+q common %+q raw %+q",
				got, want, src, ref.fields, ref.common, ref.raw)
		}
	}
	return true, hits
}

// TestDifferential compares the compiled engine with the reference
// evaluator above on random small rules and events. VIGIL_DIFF_RULES sets
// the number of rules (for a longer run).
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const perRule = 25
	rulesN, rejected, hits := 2000, 0, 0
	if testing.Short() {
		rulesN = 500
	}
	if s := os.Getenv("VIGIL_DIFF_RULES"); s != "" {
		rulesN, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("VIGIL_DIFF_SEED"); s != "" {
		seed, _ := strconv.ParseUint(s, 10, 64)
		r = rand.New(rand.NewPCG(seed, 2))
	}
	for i := 0; i < rulesN; i++ {
		ok, h := checkRandom(t, r, perRule)
		if !ok {
			rejected++
		}
		hits += h
	}
	for k, v := range diffStats {
		t.Logf("%-14s false %6d true %6d", k, v[0], v[1])
	}
	evals := (rulesN - rejected) * perRule
	t.Logf("%d random rules (%d rejected by the parser), %d events, %d matches", rulesN, rejected, evals, hits)
	if rejected > rulesN/4 {
		t.Errorf("the generator makes too many bad rules: %d of %d", rejected, rulesN)
	}
	if hits < evals/20 || hits > evals*19/20 {
		t.Errorf("random events match too rarely or too often: %d of %d", hits, evals)
	}
}

// FuzzDifferential lets the fuzzer pick the seeds of the random rules and
// events.
func FuzzDifferential(f *testing.F) {
	for i := uint64(0); i < 8; i++ {
		f.Add(i, i*7919)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		checkRandom(t, rand.New(rand.NewPCG(a, b)), 10)
	})
}

// byteSource is a rand.Source reading the fuzzer's bytes, so that a small
// change of the input changes one choice of the generator rather than all
// of them; past the end it goes on with a fixed pseudo-random stream (a
// constant stream would hang rand's rejection sampling).
type byteSource struct {
	b    []byte
	rest rand.PCG
}

func (s *byteSource) Uint64() uint64 {
	if len(s.b) < 8 {
		return s.rest.Uint64()
	}
	var v uint64
	for i := 0; i < 8; i++ {
		v = v<<8 | uint64(s.b[i])
	}
	s.b = s.b[8:]
	return v
}

// FuzzDifferentialBytes drives the generator's choices from the fuzzer's
// bytes directly.
func FuzzDifferentialBytes(f *testing.F) {
	seed := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(seed.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRandom(t, rand.New(&byteSource{b: b}), 5)
	})
}

// FuzzTimePartReference compares the engine's timestamp reading with the
// reference's on any text: the random events only draw from a list.
func FuzzTimePartReference(f *testing.F) {
	for _, s := range append(append([]string(nil), diffTimeVals...), diffTimeEdge...) {
		f.Add(s)
	}
	parts := map[string]rule.TimePart{"minute": rule.Minute, "hour": rule.Hour, "day": rule.Day,
		"week": rule.Week, "month": rule.Month, "year": rule.Year}
	f.Fuzz(func(t *testing.T, s string) {
		for name, part := range parts {
			got, gok := timePart(s, part)
			want, wok := refTimePart(s, name)
			if gok != wok || gok && got != want {
				t.Fatalf("%q %s: engine %v %v, reference %v %v", s, name, got, gok, want, wok)
			}
		}
	})
}
