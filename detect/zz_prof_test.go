package detect

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
)

func TestZZProf(t *testing.T) {
	rules, _ := windowsRules(t)
	e, _ := Compile(rules, Options{})
	recs := rawMordor(t, 20)
	dec := windows.New()
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	sc := e.newScratch()
	dur := map[string]time.Duration{}
	bytes := map[string]int{}
	cnt := map[string]int{}
	for rep := 0; rep < 2; rep++ {
	for _, rec := range recs {
		ev.Reset()
		dec.Decode(rec, &ev)
		ev.Raw = rec
		sc.next()
		for _, id := range ev.Fields.IDs() {
			ls := e.fast.fields[id]
			if ls == nil { continue }
			v, _ := ev.Fields.Get(id)
			t0 := time.Now()
			e.scanValue(ls, v, sc)
			n := e.fields[id].name
			dur[n] += time.Since(t0); bytes[n] += len(v); cnt[n]++
		}
		t0 := time.Now()
		e.scanKeywords(&ev, sc)
		dur["<kw>"] += time.Since(t0); bytes["<kw>"] += len(rec); cnt["<kw>"]++
	}
	}
	var ks []string
	var tot time.Duration
	for k := range dur { ks = append(ks, k); tot += dur[k] }
	sort.Slice(ks, func(i, j int) bool { return dur[ks[i]] > dur[ks[j]] })
	n := 2 * len(recs)
	fmt.Printf("events %d, total %v/event\n", n, tot/time.Duration(n))
	for i, k := range ks { if i < 25 { fmt.Printf("%-25s %8v/event  count=%d avglen=%d\n", k, dur[k]/time.Duration(n), cnt[k], bytes[k]/max(cnt[k],1)) } }
}
