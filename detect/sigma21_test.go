package detect

import (
	"encoding/base64"
	"testing"
	"unicode/utf16"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

func wide(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// TestSigma21Modifiers checks the modifiers that transform values at load
// time and the ones evaluated at match time, each against an event that
// must match and one that must not.
func TestSigma21Modifiers(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(wide("xyz; IEX (New-Object Net.WebClient)")))
	cases := []struct {
		name, sel string
		ev        fields
		want      bool
	}{
		{"base64", "F|base64: 'cmd'", fields{"F": "Y21k"}, true},
		{"base64 whole value", "F|base64: 'cmd'", fields{"F": "Y21kZA=="}, false},
		{"base64 contains", "F|base64|contains: 'http'", fields{"F": "xx aHR0cA== yy"}, true},
		{"base64offset shift 0", "F|base64offset|contains: 'evil.com'", fields{"F": "pre " + base64.StdEncoding.EncodeToString([]byte("evil.com/x"))}, true},
		{"base64offset shift 1", "F|base64offset|contains: 'evil.com'", fields{"F": base64.StdEncoding.EncodeToString([]byte("aevil.com/x"))}, true},
		{"base64offset shift 2", "F|base64offset|contains: 'evil.com'", fields{"F": base64.StdEncoding.EncodeToString([]byte("abevil.com/x"))}, true},
		{"base64offset absent", "F|base64offset|contains: 'evil.com'", fields{"F": base64.StdEncoding.EncodeToString([]byte("abgood.com/x"))}, false},
		{"wide base64offset", "CommandLine|wide|base64offset|contains: 'IEX ('", fields{"CommandLine": "powershell -enc " + encoded}, true},
		{"wide base64offset other", "CommandLine|wide|base64offset|contains: 'iwr ('", fields{"CommandLine": "powershell -enc " + encoded}, false},
		{"utf16le", "F|utf16le|contains: 'cmd'", fields{"F": "\x00" + wide("run cmd now")}, true},
		{"utf16be", "F|utf16be|contains: 'cmd'", fields{"F": "\x00c\x00m\x00d"}, true},
		{"utf16be not le", "F|utf16be|contains: 'cmd'", fields{"F": wide("cmd")[:5]}, false},
		{"utf16 bom", "F|utf16|startswith: 'cmd'", fields{"F": "\xff\xfe" + wide("cmd.exe")}, true},
		{"utf16 needs bom", "F|utf16|startswith: 'cmd'", fields{"F": wide("cmd.exe")}, false},
		{"windash en dash", "CommandLine|windash|contains: ' -urlcache '", fields{"CommandLine": "certutil \u2013urlcache x"}, true},
		{"windash em dash", "CommandLine|windash|contains: ' -urlcache '", fields{"CommandLine": "certutil \u2014urlcache x"}, true},
		{"windash bar", "CommandLine|windash|contains: ' -urlcache '", fields{"CommandLine": "certutil \u2015urlcache x"}, true},
		{"windash slash", "CommandLine|windash|contains: ' -urlcache '", fields{"CommandLine": "certutil /urlcache x"}, true},
		{"windash other", "CommandLine|windash|contains: ' -urlcache '", fields{"CommandLine": "certutil +urlcache x"}, false},
		{"hour", "UtcTime|hour: 3", fields{"UtcTime": "2024-05-06 03:04:05.678"}, true},
		{"hour other", "UtcTime|hour: 3", fields{"UtcTime": "2024-05-06 13:04:05.678"}, false},
		{"hour gte", "UtcTime|hour|gte: 22", fields{"UtcTime": "2024-05-06T23:59:00Z"}, true},
		{"hour lt", "UtcTime|hour|lt: 6", fields{"UtcTime": "2024-05-06T23:59:00Z"}, false},
		{"minute", "T|minute: 4", fields{"T": "2024-05-06T03:04:05+02:00"}, true},
		{"day", "T|day: 6", fields{"T": "2024-05-06"}, true},
		{"month", "T|month: [4, 5]", fields{"T": "2024-05-06T00:00:00Z"}, true},
		{"month no", "T|month: [4, 5]", fields{"T": "2024-06-06T00:00:00Z"}, false},
		{"year", "T|year|lt: 2000", fields{"T": "1999-12-31T23:59:59Z"}, true},
		{"week", "T|week: 1", fields{"T": "2024-01-01"}, true}, // ISO week 1 of 2024 starts Monday 1 January
		{"week 52", "T|week: 52", fields{"T": "2023-12-31"}, true},
		{"time not a timestamp", "T|hour: 3", fields{"T": "03:00"}, false},
		{"time neq", "T|hour|neq: 3", fields{"T": "2024-01-01T04:00:00Z"}, true},
		{"fieldref equal", "SubjectUserName|fieldref: TargetUserName", fields{"SubjectUserName": "Bob", "TargetUserName": "bob"}, true},
		{"fieldref differ", "SubjectUserName|fieldref: TargetUserName", fields{"SubjectUserName": "Bob", "TargetUserName": "alice"}, false},
		{"fieldref ref absent", "SubjectUserName|fieldref: TargetUserName", fields{"SubjectUserName": "Bob"}, false},
		{"fieldref neq", "SubjectUserName|fieldref|neq: TargetUserName", fields{"SubjectUserName": "Bob", "TargetUserName": "alice"}, true},
		{"fieldref neq same", "SubjectUserName|fieldref|neq: TargetUserName", fields{"SubjectUserName": "Bob", "TargetUserName": "BOB"}, false},
		{"fieldref cased", "A|fieldref|cased: B", fields{"A": "Bob", "B": "bob"}, false},
		{"fieldref endswith", "CommandLine|fieldref|endswith: Image", fields{"CommandLine": `"x" C:\A.EXE`, "Image": `c:\a.exe`}, true},
		{"fieldref contains", "CommandLine|fieldref|contains: User", fields{"CommandLine": `run as bob now`, "User": "BOB"}, true},
		{"fieldref list any", "A|fieldref: [B, C]", fields{"A": "x", "C": "x"}, true},
		{"neq", "User|neq: [root, admin]", fields{"User": "bob"}, true},
		{"neq equal", "User|neq: [root, admin]", fields{"User": "ROOT"}, false},
		{"neq absent", "User|neq: root", fields{}, false},
		{"cased", "F|cased: Abc", fields{"F": "abc"}, false},
		{"re i", "F|re|i: '^abc$'", fields{"F": "ABC"}, true},
		{"re cased by default", "F|re: '^abc$'", fields{"F": "ABC"}, false},
		{"re s", "F|re|s: 'a.b'", fields{"F": "a\nb"}, true},
		{"re without s", "F|re: 'a.b'", fields{"F": "a\nb"}, false},
		{"re m", "F|re|m: '^b$'", fields{"F": "a\nb"}, true},
		{"re without m", "F|re: '^b$'", fields{"F": "a\nb"}, false},
		{"number as string", "EventID: 4688", fields{"EventID": "04688"}, false},
		{"escaped star", "F: 'a\\*'", fields{"F": "a*"}, true},
		{"escaped star is literal", "F: 'a\\*'", fields{"F": "ab"}, false},
		{"escaped backslash then wildcard", "F: 'a\\\\*'", fields{"F": "a\\bc"}, true},
		{"question mark one char", "F: 'a?c'", fields{"F": "abc"}, true},
		{"question mark not two", "F: 'a?c'", fields{"F": "abbc"}, false},
		{"escaped question", "F: 'a\\?c'", fields{"F": "abc"}, false},
	}
	for _, c := range cases {
		e := compileYAML(t, ruleWith(c.sel))
		if got := matches(e, wholeEvent(e, win, c.ev)); got != c.want {
			t.Errorf("%s: %s on %q: got %v, want %v", c.name, c.sel, c.ev, got, c.want)
		}
	}
}

// wholeEvent is newEvent without the NUL-splitting of multi-values: UTF-16
// values hold NULs.
func wholeEvent(e *Engine, ls event.Logsource, f fields) *event.Event {
	ev := &event.Event{Logsource: ls}
	ev.Fields.Bind(e.Dict())
	for k, v := range f {
		ev.Fields.SetName([]byte(k), v)
	}
	return ev
}

func TestExpandPlaceholders(t *testing.T) {
	o := &rule.Options{Placeholders: map[string][]string{"Admins": {"adm_*", "root"}}}
	s, errs := o.ParseSet("x.yml", []byte(ruleWith("User|expand: '%Admins%'")))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e, errs := Compile(s.Rules, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for user, want := range map[string]bool{"adm_bob": true, "ROOT": true, "bob": false, "%Admins%": false} {
		if got := matches(e, newEvent(e, win, fields{"User": user})); got != want {
			t.Errorf("User %q: got %v, want %v", user, got, want)
		}
	}
}

// TestOfPatterns: `1 of`/`all of` with the wildcard anywhere in the pattern.
func TestOfPatterns(t *testing.T) {
	searches := "title: t\nlogsource: {product: windows}\ndetection:\n  sel_a: {A: 1}\n  sel_b: {B: 1}\n  x_sel: {C: 1}\n  other: {D: 1}\n"
	cases := []struct {
		cond, ev string
		want     bool
	}{
		{"1 of sel_*", "B", true},
		{"all of sel_*", "A", false},
		{"all of sel_*", "AB", true},
		{"1 of *sel", "C", true},
		{"1 of *sel", "A", false},
		{"1 of *sel*", "C", true},
		{"all of *sel*", "ABC", true},
		{"all of *sel*", "AB", false},
		{"1 of o*r", "D", true},
		{"all of them", "ABCD", true},
		{"1 of them and not other", "AD", false},
	}
	for _, c := range cases {
		rules, errs := rule.Parse("t.yml", []byte(searches+"  condition: "+c.cond+"\n"))
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.cond, errs)
		}
		e, _ := Compile(rules, Options{})
		f := fields{}
		for _, r := range c.ev {
			f[string(r)] = "1"
		}
		if got := matches(e, newEvent(e, win, f)); got != c.want {
			t.Errorf("%q on %q: got %v, want %v", c.cond, c.ev, got, c.want)
		}
	}
}

