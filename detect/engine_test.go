package detect

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// compileYAML compiles the rules of a YAML text, failing on any error.
func compileYAML(t testing.TB, src string) *Engine {
	t.Helper()
	rules, errs := rule.Parse("test.yml", []byte(src))
	for _, err := range errs {
		t.Fatalf("parse: %v", err)
	}
	e, errs := Compile(rules, Options{})
	for _, err := range errs {
		t.Fatalf("compile: %v", err)
	}
	return e
}

// ruleWith is a rule of one selection, for tables.
func ruleWith(selection string) string {
	return "title: t\nlogsource: {product: windows}\ndetection:\n  selection:\n" + indent(selection, "    ") + "  condition: selection\n"
}

func indent(s, by string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(by + l + "\n")
	}
	return b.String()
}

// fields is an event's own fields; a value "a\x00b" sets field twice.
type fields map[string]string

func newEvent(e *Engine, ls event.Logsource, f fields) *event.Event {
	ev := &event.Event{Logsource: ls}
	ev.Fields.Bind(e.Dict())
	for k, v := range f {
		for _, part := range strings.Split(v, "\x00") {
			ev.Fields.SetName([]byte(k), part)
		}
	}
	return ev
}

var win = event.Logsource{Product: "windows"}

func matches(e *Engine, ev *event.Event) bool { return len(e.Match(ev, nil)) > 0 }

