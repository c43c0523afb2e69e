package rule

import "fmt"

// Set is what rule files hold: detection rules, the correlation rules over
// them and the filters that narrow them.
type Set struct {
	Rules        []*Rule
	Correlations []*Correlation
	// Filters are the Sigma filter documents; Set.ApplyFilters applies
	// them to Rules.
	Filters []*Filter
	// Unconfigured are the rules left out for a placeholder the
	// configuration does not define (Options.OptionalPlaceholders).
	Unconfigured []Unconfigured
}

// Unconfigured is a rule not loaded because the site has not configured a
// placeholder it uses: not an error, a rule that does not apply yet.
type Unconfigured struct {
	File, Title string
	Placeholder string // the first one found undefined, without the %
}

// Add appends o's documents to s.
func (s *Set) Add(o *Set) {
	if o == nil {
		return
	}
	s.Rules = append(s.Rules, o.Rules...)
	s.Correlations = append(s.Correlations, o.Correlations...)
	s.Filters = append(s.Filters, o.Filters...)
	s.Unconfigured = append(s.Unconfigured, o.Unconfigured...)
}

// Target is what a correlation refers to: a detection rule or another
// correlation (a chain).
type Target struct {
	Rule        *Rule
	Correlation *Correlation
}

// ID is the target's id.
func (t Target) ID() string {
	if t.Rule != nil {
		return t.Rule.ID
	}
	return t.Correlation.ID
}

// Name is the target's name, empty when it has none.
func (t Target) Name() string {
	if t.Rule != nil {
		return t.Rule.Name
	}
	return t.Correlation.Name
}

// Link resolves every correlation's references (by id, then by name) into
// Correlation.Targets, across all files of the set, and checks aliases and
// chains. A correlation that refers to an unknown rule, names an alias for a
// rule it does not refer to, or takes part in a cycle is reported (file,
// line and column of the reference) and removed, and so is every
// correlation that refers to a removed one.
func (s *Set) Link() []error {
	var errs []error
	byID := map[string]Target{}
	byName := map[string]Target{}
	addName := func(t Target, file string, line int) {
		n := t.Name()
		if n == "" {
			return
		}
		if prev, ok := byName[n]; ok && prev != t {
			errs = append(errs, &Error{File: file, Line: line, Reason: fmt.Sprintf("name %q is already used by rule %q", n, prev.ID())})
			return
		}
		byName[n] = t
	}
	for _, r := range s.Rules {
		t := Target{Rule: r}
		if _, ok := byID[r.ID]; !ok {
			byID[r.ID] = t
		}
		addName(t, r.File, r.Line)
	}
	for _, c := range s.Correlations {
		t := Target{Correlation: c}
		if _, ok := byID[c.ID]; !ok {
			byID[c.ID] = t
		}
		addName(t, c.File, c.Line)
	}

	bad := map[*Correlation]bool{}
	fail := func(c *Correlation, p Pos, format string, args ...any) {
		if !bad[c] {
			errs = append(errs, &Error{File: c.File, Line: p.Line, Col: p.Col, Reason: fmt.Sprintf(format, args...)})
		}
		bad[c] = true
	}
	for _, c := range s.Correlations {
		c.Targets = c.Targets[:0]
		for _, ref := range c.Rules {
			t, ok := byID[ref.Ref]
			if !ok {
				t, ok = byName[ref.Ref]
			}
			if !ok {
				fail(c, ref.Pos, "correlation %q refers to rule %q, which is not loaded (no rule has that id or name)", c.Title, ref.Ref)
				break
			}
			if t.Correlation == c {
				fail(c, ref.Pos, "correlation %q refers to itself", c.Title)
				break
			}
			c.Targets = append(c.Targets, t)
		}
		if bad[c] {
			continue
		}
		for alias, m := range c.Aliases {
			for ruleName := range m {
				if c.target(ruleName) < 0 {
					fail(c, c.aliasPos(), "alias %q names rule %q, which the correlation does not refer to", alias, ruleName)
				}
			}
		}
	}
	// Cycles, and correlations over removed ones, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, c := range s.Correlations {
			if bad[c] {
				continue
			}
			for i, t := range c.Targets {
				if t.Correlation == nil {
					continue
				}
				if bad[t.Correlation] {
					fail(c, c.Rules[i].Pos, "correlation %q refers to correlation %q, which did not load", c.Title, t.Correlation.Title)
					changed = true
					break
				}
				if reaches(t.Correlation, c, map[*Correlation]bool{}) {
					fail(c, c.Rules[i].Pos, "correlation %q and %q refer to each other (a cycle)", c.Title, t.Correlation.Title)
					changed = true
					break
				}
			}
		}
	}
	if len(bad) > 0 {
		kept := s.Correlations[:0]
		for _, c := range s.Correlations {
			if !bad[c] {
				kept = append(kept, c)
			}
		}
		clear(s.Correlations[len(kept):])
		s.Correlations = kept
	}
	return errs
}

// reaches reports whether from refers to to, directly or through a chain.
func reaches(from, to *Correlation, seen map[*Correlation]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, t := range from.Targets {
		if t.Correlation == to || (t.Correlation != nil && reaches(t.Correlation, to, seen)) {
			return true
		}
	}
	return false
}

// target returns the index of the referenced rule that ref names (by name
// or id), or -1.
func (c *Correlation) target(ref string) int {
	for i, t := range c.Targets {
		if t.Name() == ref || t.ID() == ref || c.Rules[i].Ref == ref {
			return i
		}
	}
	return -1
}

func (c *Correlation) aliasPos() Pos {
	if c.Pos.Aliases.Line > 0 {
		return c.Pos.Aliases
	}
	return Pos{Line: c.Line}
}

// FieldFor returns the field that stands for name (a group-by entry or the
// condition's field) in the events of the i-th referenced rule: the alias's
// field for that rule when name is an alias that maps it, name otherwise.
func (c *Correlation) FieldFor(name string, i int) string {
	if m, ok := c.Aliases[name]; ok && i < len(c.Targets) {
		t := c.Targets[i]
		for _, k := range []string{t.Name(), t.ID(), c.Rules[i].Ref} {
			if f, ok := m[k]; ok && k != "" {
				return f
			}
		}
	}
	return name
}
