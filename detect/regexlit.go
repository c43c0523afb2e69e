package detect

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/rule"
)

// Regular expressions are slow atoms, evaluated one by one, and a rule
// whose condition hangs on one had no trigger: it was a candidate for every
// event of its logsource. Most expressions cannot match without some
// literal text occurring in the value (`(?i)set.*&&` needs "&&"), so each
// such atom gets a proxy: a literal atom over the same field, "contains
// any of the required literals", that no condition reads but that serves as
// the trigger. The proxy holds whenever the expression does, so a rule is
// still a candidate whenever it can match.

// addRegexpProxies adds the proxy atoms (before buildFastPath) and returns
// them by atom; -1 where there is none. The atoms that get one are those
// with pieces (proxyPieces).
func (c *compiler) addRegexpProxies() []int32 {
	e := c.e
	n := len(e.atoms)
	proxy := make([]int32, n)
	byLits := make(map[string]int32)
	for i := 0; i < n; i++ {
		proxy[i] = -1
		a := &e.atoms[i]
		lits := c.pieces[i]
		if len(lits) == 0 {
			continue
		}
		key := strings.Join(append([]string{e.fields[a.field].name}, lits...), "\x00")
		if id, ok := byLits[key]; ok {
			proxy[i] = id
			continue
		}
		p := atom{field: a.field, op: rule.OpMatch, cost: 1}
		for _, l := range lits {
			p.values = append(p.values, valueMatcher{pats: []pat{{kind: pContains, lit: l}}})
		}
		p.literal = literalOnly(&rule.Matcher{Field: e.fields[a.field].name, Op: rule.OpMatch}, &p)
		id := int32(len(e.atoms))
		e.atoms = append(e.atoms, p)
		byLits[key] = id
		proxy[i] = id
	}
	return proxy
}

// proxyPieces returns the literals a proxy atom of a would look for, one
// of which every value a matches holds; nil when a gets no proxy.
// Besides regular expressions, wildcard patterns the literal sets cannot
// answer (`a*b`, `a?c`, cased values) get one: each needs its longest
// literal piece.
func proxyPieces(a *atom) []string {
	if a.neq || a.keyword || a.time != rule.NoTime {
		return nil
	}
	var lits []string
	switch {
	case a.op == rule.OpRegexp:
		for j := range a.values {
			ls := requiredLiterals(a.values[j].re.String())
			if len(ls) == 0 {
				return nil
			}
			lits = append(lits, ls...)
		}
	case a.op == rule.OpMatch && a.position == "" && !a.literal:
		lits = patternPieces(a)
	}
	return lits
}

// minPiece is the shortest literal piece of a wildcard pattern worth a
// proxy: shorter ones occur in nearly every value.
const minPiece = 3

// patternPieces returns, for a matching atom, one lowered literal per
// pattern that every value matching the pattern contains (its longest
// literal piece), or nil when some pattern has none worth it.
func patternPieces(a *atom) []string {
	var lits []string
	for i := range a.values {
		for j := range a.values[i].pats {
			p := &a.values[i].pats[j]
			var longest string
			switch p.kind {
			case pEqual, pPrefix, pSuffix, pContains:
				longest = p.lit
			case pSegments:
				for _, s := range p.segs {
					if len(s) > len(longest) {
						longest = s
					}
				}
			case pGlob:
				for _, t := range p.glob {
					if t.Kind == rule.Lit && len(t.Text) > len(longest) {
						longest = t.Text
					}
				}
			}
			// Lowering keeps containment (it works rune by rune, and
			// pieces start and end on rune boundaries), so a cased
			// pattern's value holds the lowered piece case-insensitively.
			longest = string(appendLower(nil, longest))
			if len(longest) < minPiece {
				return nil
			}
			lits = append(lits, longest)
		}
	}
	return lits
}

// minRequired is the shortest required literal worth a proxy.
const minRequired = 2

// requiredLiterals returns lower-case ASCII literals one of which occurs
// (ignoring ASCII case) in every string the expression matches anywhere in,
// or nil.
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(re.Simplify())
	for _, l := range set {
		if len(l) < minRequired {
			return nil
		}
	}
	return set
}

// required returns a set of literals one of which every match of re
// contains, preferring the set whose shortest literal is longest; nil when
// it finds none.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return best(nil, literalRuns(re))
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var set []string
		for _, s := range re.Sub {
			ls := required(s)
			if len(ls) == 0 {
				return nil
			}
			set = append(set, ls...)
		}
		return set
	case syntax.OpConcat:
		var bestSet []string
		concatPieces(re, func(set []string) { bestSet = best(bestSet, set) },
			func(s *syntax.Regexp) { bestSet = best(bestSet, required(s)) })
		return bestSet
	}
	return nil
}