func TestModifiers(t *testing.T) {
	cases := []struct {
		name, sel string
		ev        fields
		want      bool
	}{
		{"equal folds case", "Image: 'C:\\Windows\\cmd.exe'", fields{"Image": `c:\windows\CMD.EXE`}, true},
		{"equal is whole value", "Image: 'cmd.exe'", fields{"Image": `c:\windows\cmd.exe`}, false},
		{"list is or", "Image: [a, b]", fields{"Image": "B"}, true},
		{"list none", "Image: [a, b]", fields{"Image": "c"}, false},
		{"absent field", "Image: a", fields{"Other": "a"}, false},
		{"contains", "CommandLine|contains: ' -enc '", fields{"CommandLine": "powershell -ENC abc"}, true},
		{"contains no", "CommandLine|contains: ' -enc '", fields{"CommandLine": "powershell -e abc"}, false},
		{"startswith", "Image|startswith: 'C:\\Users\\'", fields{"Image": `c:\users\x.exe`}, true},
		{"startswith no", "Image|startswith: 'C:\\Users\\'", fields{"Image": `d:\c:\users\x.exe`}, false},
		{"endswith", "Image|endswith: '\\cmd.exe'", fields{"Image": `C:\x\CMD.exe`}, true},
		{"endswith no", "Image|endswith: '\\cmd.exe'", fields{"Image": `C:\x\cmd.exe.bak`}, false},
		{"contains all", "CommandLine|contains|all: [' -a ', ' -b ']", fields{"CommandLine": "x -b  -a y"}, true},
		{"contains all missing one", "CommandLine|contains|all: [' -a ', ' -b ']", fields{"CommandLine": "x -a y"}, false},
		{"exists true", "User|exists: true", fields{"User": ""}, true},
		{"exists true absent", "User|exists: true", fields{}, false},
		{"exists false", "User|exists: false", fields{}, true},
		{"exists false present", "User|exists: false", fields{"User": "x"}, false},
		{"null absent", "User: null", fields{}, true},
		{"null empty", "User: null", fields{"User": ""}, true},
		{"null present", "User: null", fields{"User": "x"}, false},
		{"empty string", "User: ''", fields{"User": ""}, true},
		{"empty string absent", "User: ''", fields{}, false},
		{"re", "CommandLine|re: '-e(nc)? [A-Z]+'", fields{"CommandLine": "ps -enc ABC"}, true},
		{"re cased by default", "CommandLine|re: '-e(nc)? [A-Z]+'", fields{"CommandLine": "ps -enc abc"}, false},
		{"re i", "CommandLine|re|i: '-e(nc)? [A-Z]+'", fields{"CommandLine": "ps -enc abc"}, true},
		{"re s", "CommandLine|re|s: 'a.b'", fields{"CommandLine": "a\nb"}, true},
		{"re without s", "CommandLine|re: 'a.b'", fields{"CommandLine": "a\nb"}, false},
		{"re m", "CommandLine|re|m: '^b$'", fields{"CommandLine": "a\nb"}, true},
		{"re without m", "CommandLine|re: '^b$'", fields{"CommandLine": "a\nb"}, false},
		{"cidr v4", "DestinationIp|cidr: 10.0.0.0/8", fields{"DestinationIp": "10.2.3.4"}, true},
		{"cidr v4 out", "DestinationIp|cidr: 10.0.0.0/8", fields{"DestinationIp": "11.2.3.4"}, false},
		{"cidr v4 mapped", "DestinationIp|cidr: 10.0.0.0/8", fields{"DestinationIp": "::ffff:10.2.3.4"}, true},
		{"cidr v6", "DestinationIp|cidr: 'fe80::/10'", fields{"DestinationIp": "FE80::1"}, true},
		{"cidr not an ip", "DestinationIp|cidr: 10.0.0.0/8", fields{"DestinationIp": "10.0.0"}, false},
		{"cidr list", "DestinationIp|cidr: [10.0.0.0/8, 192.168.0.0/16]", fields{"DestinationIp": "192.168.1.1"}, true},
		{"lt", "Count|lt: 10", fields{"Count": "9"}, true},
		{"lt equal", "Count|lt: 10", fields{"Count": "10"}, false},
		{"lte", "Count|lte: 10", fields{"Count": "10"}, true},
		{"gt", "Count|gt: 10", fields{"Count": "10.5"}, true},
		{"gt no", "Count|gt: 10", fields{"Count": "-11"}, false},
		{"gte", "Count|gte: 10", fields{"Count": "10"}, true},
		{"gt not a number", "Count|gt: 10", fields{"Count": "0x20"}, false},
		{"cased", "Image|cased: 'CMD.exe'", fields{"Image": "CMD.exe"}, true},
		{"cased no", "Image|cased: 'CMD.exe'", fields{"Image": "cmd.exe"}, false},
		{"cased endswith", "Image|endswith|cased: 'X'", fields{"Image": "ax"}, false},
		{"windash slash", "CommandLine|contains|windash: ' -enc '", fields{"CommandLine": "ps /enc x"}, true},
		{"windash en dash", "CommandLine|contains|windash: ' -enc '", fields{"CommandLine": "ps \u2013enc x"}, true},
		{"windash written", "CommandLine|windash|contains: ' /enc '", fields{"CommandLine": "ps -enc x"}, true},
		{"windash no", "CommandLine|contains|windash: ' -enc '", fields{"CommandLine": "ps +enc x"}, false},
		{"neq", "User|neq: SYSTEM", fields{"User": "bob"}, true},
		{"neq equal", "User|neq: SYSTEM", fields{"User": "system"}, false},
		{"neq absent", "User|neq: SYSTEM", fields{}, false},
		{"neq list", "User|neq: [a, b]", fields{"User": "b"}, false},
		{"number as string", "EventID: 4688", fields{"EventID": "4688"}, true},
		{"number not numeric compare", "EventID: 4688", fields{"EventID": "04688"}, false},
		{"bool as string", "Enabled: true", fields{"Enabled": "True"}, true},
		{"wildcard star", "Image: 'C:\\\\*\\cmd.exe'", fields{"Image": `c:\windows\system32\cmd.exe`}, true},
		{"backslash star is a literal star", "Image: 'C:\\*\\cmd.exe'", fields{"Image": `c:\windows\system32\cmd.exe`}, false},
		{"backslash star literal matches", "Image: 'C:\\*\\cmd.exe'", fields{"Image": `C:*\cmd.exe`}, true},
		{"wildcard question", "Image: 'prog?.exe'", fields{"Image": "progA.exe"}, true},
		{"wildcard question one char", "Image: 'prog?.exe'", fields{"Image": "progAB.exe"}, false},
		{"wildcard question unicode", "Image: 'prog?.exe'", fields{"Image": "progÄ.exe"}, true},
		{"escaped star literal", "Image: 'a\\*b'", fields{"Image": "a*b"}, true},
		{"escaped star not wildcard", "Image: 'a\\*b'", fields{"Image": "axxb"}, false},
		{"escaped question", "Image: 'a\\?'", fields{"Image": "a?"}, true},
		{"escaped question not wildcard", "Image: 'a\\?'", fields{"Image": "ab"}, false},
		{"backslash then wildcard", "Image: 'a\\\\*'", fields{"Image": "a\\xyz"}, true},
		{"backslash then wildcard needs backslash", "Image: 'a\\\\*'", fields{"Image": "axyz"}, false},
		{"three backslashes and star", "Image: 'a\\\\\\*'", fields{"Image": "a\\*"}, true},
		{"three backslashes star literal", "Image: 'a\\\\\\*'", fields{"Image": "a\\xyz"}, false},
		{"four backslashes", "Image: 'a\\\\\\\\b'", fields{"Image": "a\\\\b"}, true},
		{"plain backslash", "Image: 'a\\b'", fields{"Image": "a\\b"}, true},
		{"double backslash is one", "Image: 'a\\\\b'", fields{"Image": "a\\b"}, true},
		{"unicode folding", "User: 'ÉLODIE'", fields{"User": "élodie"}, true},
		{"unicode contains", "User|contains: 'Straße'", fields{"User": "DIE STRAßE 1"}, true},
		{"multi-valued any", "Tag: b", fields{"Tag": "a\x00B\x00c"}, true},
		{"multi-valued none", "Tag: d", fields{"Tag": "a\x00b"}, false},
		{"multi-valued all across values", "Tag|all: [a, c]", fields{"Tag": "a\x00b\x00c"}, true},
		{"multi-valued neq", "Tag|neq: b", fields{"Tag": "a\x00b"}, false},
		{"multi-valued contains", "Tag|contains: XY", fields{"Tag": "a\x00bxyz"}, true},
		{"map is and", "A: 1\nB: 2", fields{"A": "1", "B": "2"}, true},
		{"map is and, one missing", "A: 1\nB: 2", fields{"A": "1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := compileYAML(t, ruleWith(c.sel))
			ev := newEvent(e, win, c.ev)
			if got := matches(e, ev); got != c.want {
				t.Errorf("%s on %q: got %v, want %v", c.sel, c.ev, got, c.want)
			}
		})
	}
}