func TestFiltersMatch(t *testing.T) {
	src := `title: Whoami
id: 22222222-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
---
title: Admin accounts
logsource: {product: windows}
filter:
  rules: [22222222-0000-4000-8000-000000000001]
  sel:
    User|startswith: 'adm_'
  condition: sel
`
	e := compileYAML(t, src)
	ls := event.Logsource{Product: "windows", Category: "process_creation"}
	if !matches(e, newEvent(e, ls, fields{"Image": `C:\w\whoami.exe`, "User": "bob"})) {
		t.Error("rule does not match where the filter does not")
	}
	if matches(e, newEvent(e, ls, fields{"Image": `C:\w\whoami.exe`, "User": "adm_bob"})) {
		t.Error("rule matches where the filter does")
	}
}

func TestTaxonomyRouting(t *testing.T) {
	src := "title: reg\nlogsource: {product: windows, category: registry_event}\ndetection:\n  sel: {TargetObject|contains: Run}\n  condition: sel\n"
	rules, _ := rule.Parse("t.yml", []byte(src))
	plain, _ := Compile(rules, Options{})
	tax, _ := Compile(rules, Options{Taxonomy: rule.DefaultTaxonomy()})
	for _, c := range []struct {
		cat        string
		plain, tax bool
	}{
		{"registry_event", true, true},
		{"registry_set", false, true},
		{"registry_add", false, true},
		{"registry_delete", false, true},
		{"registry_rename", false, true},
		{"process_creation", false, false},
	} {
		ls := event.Logsource{Product: "windows", Service: "sysmon", Category: c.cat}
		if got := matches(plain, newEvent(plain, ls, fields{"TargetObject": `HKLM\Run`})); got != c.plain {
			t.Errorf("no taxonomy, %s: got %v", c.cat, got)
		}
		if got := matches(tax, newEvent(tax, ls, fields{"TargetObject": `HKLM\Run`})); got != c.tax {
			t.Errorf("taxonomy, %s: got %v", c.cat, got)
		}
	}
	// Other products never receive the rule.
	if matches(tax, newEvent(tax, event.Logsource{Product: "linux", Category: "registry_set"}, fields{"TargetObject": "Run"})) {
		t.Error("linux event routed to a windows rule")
	}
}

func FuzzTimePart(f *testing.F) {
	f.Add("2024-05-06T03:04:05Z")
	f.Add("2024-05-06 03:04")
	f.Add("2024-02-31")
	f.Fuzz(func(t *testing.T, s string) {
		for part, hi := range map[rule.TimePart]float64{rule.Minute: 59, rule.Hour: 23, rule.Day: 31, rule.Week: 53, rule.Month: 12, rule.Year: 9999} {
			v, ok := timePart(s, part)
			if ok && (v < 0 || v > hi) {
				t.Fatalf("%q %v = %v", s, part, v)
			}
		}
	})
}
