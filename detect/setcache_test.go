package detect

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// setsRules exercise every part a literal set can have: equal, prefix,
// suffix and substring literals (tries, a dfa), long and short substrings
// without a dfa, keywords (a gramSet), `*` and empty values.
const setsRules = `title: cmd
logsource: {product: windows, category: process_creation}
detection:
  a:
    CommandLine|contains: ['mimikatz', ' -enc ', 'sekurlsa::logonpasswords', '/c']
  b:
    Image|endswith: ['\powershell.exe', '\cmd.exe']
    ParentImage|startswith: 'C:\Windows\'
  c:
    User: ''
    Company: '*'
  condition: a or b or c
---
title: keywords
logsource: {product: windows}
detection:
  keywords: ['invoke-expression', 'downloadstring']
  condition: keywords
---
title: reg
logsource: {product: windows, category: registry_set}
detection:
  selection:
    TargetObject|contains: ['\CurrentVersion\Run', '\Image File Execution Options\']
    Details|endswith: '.exe'
  condition: selection
`

var setsEvents = []struct {
	ls event.Logsource
	f  fields
}{
	{event.Logsource{Product: "windows", Category: "process_creation"}, fields{"CommandLine": "MIMIKATZ.exe sekurlsa::logonpasswords exit", "Image": "x"}},
	{event.Logsource{Product: "windows", Category: "process_creation"}, fields{"Image": `C:\Windows\System32\cmd.exe`, "ParentImage": `C:\Windows\explorer.exe`}},
	{event.Logsource{Product: "windows", Category: "process_creation"}, fields{"Image": `C:\Windows\System32\cmd.exe`, "ParentImage": `D:\x.exe`}},
	{event.Logsource{Product: "windows", Category: "process_creation"}, fields{"User": "", "Company": "x"}},
	{event.Logsource{Product: "windows", Category: "process_creation"}, fields{"CommandLine": "powershell iex (New-Object Net.WebClient).DownloadString('x')"}},
	{event.Logsource{Product: "windows", Category: "registry_set"}, fields{"TargetObject": `HKLM\Software\Microsoft\Windows\CurrentVersion\Run\x`, "Details": `C:\a.EXE`}},
	{event.Logsource{Product: "windows", Category: "registry_set"}, fields{"TargetObject": `HKLM\Software\x`, "Details": `C:\a.exe`}},
}

// matchAll matches every event of setsEvents and names the rules each
// matched.
func matchAll(e *Engine) [][]string {
	var out [][]string
	for _, x := range setsEvents {
		var names []string
		for _, r := range e.Match(newEvent(e, x.ls, x.f), nil) {
			names = append(names, r.Title)
		}
		out = append(out, names)
	}
	return out
}

func TestSetsKeptAndTaken(t *testing.T) {
	// Without a dfa the sets are tries, gramSets and automata.
	for _, dfa := range []int{maxDFA, 0} {
		t.Run(fmt.Sprintf("maxDFA=%d", dfa), func(t *testing.T) {
			defer func(old int) { maxDFA = old }(maxDFA)
			maxDFA = dfa
			testSetsKeptAndTaken(t)
		})
	}
}

func testSetsKeptAndTaken(t *testing.T) {
	first := compileYAML(t, setsRules)
	want := matchAll(first)
	if !slices.ContainsFunc(want, func(n []string) bool { return len(n) > 0 }) {
		t.Fatal("no rule matched: the comparison would prove nothing")
	}
	built := first.SetsBuilt()
	if built == 0 {
		t.Fatal("matching built no set")
	}
	data := first.AppendSets(nil)

	second := compileYAML(t, setsRules)
	if !second.UseSets(data) {
		t.Fatal("UseSets refused the sets of an engine of the same rules")
	}
	if got := matchAll(second); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("with kept sets: %q, built: %q", got, want)
	}
	if n := second.SetsBuilt(); n != 0 {
		t.Errorf("the engine given every set built %d again", n)
	}
	// What it writes again is what it was given.
	if again := second.AppendSets(nil); string(again) != string(data) {
		t.Errorf("written again: %d bytes, given %d", len(again), len(data))
	}
	// Written to a stream, after a header of a file, the same bytes.
	var buf bytes.Buffer
	buf.WriteString("header-8")
	if err := second.WriteSets(&buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "header-8"+string(data) {
		t.Errorf("WriteSets: %d bytes, AppendSets %d", len(got)-8, len(data))
	}
}

func TestSetsOfOtherRulesRefused(t *testing.T) {
	first := compileYAML(t, setsRules)
	matchAll(first)
	data := first.AppendSets(nil)
	other := compileYAML(t, setsRules+"---\ntitle: more\nlogsource: {product: windows}\ndetection:\n  s:\n    Image: x\n  condition: s\n")
	if other.UseSets(data) {
		t.Error("UseSets took the sets of other rules")
	}
	if other.UseSets(nil) || other.UseSets([]byte("vigil literal sets")) {
		t.Error("UseSets took bytes that are no sets")
	}
}