// TestKeywordsAliasedValues: values that lie inside the raw record are
// found by the raw record's pass (not scanned again); values decoded into
// other memory (unescaped JSON) are scanned on their own.
func TestKeywordsAliasedValues(t *testing.T) {
	e := compileYAML(t, "title: t\nlogsource: {product: windows}\ndetection:\n  keywords: ['say \"hi\"', 'sekurlsa::']\n  other:\n    Image|startswith: zzz\n  condition: keywords or other\n")
	raw := []byte(`{"Image":"C:\\x.exe say \"hi\"","CommandLine":"run sekurlsa::logonpasswords"}`)
	for _, c := range []struct {
		name  string
		image string
		raw   []byte
		want  bool
	}{
		// Unescaped: only the value holds `say "hi"`.
		{"unescaped value", `C:\x.exe say "hi"`, raw[:20], true},
		// A value aliasing the raw record: the raw pass finds it.
		{"aliased value", bytesString(raw[bytes.Index(raw, []byte("run")):bytes.LastIndexByte(raw, '"')]), raw, true},
		{"aliased, no keyword", bytesString(raw[2:7]), raw[:30], false},
	} {
		ev := &event.Event{Logsource: win, Raw: c.raw}
		ev.Fields.Bind(e.Dict())
		ev.Fields.SetName([]byte("Image"), c.image)
		if got := matches(e, ev); got != c.want {
			t.Errorf("%s: matched %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMatcherNoAllocs: a Matcher keeps its scratch state, so matching
// allocates nothing even when garbage collections run between events
// (Engine.Match then refills its pool).
func TestMatcherNoAllocs(t *testing.T) {
	e := compileYAML(t, ruleWith("Image|endswith: '\\cmd.exe'\nCommandLine|contains|all: [' /c ', 'whoami']\n"))
	ev := newEvent(e, win, fields{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd.exe /c whoami /all"})
	m := e.NewMatcher()
	dst := make([]*rule.Rule, 0, 4)
	if dst = m.Match(ev, dst[:0]); len(dst) != 1 {
		t.Fatalf("matched %d rules, want 1", len(dst))
	}
	allocs := testing.AllocsPerRun(50, func() {
		runtime.GC()
		dst = m.Match(ev, dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Matcher.Match allocated %.1f times per event", allocs)
	}
}

// TestUncachedRoutes: past maxRoutes logsources, events are scanned with
// the sets of every rule; rules of other logsources, triggered or not, must
// still not match.
func TestUncachedRoutes(t *testing.T) {
	saved := maxRoutes
	defer func() { maxRoutes = saved }()
	maxRoutes = 0
	src := "title: a\nlogsource: {product: linux}\ndetection:\n  sel:\n    Image: x\n  condition: not sel\n---\n" +
		"title: b\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endswith: '.exe'\n  condition: sel\n---\n" +
		"title: c\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|endswith: '.exe'\n  filter:\n    Image|contains: temp\n  condition: not filter\n"
	e := compileYAML(t, src)
	ev := newEvent(e, win, fields{"Image": `C:\Windows\cmd.exe`})
	var got []string
	for _, r := range e.Match(ev, nil) {
		got = append(got, r.Title)
	}
	if strings.Join(got, ",") != "b,c" {
		t.Errorf("matched %q, want b and c", got)
	}
	ev = newEvent(e, event.Logsource{Product: "linux"}, fields{"Image": "y"})
	got = got[:0]
	for _, r := range e.Match(ev, nil) {
		got = append(got, r.Title)
	}
	if strings.Join(got, ",") != "a" {
		t.Errorf("matched %q, want a", got)
	}
}

// TestWarm: Warm builds a logsource's route before its first event, and
// Logsources lists the routes built.
func TestWarm(t *testing.T) {
	e := compileYAML(t, ruleWith("Image|endswith: '.exe'\n"))
	if n := len(e.Logsources()); n != 0 {
		t.Fatalf("%d routes before any event", n)
	}
	e.Warm(win)
	if ls := e.Logsources(); len(ls) != 1 || ls[0] != win {
		t.Fatalf("Logsources() = %v after Warm(%v)", ls, win)
	}
	ev := newEvent(e, win, fields{"Image": "a.exe"})
	m := e.NewMatcher()
	dst := make([]*rule.Rule, 0, 1)
	if got := testing.AllocsPerRun(20, func() { dst = m.Match(ev, dst[:0]) }); got != 0 || len(dst) != 1 {
		t.Errorf("matching after Warm: %.0f allocations, %d rules", got, len(dst))
	}
}

// TestExtraFieldsAreDecodedWithoutARule: Options.ExtraFields puts fields
// no rule reads into the engine's Dict, so that a decoder bound to it
// fills them (correlations group by such fields), and adds no rule.
func TestExtraFieldsAreDecodedWithoutARule(t *testing.T) {
	rules, errs := rule.Parse("test.yml", []byte(ruleWith("EventID: 4625\n")))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e, errs := Compile(rules, Options{ExtraFields: []string{"TargetUserName", "EventID", "TargetUserName", "IpAddress"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if e.Len() != 1 || len(e.Rules()) != 1 {
		t.Fatalf("%d rules compiled from one rule and three extra fields", e.Len())
	}
	for _, name := range []string{"EventID", "TargetUserName", "IpAddress"} {
		if _, ok := e.Dict().ID(name); !ok {
			t.Errorf("field %s is not in the engine's Dict", name)
		}
	}
	if e.Dict().Len() != 3 {
		t.Errorf("Dict holds %d fields, want 3 (each once)", e.Dict().Len())
	}
	var ev event.Event
	ev.Fields.Bind(e.Dict())
	rec := `{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":"bob","IpAddress":"10.1.2.3","SubjectUserName":"x"}`
	if err := windows.New().Decode([]byte(rec), &ev); err != nil {
		t.Fatal(err)
	}
	if v, ok := ev.Get("TargetUserName"); !ok || v != "bob" {
		t.Errorf("TargetUserName = %q, %v after decoding; want bob", v, ok)
	}
	if _, ok := ev.Get("SubjectUserName"); ok {
		t.Error("SubjectUserName was decoded though neither a rule nor ExtraFields names it")
	}
	if got := e.Match(&ev, nil); len(got) != 1 {
		t.Errorf("%d matches, want the one rule", len(got))
	}
}