// concatPieces walks the parts of a concatenation in order: literals
// whose every rune a proxy can use join with their neighbours into one
// longer literal, reported as a one-literal set; other literal nodes
// report their usable runs (possibly none); every other part goes to
// other.
func concatPieces(re *syntax.Regexp, lits func([]string), other func(*syntax.Regexp)) {
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			lits([]string{run.String()})
			run.Reset()
		}
	}
	for _, s := range re.Sub {
		if s.Op == syntax.OpLiteral {
			rs := literalRuns(s)
			if len(rs) == 1 && len(rs[0]) == len(s.Rune) {
				run.WriteString(rs[0])
				continue
			}
			flush()
			lits(rs)
			continue
		}
		flush()
		other(s)
	}
	flush()
}

// literalRuns splits a literal node into the runs a proxy can use, each a
// single-element candidate: ASCII only, lowered; under case folding not
// 's' (which also folds with U+017F, which lowering keeps as it is).
func literalRuns(re *syntax.Regexp) []string {
	fold := re.Flags&syntax.FoldCase != 0
	var runs []string
	var cur []byte
	for _, r := range re.Rune {
		ok := r < utf8.RuneSelf && !(fold && (r == 's' || r == 'S'))
		if !ok {
			if len(cur) > 0 {
				runs = append(runs, string(cur))
				cur = cur[:0]
			}
			continue
		}
		b := byte(r)
		if b-'A' < 26 {
			b += 'a' - 'A'
		}
		cur = append(cur, b)
	}
	if len(cur) > 0 {
		runs = append(runs, string(cur))
	}
	// One literal each: any single run is required; keep the longest.
	var longest string
	for _, r := range runs {
		if len(r) > len(longest) {
			longest = r
		}
	}
	if longest == "" {
		return nil
	}
	if len(runs) == 1 {
		return runs
	}
	return []string{longest}
}

// best returns whichever of the sets a and b (each a set of alternatives)
// has the longer shortest literal.
func best(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 || shortest(b) > shortest(a) {
		return b
	}
	return a
}

func shortest(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// minMatchLen returns a length in bytes below which no string holds a match
// of expr (0 when it cannot tell): a value shorter than that is rejected
// without running the expression. Invalid UTF-8 bytes read as U+FFFD of
// width one, so that rune counts one byte.
func minMatchLen(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	return min(minLen(re), 1<<20)
}

func runeMinLen(r rune, fold bool) int {
	w := func(r rune) int {
		if r == utf8.RuneError {
			return 1
		}
		if n := utf8.RuneLen(r); n > 0 {
			return n
		}
		return 1
	}
	m := w(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, w(f))
		}
	}
	return m
}

func minLen(re *syntax.Regexp) int {
	const inf = 1 << 20
	switch re.Op {
	case syntax.OpNoMatch:
		return inf
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeMinLen(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return inf
		}
		m := 4
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo <= utf8.RuneError && utf8.RuneError <= hi {
				return 1
			}
			m = min(m, runeMinLen(lo, false))
		}
		return m
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minLen(re.Sub[0]), inf)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+minLen(s), inf)
		}
		return n
	case syntax.OpAlternate:
		m := inf
		for _, s := range re.Sub {
			m = min(m, minLen(s))
		}
		return m
	}
	// Star, quest, empty and zero-width assertions.
	return 0
}

// requiredAll returns sets of lower-case ASCII literals such that every
// string expr matches in holds (ignoring ASCII case) a literal of each set
// — when the string is ASCII, where case folding is ASCII's: a cheap test
// that turns away most values before running the expression. nil when it
// finds none.
func requiredAll(expr string) [][]string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return conjuncts(re.Simplify(), nil)
}

func conjuncts(re *syntax.Regexp, out [][]string) [][]string {
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return conjuncts(re.Sub[0], out)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return conjuncts(re.Sub[0], out)
		}
		return out
	case syntax.OpConcat:
		concatPieces(re, func(set []string) {
			if len(set) > 0 {
				out = append(out, set)
			}
		}, func(s *syntax.Regexp) { out = conjuncts(s, out) })
		return out
	}
	if set := required(re); len(set) > 0 {
		out = append(out, set)
	}
	return out
}

