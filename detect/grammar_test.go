package detect

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// Searches a..d each test one field for "1".
const grammarSearches = `title: t
logsource: {product: windows}
detection:
  a: {A: 1}
  b: {B: 1}
  c: {C: 1}
  _d: {D: 1}
`

func TestConditionGrammar(t *testing.T) {
	cases := []struct {
		cond string
		ev   string // fields set to 1
		want bool
	}{
		{"a", "A", true},
		{"a", "B", false},
		{"a and b", "A", false},
		{"a and b", "AB", true},
		{"a or b", "B", true},
		{"not a", "", true},
		{"not a", "A", false},
		// not > and > or
		{"a or b and c", "A", true},
		{"a or b and c", "B", false},
		{"not a and b", "B", true},
		{"not a and b", "AB", false},
		{"not a or b", "A", false},
		{"(a or b) and c", "A", false},
		{"(a or b) and c", "AC", true},
		{"not (a or b)", "C", true},
		{"not (a or b)", "B", false},
		{"1 of them", "C", true},
		{"1 of them", "D", false}, // _d is not in them
		{"all of them", "ABC", true},
		{"all of them", "AB", false},
		{"all of them", "ABC", true},
		{"1 of _*", "D", true},
		{"1 of _*", "A", false},
		{"2 of them", "AC", true},
		{"2 of them", "C", false},
		{"a and not 1 of _*", "A", true},
		{"a and not 1 of _*", "AD", false},
	}
	for _, c := range cases {
		e := compileYAML(t, grammarSearches+"  condition: "+c.cond+"\n")
		f := fields{}
		for _, r := range c.ev {
			f[string(r)] = "1"
		}
		if got := matches(e, newEvent(e, win, f)); got != c.want {
			t.Errorf("%q on %q: got %v, want %v", c.cond, c.ev, got, c.want)
		}
	}
}

func TestConditionList(t *testing.T) {
	e := compileYAML(t, grammarSearches+"  condition:\n    - a and b\n    - c\n")
	for ev, want := range map[string]bool{"AB": true, "C": true, "A": false, "": false} {
		f := fields{}
		for _, r := range ev {
			f[string(r)] = "1"
		}
		if got := matches(e, newEvent(e, win, f)); got != want {
			t.Errorf("condition list on %q: got %v, want %v", ev, got, want)
		}
	}
}

func TestListOfMapsIsOr(t *testing.T) {
	e := compileYAML(t, ruleWith("- A: 1\n  B: 2\n- C: 3"))
	for ev, want := range map[*fields]bool{
		{"A": "1", "B": "2"}: true,
		{"A": "1"}:           false,
		{"C": "3"}:           true,
	} {
		if got := matches(e, newEvent(e, win, *ev)); got != want {
			t.Errorf("%v: got %v, want %v", *ev, got, want)
		}
	}
}

