package detect

import (
	"fmt"
	"sort"
	"testing"
)

func TestZZStats(t *testing.T) {
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	type fs struct{ name string; pats, bytes, any, empty int; kinds [8]int; used int; minlen int }
	var out []fs
	add := func(name string, ls *literalSet, b []string) {
		s := fs{name: name, pats: len(ls.pats), any: len(ls.any), empty: len(ls.empty), minlen: 1 << 30}
		for _, p := range ls.pats { s.bytes += int(p.n); s.kinds[p.kind]++; if int(p.n) < s.minlen { s.minlen = int(p.n) } }
		out = append(out, s)
	}
	for f, ls := range e.fast.fields {
		if ls != nil { add(e.fields[f].name, ls, nil) }
	}
	if e.fast.keywords != nil { add("<keywords>", e.fast.keywords, nil) }
	sort.Slice(out, func(i, j int) bool { return out[i].bytes > out[j].bytes })
	tot := 0
	for i, s := range out { tot += s.bytes; if i < 25 { fmt.Printf("%-30s pats=%5d bytes=%6d any=%d empty=%d kinds=%v min=%d\n", s.name, s.pats, s.bytes, s.any, s.empty, s.kinds, s.minlen) } }
	fmt.Println("fields", len(out), "total bytes", tot, "pEqual..", pEqual, pPrefix, pSuffix, pContains, pAnything)
}
