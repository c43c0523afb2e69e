package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// refEvent is an event in the plainest form, for the reference evaluator.
type refEvent struct {
	fields map[string][]string // own fields, in the engine's Dict only
	common [event.NumCommon]string
	raw    string
}

// refValues returns the values of a field as the specification reads: own
// field first, then the common field of that ECS name.
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

var decimal = regexp.MustCompile(`^[+-]?[0-9]*\.?[0-9]*$`)

// refValue is the straightforward reading of one rule value against one
// event value.
func refValue(m *rule.Matcher, v *rule.Value, s string) bool {
	switch m.Op {
	case rule.OpMatch:
		in := s
		if !m.Cased {
			in = strings.ToLower(s)
		}
		for _, p := range v.Patterns {
			if p.Match(in) {
				return true
			}
		}
		return false
	case rule.OpRegexp:
		return v.Regexp.MatchString(s)
	case rule.OpCIDR:
		a, err := netip.ParseAddr(s)
		return err == nil && v.Prefix.Contains(a.Unmap())
	}
	if !decimal.MatchString(s) {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	switch m.Op {
	case rule.OpLT:
		return f < v.Number
	case rule.OpLTE:
		return f <= v.Number
	case rule.OpGT:
		return f > v.Number
	}
	return f >= v.Number
}

func refMatcher(m *rule.Matcher, ev *refEvent) bool {
	var vals []string
	present := true
	if m.Field == "" {
		vals = ev.everything()
	} else {
		vals, present = ev.values(m.Field)
	}
	switch m.Op {
	case rule.OpNull:
		return !present || vals[0] == ""
	case rule.OpExists:
		return present == m.Values[0].Exists
	}
	if !present {
		return false
	}
	some := func(v *rule.Value) bool {
		for _, s := range vals {
			if refValue(m, v, s) {
				return true
			}
		}
		return false
	}
	if m.All {
		for i := range m.Values {
			if !some(&m.Values[i]) {
				return false
			}
		}
		return true
	}
	any := false
	for i := range m.Values {
		if some(&m.Values[i]) {
			any = true
			break
		}
	}
	return any != m.Neq
}

func refSearch(s *rule.Search, ev *refEvent) bool {
	for _, g := range s.Groups {
		all := true
		for _, m := range g {
			if !refMatcher(m, ev) {
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

func refExpr(d *rule.Detection, x rule.Expr, ev *refEvent) bool {
	switch x := x.(type) {
	case *rule.Ref:
		return refSearch(d.Search(x.Name), ev)
	case *rule.Not:
		return !refExpr(d, x.X, ev)
	case *rule.And:
		for _, y := range x.X {
			if !refExpr(d, y, ev) {
				return false
			}
		}
		return true
	case *rule.Or:
		for _, y := range x.X {
			if refExpr(d, y, ev) {
				return true
			}
		}
		return false
	case *rule.Of:
		n := 0
		for _, name := range x.Names {
			if refSearch(d.Search(name), ev) {
				n++
			}
		}
		if x.All {
			return n == len(x.Names)
		}
		return n >= x.N
	}
	panic(fmt.Sprintf("unknown node %T", x))
}

// The random rules and events draw from small alphabets so that they meet.
var (
	diffFields = []string{"A", "B", "C", "source.ip", "user.name"}
	diffAlpha  = []string{"a", "A", "b", "B", "-", "/", "\\", "*", "?", ".", "1", " ", "Ä", "ä", "ß", "\u212a", "k", "–"}
	diffMods   = []string{"", "", "|contains", "|startswith", "|endswith", "|contains|all", "|cased", "|endswith|cased",
		"|contains|windash", "|windash", "|re", "|re|i", "|cidr", "|lt", "|gte", "|gt", "|exists", "|neq", "|contains|neq", "null"}
	diffRes   = []string{"^a", "b$", "a.b", "[0-9]+", "(?:A|k)", "^$"}
	diffCIDRs = []string{"10.0.0.0/8", "fe80::/10", "1.2.3.4/32", "0.0.0.0/0"}
	diffNums  = []string{"1", "2.5", "-3", "0"}
	diffVals  = []string{"10.1.1.1", "fe80::1", "1.2.3.4", "2", "2.5", "-3", "", "3.0", "1.2.3"}
)

func randString(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(5); n > 0; n-- {
		b.WriteString(diffAlpha[r.IntN(len(diffAlpha))])
	}
	return b.String()
}

func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randEntry(r *rand.Rand, b *strings.Builder, indent string) {
	field := diffFields[r.IntN(len(diffFields))]
	mod := diffMods[r.IntN(len(diffMods))]
	var vals []string
	n := 1 + r.IntN(3)
	switch {
	case mod == "null":
		fmt.Fprintf(b, "%s%s: null\n", indent, field)
		return
	case strings.HasPrefix(mod, "|re"):
		for range n {
			vals = append(vals, diffRes[r.IntN(len(diffRes))])
		}
	case mod == "|cidr":
		for range n {
			vals = append(vals, diffCIDRs[r.IntN(len(diffCIDRs))])
		}
	case mod == "|lt" || mod == "|gte" || mod == "|gt":
		for range n {
			vals = append(vals, diffNums[r.IntN(len(diffNums))])
		}
	case mod == "|exists":
		fmt.Fprintf(b, "%s%s|exists: %v\n", indent, field, r.IntN(2) == 0)
		return
	default:
		if strings.Contains(mod, "all") && n < 2 {
			n = 2
		}
		for range n {
			vals = append(vals, randString(r))
		}
	}
	if len(vals) == 1 && r.IntN(2) == 0 {
		fmt.Fprintf(b, "%s%s%s: %s\n", indent, field, mod, yamlQuote(vals[0]))
		return
	}
	fmt.Fprintf(b, "%s%s%s:\n", indent, field, mod)
	for _, v := range vals {
		fmt.Fprintf(b, "%s  - %s\n", indent, yamlQuote(v))
	}
}

func randSearch(r *rand.Rand, b *strings.Builder, name string) {
	fmt.Fprintf(b, "  %s:\n", name)
	switch r.IntN(4) {
	case 0: // keywords
		if r.IntN(3) == 0 {
			b.WriteString("    '|all':\n")
			for range 2 {
				fmt.Fprintf(b, "      - %s\n", yamlQuote(randString(r)))
			}
			return
		}
		for n := 1 + r.IntN(2); n > 0; n-- {
			fmt.Fprintf(b, "    - %s\n", yamlQuote(randString(r)))
		}
	case 1: // list of maps
		for n := 1 + r.IntN(2); n > 0; n-- {
			b.WriteString("    -\n")
			for m := 1 + r.IntN(2); m > 0; m-- {
				randEntry(r, b, "      ")
			}
		}
	default: // one map
		used := map[string]bool{}
		for m := 1 + r.IntN(3); m > 0; m-- {
			var e strings.Builder
			randEntry(r, &e, "    ")
			key := strings.SplitN(e.String(), ":", 2)[0]
			if !used[key] {
				used[key] = true
				b.WriteString(e.String())
			}
		}
	}
}

func randCond(r *rand.Rand, names []string, depth int) string {
	k := r.IntN(9)
	if depth > 2 {
		k = r.IntN(5)
	}
	switch k {
	case 0, 1:
		return names[r.IntN(len(names))]
	case 2:
		return []string{"1 of s*", "all of s*", "1 of them", "all of them", "2 of them", "1 of _*"}[r.IntN(6)]
	case 3, 4:
		return names[r.IntN(len(names))]
	case 5:
		return "not " + randCond(r, names, depth+1)
	case 6:
		return "(" + randCond(r, names, depth+1) + " or " + randCond(r, names, depth+1) + ")"
	default:
		return randCond(r, names, depth+1) + " and " + randCond(r, names, depth+1)
	}
}

func randRule(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("title: random\nlogsource: {product: windows}\ndetection:\n")
	names := []string{"s1", "s2", "_s3"}[:1+r.IntN(3)]
	for _, n := range names {
		randSearch(r, &b, n)
	}
	cond := randCond(r, names, 0)
	if r.IntN(8) == 0 {
		fmt.Fprintf(&b, "  condition:\n    - %s\n    - %s\n", cond, randCond(r, names, 1))
	} else {
		fmt.Fprintf(&b, "  condition: %s\n", cond)
	}
	return b.String()
}

func randEventValue(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return diffVals[r.IntN(len(diffVals))]
	}
	return randString(r)
}

func randEvent(r *rand.Rand, e *Engine) (*event.Event, *refEvent) {
	ev := &event.Event{Logsource: win}
	ev.Fields.Bind(e.Dict())
	ref := &refEvent{fields: map[string][]string{}}
	for _, f := range diffFields {
		if r.IntN(3) == 0 {
			continue
		}
		for n := 1 + r.IntN(2)*r.IntN(3); n > 0; n-- {
			v := randEventValue(r)
			if ev.Fields.SetName([]byte(f), v) {
				ref.fields[f] = append(ref.fields[f], v)
			}
		}
	}
	for _, c := range []int{event.SourceIP, event.UserName, event.Message} {
		if r.IntN(2) == 0 {
			v := randEventValue(r)
			ev.Common[c], ref.common[c] = v, v
		}
	}
	if r.IntN(3) == 0 {
		ref.raw = randString(r) + randString(r)
		ev.Raw = []byte(ref.raw)
	}
	return ev, ref
}

// checkRandom draws one random rule and n random events and fails when the
// engine and the reference disagree. It reports whether the parser took the
// rule and how many events matched.
func checkRandom(t *testing.T, r *rand.Rand, n int) (parsed bool, hits int) {
	src := randRule(r)
	rules, errs := rule.Parse("random.yml", []byte(src))
	if len(errs) > 0 {
		return false, 0
	}
	e, errs := Compile(rules, Options{})
	if len(errs) > 0 {
		t.Fatalf("compile: %v\n%s", errs, src)
	}
	for j := 0; j < n; j++ {
		ev, ref := randEvent(r, e)
		want := refExpr(rules[0].Detection, rules[0].Detection.Condition, ref)
		got := len(e.Match(ev, nil)) == 1
		if want {
			hits++
		}
		if got != want {
			t.Fatalf("engine %v, reference %v\nrule:\n%s\nevent: fields %q common %q raw %q",
				got, want, src, ref.fields, ref.common, ref.raw)
		}
	}
	return true, hits
}

// TestDifferential compares the compiled engine with the reference
// evaluator above on random small rules and events.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const perRule = 25
	rulesN, rejected, hits := 2000, 0, 0
	if testing.Short() {
		rulesN = 300
	}
	for i := 0; i < rulesN; i++ {
		ok, h := checkRandom(t, r, perRule)
		if !ok {
			rejected++
		}
		hits += h
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