func TestKeywords(t *testing.T) {
	src := `title: kw
logsource: {product: windows}
detection:
  keywords:
    - 'sekurlsa::'
    - 'evil*tool'
  both:
    '|all':
      - 'oab'
      - ' -externalurl '
  condition: keywords
---
title: kw all
logsource: {product: windows}
detection:
  both:
    '|all':
      - 'Oab'
      - ' -ExternalUrl '
  condition: both
---
title: names CommandLine
logsource: {product: windows}
detection: {s: {CommandLine: zzz}, condition: s}
`
	// Keywords see the fields the Dict holds (here CommandLine, which the
	// third rule names), the common fields and the raw record.
	e := compileYAML(t, src)
	cases := []struct {
		name  string
		setup func(ev *event.Event)
		want  string
	}{
		{"own field", func(ev *event.Event) { ev.Fields.SetName([]byte("CommandLine"), "mimikatz SEKURLSA::logonpasswords") }, "kw"},
		{"common field", func(ev *event.Event) { ev.Common[event.Message] = "ran Evil-Tool now" }, "kw"},
		{"raw record", func(ev *event.Event) { ev.Raw = []byte(`{"x":"sekurlsa::pth"}`) }, "kw"},
		{"not across values", func(ev *event.Event) {
			ev.Common[event.Message] = "evil"
			ev.Common[event.UserName] = "tool"
		}, ""},
		{"all in one value", func(ev *event.Event) { ev.Common[event.Message] = "Set-OabVirtualDirectory -ExternalUrl x" }, "kw all"},
		{"all across values", func(ev *event.Event) {
			ev.Common[event.Message] = "Set-OabVirtualDirectory"
			ev.Raw = []byte("x -externalurl y")
		}, "kw all"},
		{"all, one missing", func(ev *event.Event) { ev.Common[event.Message] = "Set-OabVirtualDirectory" }, ""},
		{"nothing", func(ev *event.Event) {}, ""},
	}
	for _, c := range cases {
		ev := newEvent(e, win, nil)
		c.setup(ev)
		var titles []string
		for _, r := range e.Match(ev, nil) {
			titles = append(titles, r.Title)
		}
		if got := strings.Join(titles, ","); got != c.want {
			t.Errorf("%s: matched %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRouting(t *testing.T) {
	src := `title: any windows
logsource: {product: windows}
detection: {s: {A: 1}, condition: s}
---
title: sysmon process creation
logsource: {product: windows, category: process_creation, service: sysmon}
detection: {s: {A: 1}, condition: s}
---
title: process creation
logsource: {product: windows, category: process_creation}
detection: {s: {A: 1}, condition: s}
---
title: everything
detection: {s: {A: 1}, condition: s}
---
title: linux
logsource: {product: linux}
detection: {s: {A: 1}, condition: s}
`
	e := compileYAML(t, src)
	cases := []struct {
		ls   event.Logsource
		want string
	}{
		{event.Logsource{Product: "windows"}, "any windows,everything"},
		{event.Logsource{Product: "Windows", Category: "PROCESS_CREATION", Service: "sysmon"}, "any windows,sysmon process creation,process creation,everything"},
		{event.Logsource{Product: "windows", Category: "process_creation", Service: "security"}, "any windows,process creation,everything"},
		{event.Logsource{Category: "process_creation"}, "everything"},
		{event.Logsource{Product: "linux"}, "everything,linux"},
		{event.Logsource{}, "everything"},
	}
	for round := 0; round < 2; round++ { // the second round is served from the cache
		for _, c := range cases {
			ev := newEvent(e, c.ls, fields{"A": "1"})
			var titles []string
			for _, r := range e.Match(ev, nil) {
				titles = append(titles, r.Title)
			}
			if got := strings.Join(titles, ","); got != c.want {
				t.Errorf("%+v: matched %q, want %q", c.ls, got, c.want)
			}
		}
	}
}

func TestCommonFallback(t *testing.T) {
	e := compileYAML(t, ruleWith("source.ip|cidr: 10.0.0.0/8\nuser.name: admin"))
	ev := newEvent(e, win, nil)
	ev.Common[event.SourceIP] = "10.1.1.1"
	ev.Common[event.UserName] = "Admin"
	if !matches(e, ev) {
		t.Error("ECS-named rule fields should fall back to the common fields")
	}
	// A source's own field of the same name comes first.
	ev = newEvent(e, win, fields{"user.name": "bob"})
	ev.Common[event.SourceIP] = "10.1.1.1"
	ev.Common[event.UserName] = "admin"
	if matches(e, ev) {
		t.Error("the source's own field should win over the common field")
	}
}

func TestDictAndOtherDicts(t *testing.T) {
	e := compileYAML(t, ruleWith("Image|endswith: '\\cmd.exe'\nCommandLine|contains: whoami\nsource.ip: 1.2.3.4"))
	d := e.Dict()
	if d.Open() || d.Len() != 3 {
		t.Fatalf("dict open=%v len=%d, want closed with 3 names", d.Open(), d.Len())
	}
	for _, n := range []string{"Image", "CommandLine", "source.ip"} {
		if _, ok := d.ID(n); !ok {
			t.Errorf("dict lacks %q", n)
		}
	}
	// An event decoded with an open Dict (as `vigil decode` does) still
	// matches, by name.
	var ev event.Event
	ev.Logsource = win
	ev.Fields.Bind(event.NewOpenDict())
	ev.Fields.SetName([]byte("Unrelated"), "x")
	ev.Fields.SetName([]byte("CommandLine"), "cmd /c WHOAMI")
	ev.Fields.SetName([]byte("Image"), `C:\Windows\cmd.exe`)
	ev.Common[event.SourceIP] = "1.2.3.4"
	if !matches(e, &ev) {
		t.Error("event with an open Dict did not match")
	}
}

func TestCompileErrors(t *testing.T) {
	good, _ := rule.Parse("good.yml", []byte("title: good\ndetection: {s: {A: 1}, condition: s}\n"))
	bad := &rule.Rule{Meta: rule.Meta{Title: "hand made"}, File: "hand.yml", Line: 7, Detection: &rule.Detection{Condition: &rule.Ref{Name: "missing"}}}
	empty := &rule.Rule{Meta: rule.Meta{Title: "no detection"}, File: "hand.yml", Line: 9}
	e, errs := Compile([]*rule.Rule{bad, good[0], empty}, Options{})
	if e.Len() != 1 || e.Rules()[0].Title != "good" {
		t.Errorf("compiled %d rules", e.Len())
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	var re *rule.Error
	if !errors.As(errs[0], &re) || re.File != "hand.yml" || re.Line != 7 || !strings.Contains(re.Reason, `"missing"`) {
		t.Errorf("error %v", errs[0])
	}
	if !strings.HasPrefix(errs[1].Error(), "hand.yml:9: ") {
		t.Errorf("error %v", errs[1])
	}
}

func TestMatchOrderAndDst(t *testing.T) {
	e := compileYAML(t, `title: r1
detection: {s: {A: 1}, condition: s}
---
title: r2
detection: {s: {B: 1}, condition: s}
---
title: r3
detection: {s: {A: 1}, condition: s}
`)
	ev := newEvent(e, win, fields{"A": "1", "B": "1"})
	prev := &rule.Rule{Meta: rule.Meta{Title: "kept"}}
	got := e.Match(ev, []*rule.Rule{prev})
	var titles []string
	for _, r := range got {
		titles = append(titles, r.Title)
	}
	if strings.Join(titles, ",") != "kept,r1,r2,r3" {
		t.Errorf("got %v", titles)
	}
}

// allocRules exercise every kind of atom, so that the allocation test
// covers each evaluation path.
const allocRules = `title: mixed
logsource: {product: windows}
detection:
  sel:
    Image|endswith: ['\cmd.exe', '\powershell.exe']
    CommandLine|contains|all: [' /c ', 'whoami']
    CommandLine|windash|contains: ' -nop '
    ParentImage|re|i: '\\explorer\.exe$'
    DestinationIp|cidr: ['10.0.0.0/8', 'fe80::/10']
    Count|gt: 3
    Tag: 'b?d*'
    Gone: null
    Here|exists: true
    User|neq: SYSTEM
    Name|cased: Ünïcode
  kw:
    - 'sekurlsa'
    - 'ev*il'
  kwall:
    '|all': ['a', 'b']
  condition: sel or kw or kwall
`

func allocEvent(e *Engine) *event.Event {
	ev := newEvent(e, win, fields{
		"Image":         `C:\Windows\System32\CMD.EXE`,
		"CommandLine":   `cmd.exe /c whoami /all –nop ` + strings.Repeat("padding ", 20),
		"ParentImage":   `C:\Windows\Explorer.exe`,
		"DestinationIp": "10.1.2.3",
		"Count":         "4",
		"Tag":           "bad\x00BOD\x00x",
		"Here":          "",
		"User":          "ÀDMIN",
		"Name":          "Ünïcode",
	})
	ev.Common[event.Message] = "Straße evil " + strings.Repeat("x", 100)
	ev.Raw = []byte(`{"msg":"SEKURLSA","n":"` + strings.Repeat("y", 100) + `"}`)
	return ev
}

func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	e := compileYAML(t, allocRules)
	ev := allocEvent(e)
	dst := make([]*rule.Rule, 0, 4)
	if len(e.Match(ev, dst)) != 1 {
		t.Fatal("the allocation event should match")
	}
	allocs := testing.AllocsPerRun(200, func() {
		dst = e.Match(ev, dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per event", allocs)
	}
	// A miss goes through every atom.
	miss := newEvent(e, win, fields{"Image": "x", "CommandLine": strings.Repeat("Z", 300)})
	miss.Raw = []byte(strings.Repeat("Q", 300))
	allocs = testing.AllocsPerRun(200, func() {
		dst = e.Match(miss, dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per missed event", allocs)
	}
}

func TestConcurrentMatch(t *testing.T) {
	e := compileYAML(t, allocRules)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := allocEvent(e)
			miss := newEvent(e, event.Logsource{Product: "windows", Service: string(rune('a' + w))}, fields{"Image": "x"})
			var dst []*rule.Rule
			for i := 0; i < 300; i++ {
				if dst = e.Match(ev, dst[:0]); len(dst) != 1 {
					t.Errorf("worker %d: %d matches", w, len(dst))
					return
				}
				if dst = e.Match(miss, dst[:0]); len(dst) != 0 {
					t.Errorf("worker %d: miss matched", w)
					return
				}
			}
		}()
	}
	wg.Wait()
}
