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
// them by regexp atom; -1 where there is none.
func (c *compiler) addRegexpProxies() []int32 {
	e := c.e
	n := len(e.atoms)
	proxy := make([]int32, n)
	byLits := make(map[string]int32)
	for i := 0; i < n; i++ {
		proxy[i] = -1
		a := &e.atoms[i]
		if a.op != rule.OpRegexp || a.neq || a.keyword || a.field < 0 || a.time != rule.NoTime {
			continue
		}
		var lits []string
		for j := range a.values {
			ls := requiredLiterals(a.values[j].re.String())
			if len(ls) == 0 {
				lits = nil
				break
			}
			lits = append(lits, ls...)
		}
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
		id := int32(len(e.atoms))
		e.atoms = append(e.atoms, p)
		c.matchers = append(c.matchers, &rule.Matcher{Field: e.fields[a.field].name, Op: rule.OpMatch})
		byLits[key] = id
		proxy[i] = id
	}
	return proxy
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
		// Adjacent literals join into one longer literal.
		var run strings.Builder
		flush := func() {
			if run.Len() > 0 {
				bestSet = best(bestSet, []string{run.String()})
				run.Reset()
			}
		}
		for _, s := range re.Sub {
			if s.Op == syntax.OpLiteral {
				rs := literalRuns(s)
				if len(rs) == 1 && len(rs[0]) == len(s.Rune) {
					// Every rune usable: it extends the run.
					run.WriteString(rs[0])
					continue
				}
				flush()
				bestSet = best(bestSet, rs)
				continue
			}
			flush()
			bestSet = best(bestSet, required(s))
		}
		flush()
		return bestSet
	}
	return nil
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
		var run strings.Builder
		flush := func() {
			if run.Len() > 0 {
				out = append(out, []string{run.String()})
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
				if len(rs) > 0 {
					out = append(out, rs)
				}
				continue
			}
			flush()
			out = conjuncts(s, out)
		}
		flush()
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
