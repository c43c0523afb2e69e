package detect

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// sigmaHQRules loads every SigmaHQ rule of the shared data.
func sigmaHQRules(tb testing.TB) []*rule.Rule {
	tb.Helper()
	dir := filepath.Join(dataDir, "sigma")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("SigmaHQ rules not found at %s: %v", dir, err)
	}
	rules, _ := rule.Load(dir)
	return rules
}

// compileWith compiles rules with workers making atoms beside the walk
// (0: the walk alone).
func compileWith(tb testing.TB, rules []*rule.Rule, workers int) (*Engine, []error) {
	tb.Helper()
	min, w := parallelCompileMin, compileWorkers
	tb.Cleanup(func() { parallelCompileMin, compileWorkers = min, w })
	parallelCompileMin = 1
	compileWorkers = func() int { return workers }
	return Compile(rules, Options{ExtraFields: []string{"Hashes"}})
}

// brokenRules are rules whose atoms do not compile, among good ones and
// fieldrefs (which intern a further field when their atom is made): the
// engine, its errors and its Dict must not depend on who made an atom.
func brokenRules() []*rule.Rule {
	var rules []*rule.Rule
	for i := range 40 {
		bad := &rule.Matcher{Field: fmt.Sprintf("F%d", i%7), Op: rule.OpRegexp, Values: []rule.Value{{Raw: "x"}}} // no regexp
		good := &rule.Matcher{Field: "CommandLine", Op: rule.OpMatch, Values: []rule.Value{{Raw: "a", Patterns: []rule.Pattern{{{Kind: rule.Lit, Text: fmt.Sprintf("tok%d", i%5)}}}}}}
		ref := &rule.Matcher{Field: "User", Op: rule.OpFieldRef, Values: []rule.Value{{Raw: "x", Ref: fmt.Sprintf("Target%d", i%3)}}}
		searches := []*rule.Search{{Name: "a", Groups: [][]*rule.Matcher{{good}}}, {Name: "b", Groups: [][]*rule.Matcher{{ref, good}}}}
		cond := rule.Expr(&rule.And{X: []rule.Expr{&rule.Ref{Name: "a"}, &rule.Ref{Name: "b"}}})
		if i%4 == 1 {
			searches = append(searches, &rule.Search{Name: "c", Groups: [][]*rule.Matcher{{good}, {bad}}})
			cond = &rule.Or{X: []rule.Expr{cond, &rule.Ref{Name: "c"}}}
		}
		rules = append(rules, &rule.Rule{Meta: rule.Meta{Title: fmt.Sprint("r", i)}, File: "gen.yml", Line: i + 1, Detection: &rule.Detection{Searches: searches, Condition: cond}})
		if i%9 == 4 {
			rules = append(rules, nil) // Compile passes nil rules over, workers too
		}
	}
	return rules
}

func TestParallelCompileSameEngine(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules func(testing.TB) []*rule.Rule
	}{
		{"generated", func(testing.TB) []*rule.Rule { return brokenRules() }},
		{"SigmaHQ", sigmaHQRules},
	} {
		t.Run(c.name, func(t *testing.T) {
			rules := c.rules(t)
			want, wantErrs := compileWith(t, rules, 0)
			if c.name == "generated" && len(wantErrs) == 0 {
				t.Fatal("the broken atoms compiled")
			}
			for _, workers := range []int{1, 3, 1, 3, 7} {
				got, errs := compileWith(t, rules, workers)
				if fmt.Sprint(errs) != fmt.Sprint(wantErrs) {
					t.Fatalf("%d workers: errors\n%v\nwant\n%v", workers, errs, wantErrs)
				}
				sameEngine(t, got, want)
			}
		})
	}
}

// sameEngine fails unless got and want are the same compilation.
func sameEngine(t *testing.T, got, want *Engine) {
	t.Helper()
	if got.dict.Len() != want.dict.Len() {
		t.Fatalf("%d fields in the Dict, want %d", got.dict.Len(), want.dict.Len())
	}
	for id := range int32(want.dict.Len()) {
		if got.dict.Name(id) != want.dict.Name(id) {
			t.Fatalf("field %d is %q, want %q", id, got.dict.Name(id), want.dict.Name(id))
		}
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"rules", got.rules, want.rules},
		{"fields", got.fields, want.fields},
		{"atoms", got.atoms, want.atoms},
		{"programs", got.progs, want.progs},
		{"proxies", got.fast.proxy, want.fast.proxy},
		{"atom kinds", got.fast.kind, want.fast.kind},
		{"literal values", got.fast.vals, want.fast.vals},
		{"triggers", got.fast.trigger, want.fast.trigger},
		{"untriggered rules", got.fast.always, want.fast.always},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Fatalf("%s differ", c.what)
		}
	}
}

// BenchmarkCompileSigmaHQ compiles every SigmaHQ rule: with the atoms
// made beside the walk on the other cores (GOMAXPROCS decides), and by the
// walk alone.
func BenchmarkCompileSigmaHQ(b *testing.B) {
	rules := sigmaHQRules(b)
	for _, c := range []struct {
		name    string
		workers func() int
	}{{"cores", compileWorkers}, {"walk", func() int { return 0 }}} {
		b.Run(c.name, func(b *testing.B) {
			w := compileWorkers
			defer func() { compileWorkers = w }()
			compileWorkers = c.workers
			for b.Loop() {
				Compile(rules, Options{})
			}
		})
	}
}

// A rule a worker took and never finished (the system paused it) is
// planned again apart, and places as it would have.
func TestPlanTakeReplansAStalledRule(t *testing.T) {
	rules := brokenRules()
	want, _ := compileWith(t, rules, 0)
	p := newPlan(rules)
	p.state[3].Store(ruleTaken) // a worker's, stalled
	c := &compiler{e: &Engine{dict: event.NewDict()}, atomIDs: map[string]int32{}}
	pl := planner{known: c.known}
	for i, r := range rules {
		if r == nil {
			continue
		}
		q, j := p.take(&pl, i)
		if i == 3 && q == p {
			t.Fatal("the stalled rule was taken from the plan its worker writes")
		}
		n, err := c.place(q, j)
		if err != nil {
			continue
		}
		if !reflect.DeepEqual(n, want.progs[len(c.e.progs)]) {
			t.Fatalf("rule %d places as %+v, want %+v", i, n, want.progs[len(c.e.progs)])
		}
		c.e.progs = append(c.e.progs, n)
	}
}
