package rule

import (
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func matcherOf(t *testing.T, o *Options, sel string) *Matcher {
	t.Helper()
	s, errs := o.ParseSet("m.yml", []byte("title: t\ndetection:\n  s:\n    "+sel+"\n  condition: s\n"))
	for _, err := range errs {
		t.Fatalf("%s: %v", sel, err)
	}
	return s.Rules[0].Detection.Searches[0].Groups[0][0]
}

func literals(m *Matcher, i int) []string {
	var out []string
	for _, p := range m.Values[i].Patterns {
		out = append(out, p.String())
	}
	return out
}

// The examples of the modifiers appendix: cmd > 63 00 6d 00 64 00 (utf16le),
// 00 63 00 6d 00 64 (utf16be), FF FE 63 00 6d 00 64 00 (utf16).
func TestEncodingModifiers(t *testing.T) {
	cases := []struct {
		sel  string
		want string
	}{
		{"F|cased|utf16le: cmd", "c\x00m\x00d\x00"},
		{"F|cased|wide: cmd", "c\x00m\x00d\x00"},
		{"F|cased|utf16be: cmd", "\x00c\x00m\x00d"},
		{"F|cased|utf16: cmd", "\xff\xfec\x00m\x00d\x00"},
		{"F|cased|base64: cmd", "Y21k"},
		{"F|cased|wide|base64: cmd", base64.StdEncoding.EncodeToString([]byte("c\x00m\x00d\x00"))},
		{"F|base64: cmd", "y21k"}, // case-insensitive by default, like every value
	}
	for _, c := range cases {
		m := matcherOf(t, nil, c.sel)
		got := m.Values[0].Patterns
		if len(got) != 1 || len(got[0]) != 1 || got[0][0].Text != c.want {
			t.Errorf("%s: got %q, want %q", c.sel, got, c.want)
		}
	}
}

// base64offset: whatever comes before the value (shifting it by 0, 1 or 2
// bytes) and after it, the encoding of the whole text holds one of the
// three variants.
func TestBase64Offset(t *testing.T) {
	m := matcherOf(t, nil, "F|cased|base64offset|contains: 'http://'")
	var variants []string
	for _, p := range m.Values[0].Patterns {
		if len(p) != 3 || p[0].Kind != Star || p[2].Kind != Star {
			t.Fatalf("variant %v is not a contains pattern", p)
		}
		variants = append(variants, p[1].Text)
	}
	if len(variants) != 3 {
		t.Fatalf("got %d variants %q, want 3", len(variants), variants)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		pre := make([]byte, r.IntN(9))
		post := make([]byte, r.IntN(5))
		for j := range pre {
			pre[j] = byte(r.IntN(256))
		}
		for j := range post {
			post[j] = byte(r.IntN(256))
		}
		enc := base64.StdEncoding.EncodeToString(slices.Concat(pre, []byte("http://"), post))
		if !slices.ContainsFunc(variants, func(v string) bool { return strings.Contains(enc, v) }) {
			t.Fatalf("encoding %q of a text holding http:// at offset %d holds none of %q", enc, len(pre), variants)
		}
	}
	// wide|base64offset, as PowerShell -EncodedCommand rules write it.
	m = matcherOf(t, nil, "F|wide|base64offset|contains: 'IEX'")
	if n := len(m.Values[0].Patterns); n != 3 {
		t.Errorf("wide|base64offset gave %d variants", n)
	}
}

func TestWindashAllDashes(t *testing.T) {
	m := matcherOf(t, nil, "F|windash: '-x'")
	got := literals(m, 0)
	want := []string{"-x", "/x", "–x", "—x", "―x"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// Every dash character of the value is one of the five.
	m = matcherOf(t, nil, "F|windash: '―x'")
	if got := literals(m, 0); len(got) != 5 || got[0] != "―x" {
		t.Errorf("horizontal bar: got %q", got)
	}
}

func TestExpand(t *testing.T) {
	o := &Options{Placeholders: map[string][]string{"admins": {"root", "adm_*"}, "dom": {"corp", "lab"}}}
	m := matcherOf(t, o, "User|expand: '%dom%\\%admins%'")
	got := literals(m, 0)
	// Pattern.String escapes the backslash: corp\root is corp, a backslash, root.
	want := []string{`corp\\root`, `corp\\adm_*`, `lab\\root`, `lab\\adm_*`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// Without expand, %name% is plain text.
	if got := literals(matcherOf(t, o, "User: '%admins%'"), 0); !slices.Equal(got, []string{"%admins%"}) {
		t.Errorf("without expand: %q", got)
	}
	_, errs := o.ParseSet("m.yml", []byte("title: t\ndetection:\n  s:\n    User|expand: '%other%'\n  condition: s\n"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "m.yml:4:18: placeholder %other% is not defined") {
		t.Errorf("undefined placeholder: %v", errs)
	}
}

// With OptionalPlaceholders a rule on a placeholder the configuration
// lacks is left out and named, not an error; one whose placeholders are
// all defined loads, and other errors stay errors.
func TestOptionalPlaceholders(t *testing.T) {
	o := &Options{Placeholders: map[string][]string{"admins": {"root"}}, OptionalPlaceholders: true}
	text := "title: needs list\ndetection:\n  s:\n    User|expand: '%blocked%'\n  condition: s\n" +
		"---\ntitle: has list\ndetection:\n  s:\n    User|expand: '%admins%'\n  condition: s\n" +
		"---\ntitle: broken\ndetection:\n  s:\n    User|bogus: x\n  condition: s\n"
	set, errs := o.ParseSet("m.yml", []byte(text))
	if len(set.Rules) != 1 || set.Rules[0].Title != "has list" {
		t.Errorf("rules %v, want only the one whose placeholder is defined", set.Rules)
	}
	want := []Unconfigured{{File: "m.yml", Title: "needs list", Placeholder: "blocked"}}
	if !slices.Equal(set.Unconfigured, want) {
		t.Errorf("unconfigured %+v, want %+v", set.Unconfigured, want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "bogus") {
		t.Errorf("errors %v, want only the broken rule's", errs)
	}
	// Without the option the same rule is an error.
	o.OptionalPlaceholders = false
	set, errs = o.ParseSet("m.yml", []byte(text))
	if len(set.Unconfigured) != 0 || len(errs) != 2 {
		t.Errorf("strict: unconfigured %v, errors %v", set.Unconfigured, errs)
	}
}

func TestTimeAndFieldrefModifiers(t *testing.T) {
	m := matcherOf(t, nil, "UtcTime|hour|gte: 22")
	if m.Op != OpGTE || m.Time != Hour || m.Values[0].Number != 22 {
		t.Errorf("hour|gte: %+v", m)
	}
	m = matcherOf(t, nil, "UtcTime|month: [1, 2]")
	if m.Op != OpEqual || m.Time != Month || len(m.Values) != 2 {
		t.Errorf("month: %+v", m)
	}
	m = matcherOf(t, nil, "SourceUser|fieldref|neq: TargetUser")
	if m.Op != OpFieldRef || !m.Neq || m.Values[0].Ref != "TargetUser" {
		t.Errorf("fieldref: %+v", m)
	}
	m = matcherOf(t, nil, "CommandLine|fieldref|endswith: Image")
	if m.Op != OpFieldRef || m.Position != "endswith" {
		t.Errorf("fieldref|endswith: %+v", m)
	}
}

func TestModifierCombinationErrors(t *testing.T) {
	cases := []struct{ sel, reason string }{
		{"F|base64: 'a*b'", `cannot encode the wildcards`},
		{"F|base64|utf16le: a", `must come before "base64"`},
		{"F|base64|base64offset|contains: a", `cannot follow "base64"`},
		{"F|wide|utf16be: a", `cannot follow "utf16le"`},
		{"F|hour|day: 1", `cannot follow "hour"`},
		{"F|hour|contains: 1", `cannot be combined with "contains"`},
		{"F|hour|re: 1", `cannot be combined with "re"`},
		{"F|hour: noon", `"hour" needs a number`},
		{"F|fieldref|base64: G", `cannot be combined with "base64"`},
		{"F|fieldref: 'G*'", `takes a field name`},
		{"F|cidr|windash: 10.0.0.0/8", `cannot be combined with "windash"`},
		{"'|hour': 1", `keyword search`},
		{"'|fieldref': G", `keyword search`},
	}
	for _, c := range cases {
		_, errs := Parse("m.yml", []byte("title: t\ndetection:\n  s:\n    "+c.sel+"\n  condition: s\n"))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.reason) || !strings.HasPrefix(errs[0].Error(), "m.yml:4:") {
			t.Errorf("%s: got %v, want m.yml:4:…%s", c.sel, errs, c.reason)
		}
	}
}

// Escaping as the specification writes it: \* and \? are literal, \\ before
// a wildcard is a backslash, a lone backslash is itself.
func TestEscapingUnderEncoding(t *testing.T) {
	m := matcherOf(t, nil, `F|cased|base64: 'a\*b'`)
	if got := m.Values[0].Patterns[0][0].Text; got != base64.StdEncoding.EncodeToString([]byte("a*b")) {
		t.Errorf("escaped star under base64: %q", got)
	}
	m = matcherOf(t, nil, `F|cased|wide: 'C:\Win'`)
	if got := m.Values[0].Patterns[0][0].Text; got != "C\x00:\x00\\\x00W\x00i\x00n\x00" {
		t.Errorf("backslash under wide: %q", got)
	}
}
