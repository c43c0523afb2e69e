package detect

import (
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

var web = event.Logsource{Category: "webserver"}

// A payload modifier has no literal for the prefilter: the rule must still
// be evaluated on every event of its logsource, and only there.
func TestPayloadModifiers(t *testing.T) {
	src := `title: sqli
logsource: {category: webserver}
detection:
  selection:
    url.original|sqli: true
  condition: selection
---
title: xss in query, not a bot
logsource: {category: webserver}
detection:
  selection:
    url.query|xss: true
  filter:
    user_agent.original|contains: healthcheck
  condition: selection and not filter
---
title: clean
logsource: {category: webserver}
detection:
  selection:
    url.original|startswith: /api/
    url.original|traversal: false
  condition: selection
`
	e := compileYAML(t, src)
	titles := func(ev *event.Event) map[string]bool {
		out := map[string]bool{}
		for _, m := range e.Match(ev, nil) {
			out[m.Title] = true
		}
		return out
	}
	cases := []struct {
		ls   event.Logsource
		f    fields
		want []string
	}{
		{web, fields{"url.original": "/item?id=1%27+or+%271%27%3D%271"}, []string{"sqli"}},
		{web, fields{"url.original": "/item?id=42"}, nil},
		{win, fields{"url.original": "/item?id=1%27+or+%271%27%3D%271"}, nil},
		{web, fields{"url.query": "q=%3Cscript%3Ealert(1)%3C/script%3E"}, []string{"xss in query, not a bot"}},
		{web, fields{"url.query": "q=%3Cscript%3Ealert(1)%3C/script%3E", "user_agent.original": "healthcheck/1"}, nil},
		{web, fields{"url.original": "/api/v1/users"}, []string{"clean"}},
		{web, fields{"url.original": "/api/../../../etc/passwd"}, nil},
		// A field with several values: any one carrying a payload is enough.
		{web, fields{"url.original": "/ok\x00/x?id=1 union select 1,2"}, []string{"sqli"}},
	}
	for _, c := range cases {
		got := titles(newEvent(e, c.ls, c.f))
		if len(got) != len(c.want) {
			t.Errorf("%v %v: matched %v, want %v", c.ls, c.f, got, c.want)
			continue
		}
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("%v %v: matched %v, want %v", c.ls, c.f, got, c.want)
			}
		}
	}
}

func TestPayloadModifierErrors(t *testing.T) {
	for _, sel := range []string{
		"url.original|sqli|contains: true",
		"url.original|sqli: [true, false]",
		"url.original|sqli: maybe",
		"url.original|xss|re: x",
		"url.original|cmdi|neq: true",
		"url.original|traversal|cased: true",
		"'|sqli': true",
	} {
		src := "title: t\nlogsource: {category: webserver}\ndetection:\n  selection:\n    " + sel + "\n  condition: selection\n"
		if _, errs := rule.Parse("t.yml", []byte(src)); len(errs) == 0 {
			t.Errorf("%s: accepted", sel)
		}
	}
}

// The codec keeps the payload kind: a rule read back from its binary form
// matches as the parsed one does.
func TestPayloadCodec(t *testing.T) {
	rules, errs := rule.Parse("t.yml", []byte("title: t\nlogsource: {category: webserver}\ndetection:\n  selection:\n    url.original|cmdi: true\n  condition: selection\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	back, err := rule.DecodeRules(rule.AppendRules(nil, rules))
	if err != nil {
		t.Fatal(err)
	}
	e, cerrs := Compile(back, Options{})
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	if !matches(e, newEvent(e, web, fields{"url.original": "/ping?host=1.1.1.1;cat+/etc/passwd"})) {
		t.Error("decoded cmdi rule does not match a command injection")
	}
	if matches(e, newEvent(e, web, fields{"url.original": "/ping?host=1.1.1.1"})) {
		t.Error("decoded cmdi rule matches a plain request")
	}
}

func BenchmarkPayloadRule(b *testing.B) {
	e := compileYAML(b, "title: t\nlogsource: {category: webserver}\ndetection:\n  selection:\n    url.original|sqli: true\n  condition: selection\n")
	ev := newEvent(e, web, fields{"url.original": "/catalog/items?category=shoes&sort=price&page=3"})
	b.ReportAllocs()
	for b.Loop() {
		e.Match(ev, nil)
	}
}