// hasRequired reports whether the ASCII string s holds, ignoring ASCII
// case, a literal of every set of need.
func hasRequired(s string, need [][]string) bool {
	for _, set := range need {
		found := false
		for _, l := range set {
			if containsFoldASCII(s, l) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether s holds lit (lower case) ignoring
// ASCII case.
func containsFoldASCII(s, lit string) bool {
	n := len(lit)
	if n == 0 {
		return true
	}
	if n > len(s) {
		return false
	}
	lc, uc := lit[0], lit[0]
	if 'a' <= lc && lc <= 'z' {
		uc = lc - ('a' - 'A')
	}
	end := len(s) - n + 1 // candidate starts are < end
	nl, nu := -2, -2      // next start of lc / uc at or after i; -1 none
	for i := 0; i < end; {
		if nl != -1 && nl < i {
			if k := strings.IndexByte(s[i:end], lc); k >= 0 {
				nl = i + k
			} else {
				nl = -1
			}
		}
		if uc == lc {
			nu = -1
		} else if nu != -1 && nu < i {
			if k := strings.IndexByte(s[i:end], uc); k >= 0 {
				nu = i + k
			} else {
				nu = -1
			}
		}
		p := nl
		if p < 0 || nu >= 0 && nu < p {
			p = nu
		}
		if p < 0 {
			return false
		}
		if equalFoldASCII(s[p+1:p+n], lit[1:]) {
			return true
		}
		i = p + 1
	}
	return false
}

func equalFoldASCII(s, lit string) bool {
	for i := 0; i < len(lit); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

// regexFacts are what the expression's syntax tells about the values it
// can match, so that most values are decided without running it.
type regexFacts struct {
	// maxLen: the expression is anchored at both ends of the text (^…$,
	// not multi-line) and no match is longer than this many bytes; -1 when
	// unbounded or unanchored.
	maxLen int
	// run > 0: the expression is just "a run of at least run characters"
	// (`.{1000,}`), of any characters when runAny, else of characters
	// other than newline. Go compiles such a repeat into a program of run
	// steps that costs microseconds per value; counting runes does not.
	run    int
	runAny bool
}

// factsOf works out the facts of expr.
func factsOf(expr string) regexFacts {
	f := regexFacts{maxLen: -1}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return f
	}
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if n, anyChar, ok := runOf(re); ok {
		f.run, f.runAny = n, anyChar
		return f
	}
	if re.Op == syntax.OpConcat && len(re.Sub) >= 2 &&
		re.Sub[0].Op == syntax.OpBeginText && re.Sub[len(re.Sub)-1].Op == syntax.OpEndText {
		if n := maxLen(re); n < 1<<20 {
			f.maxLen = n
		}
	}
	return f
}

// runOf recognises x{n,} and x+ where x is any character.
func runOf(re *syntax.Regexp) (n int, anyChar, ok bool) {
	var sub *syntax.Regexp
	switch re.Op {
	case syntax.OpRepeat:
		if re.Max != -1 || re.Min < 1 {
			return 0, false, false
		}
		n, sub = re.Min, re.Sub[0]
	case syntax.OpPlus:
		n, sub = 1, re.Sub[0]
	default:
		return 0, false, false
	}
	for sub.Op == syntax.OpCapture {
		sub = sub.Sub[0]
	}
	switch sub.Op {
	case syntax.OpAnyChar:
		return n, true, true
	case syntax.OpAnyCharNotNL:
		return n, false, true
	}
	return 0, false, false
}

// hasRun reports whether s holds a run of n characters (runes; a byte that
// is not UTF-8 counts as one, as the regexp package reads it), newlines
// included when anyChar.
func hasRun(s string, n int, anyChar bool) bool {
	if anyChar {
		return len(s) >= n && utf8.RuneCountInString(s) >= n
	}
	for len(s) >= n {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if len(line) >= n && utf8.RuneCountInString(line) >= n {
			return true
		}
	}
	return false
}

// maxLen is the longest match of re in bytes (1<<20 or more: unbounded).
func maxLen(re *syntax.Regexp) int {
	const inf = 1 << 20
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeMaxLen(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass:
		m := 1
		for i := 1; i < len(re.Rune); i += 2 {
			m = max(m, runeWidth(re.Rune[i]))
		}
		return m
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return inf
		}
		return min(re.Max*maxLen(re.Sub[0]), inf)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+maxLen(s), inf)
		}
		return n
	case syntax.OpAlternate:
		m := 0
		for _, s := range re.Sub {
			m = max(m, maxLen(s))
		}
		return m
	}
	// Star, plus and whatever the syntax adds later: unbounded.
	return inf
}

func runeWidth(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return utf8.UTFMax
}

func runeMaxLen(r rune, fold bool) int {
	m := runeWidth(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = max(m, runeWidth(f))
		}
	}
	return m
}

// decide reports whether the facts alone decide whether the expression
// matches in s, and if so the answer.
func (f *regexFacts) decide(s string) (match, decided bool) {
	if f.run > 0 {
		return hasRun(s, f.run, f.runAny), true
	}
	if f.maxLen >= 0 && len(s) > f.maxLen {
		return false, true
	}
	return false, false
}
