package detect

import (
	"regexp/syntax"
	"strings"
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