func TestSetsDamagedAreBuilt(t *testing.T) {
	first := compileYAML(t, setsRules)
	want := matchAll(first)
	data := first.AppendSets(nil)
	// Flip a byte inside each set's body in turn: that set must be built
	// again (its CRC fails), the answers stay the same.
	for at := len(setsMagic) + 32 + 8; at < len(data); at += 97 {
		bad := slices.Clone(data)
		bad[at] ^= 0x5a
		e := compileYAML(t, setsRules)
		if !e.UseSets(bad) {
			continue // the index itself was hit: refused whole
		}
		if got := matchAll(e); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("byte %d damaged: %q, want %q", at, got, want)
		}
	}
	// Cut anywhere: refused whole.
	for _, n := range []int{len(data) - 1, len(data) / 2, len(setsMagic) + 10} {
		if compileYAML(t, setsRules).UseSets(data[:n]) {
			t.Errorf("sets cut to %d of %d bytes taken", n, len(data))
		}
	}
}

func TestSetsMisalignedBytes(t *testing.T) {
	first := compileYAML(t, setsRules)
	want := matchAll(first)
	data := first.AppendSets(nil)
	buf := make([]byte, len(data)+1)
	copy(buf[1:], data)
	e := compileYAML(t, setsRules)
	if !e.UseSets(buf[1:]) {
		t.Fatal("UseSets refused sets not aligned in memory")
	}
	if got := matchAll(e); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("misaligned: %q, want %q", got, want)
	}
}

// TestMordorSetsKept holds an engine of all SigmaHQ Windows rules that
// takes its sets from AppendSets to the one that built them, over the
// Windows corpus.
func TestMordorSetsKept(t *testing.T) {
	if testing.Short() {
		t.Skip("long: compiles all Windows rules twice")
	}
	rules, _ := windowsRules(t)
	recs := rawMordor(t, 13)
	run := func(e *Engine) []string {
		dec := windows.New()
		var ev event.Event
		ev.Fields.Bind(e.Dict())
		m := e.NewMatcher()
		var out []string
		var dst []*rule.Rule
		for i, rec := range recs {
			ev.Reset()
			if dec.Decode(rec, &ev) != nil {
				continue
			}
			ev.Raw = rec
			dst = m.Match(&ev, dst[:0])
			for _, r := range dst {
				out = append(out, string(rune(i))+r.Title)
			}
		}
		return out
	}
	first, _ := Compile(rules, Options{})
	want := run(first)
	if len(want) == 0 {
		t.Fatal("no rule matched the corpus")
	}
	data := first.AppendSets(nil)
	second, _ := Compile(rules, Options{})
	if !second.UseSets(data) {
		t.Fatal("UseSets refused the sets of the same rules")
	}
	if got := run(second); !slices.Equal(got, want) {
		t.Errorf("kept sets: %d matches, built: %d", len(got), len(want))
	}
	if n := second.SetsBuilt(); n != 0 {
		t.Errorf("%d sets built again", n)
	}
	t.Logf("%d sets (%.1f MB) kept, %d matches alike", first.SetsBuilt(), float64(len(data))/(1<<20), len(want))
}

// BenchmarkWarmRoutes is what the first events of the Windows corpus's
// logsources cost an engine of all SigmaHQ Windows rules: building their
// routes' literal sets (built), or taking them from AppendSets of an
// earlier engine of the same rules (kept; the bytes in memory, as a mapped
// file whose pages are cached is).
func BenchmarkWarmRoutes(b *testing.B) {
	rules, _ := windowsRules(b)
	recs := rawMordor(b, 1)
	first, _ := Compile(rules, Options{})
	dec := windows.New()
	var ev event.Event
	ev.Fields.Bind(first.Dict())
	var lss []event.Logsource
	seen := map[event.Logsource]bool{}
	for _, rec := range recs {
		ev.Reset()
		if dec.Decode(rec, &ev) == nil && !seen[ev.Logsource] {
			seen[ev.Logsource] = true
			lss = append(lss, ev.Logsource)
		}
	}
	for _, ls := range lss {
		first.Warm(ls)
	}
	data := first.AppendSets(nil)
	for _, kept := range []bool{false, true} {
		name := "built"
		if kept {
			name = "kept"
		}
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				e, _ := Compile(rules, Options{})
				if kept && !e.UseSets(data) {
					b.Fatal("sets refused")
				}
				runtime.GC()
				c0 := cpuTime()
				b.StartTimer()
				for _, ls := range lss {
					e.Warm(ls)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/engine")
		})
	}
}
