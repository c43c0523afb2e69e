package detect

import (
	
	
	"fmt"
	"sort"
	"testing"
)

func TestZZStats(t *testing.T) {
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	type fs struct{ n [8]int; bytes int }
	per := map[string]*fs{}
	slow := map[string]int{}
	kw := 0
	kwl := []string{}
	for _, a := range e.atoms {
		name := "<kw>"
		if a.field >= 0 { name = e.fields[a.field].name }
		if a.op != 0 || a.cased { slow[fmt.Sprintf("op%d cased%v", a.op, a.cased)]++; continue }
		if a.keyword { kw++ }
		f := per[name]; if f == nil { f = &fs{}; per[name] = f }
		for _, v := range a.values { for _, p := range v.pats { f.n[p.kind]++; f.bytes += len(p.lit); if a.keyword { kwl = append(kwl, p.lit) } } }
	}
	names := []string{}
	for k := range per { names = append(names, k) }
	sort.Slice(names, func(i, j int) bool { return per[names[i]].bytes > per[names[j]].bytes })
	for i, k := range names { if i < 25 { t.Logf("%-25s eq%5d pre%5d suf%5d con%5d any%d seg%d glob%d bytes %d", k, per[k].n[0], per[k].n[1], per[k].n[2], per[k].n[3], per[k].n[4], per[k].n[5], per[k].n[6], per[k].bytes) } }
	t.Logf("slow %v; keyword atoms %d; kw literals %d: %q", slow, kw, len(kwl), kwl)
}

func TestZZFast(t *testing.T) {
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	t.Logf("%+v", e.fast.stats)
	n := 0
	for _, r := range e.fast.always { if n < 30 { t.Logf("always: %s %v", e.rules[r].Title, e.rules[r].Logsource) }; n++ }
}


func TestZZFast2(t *testing.T) {
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	for f, ls := range e.fast.fields { if ls != nil && ls.size() > 1<<20 { t.Logf("%s %d KB", e.fields[f].name, ls.size()>>10) } }
	t.Logf("%+v", e.fast.stats)
}
