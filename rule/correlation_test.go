package rule

import (
	"strings"
	"testing"
	"time"
)

func TestParseCorrelation(t *testing.T) {
	text := `title: failed then success
id: c-1
level: high
generate: true
correlation:
  type: temporal_ordered
  rules:
    - failed
    - 0000-succ
  group-by: [ip]
  timespan: 90m
  aliases:
    ip:
      failed: source.ip
      success: IpAddress
---
title: failed
name: failed
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: success
id: 0000-succ
name: success
detection:
  sel: {EventID: 4624}
  condition: sel
`
	set, errs := ParseSet("mr.yml", []byte(text))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(set.Rules) != 2 || len(set.Correlations) != 1 {
		t.Fatalf("rules %d correlations %d", len(set.Rules), len(set.Correlations))
	}
	if errs := set.Link(); len(errs) > 0 {
		t.Fatal(errs)
	}
	c := set.Correlations[0]
	if c.Type != TemporalOrdered || c.Timespan != 90*time.Minute || !c.Generate || c.Level != "high" {
		t.Fatalf("%+v", c)
	}
	if c.Targets[0].Rule != set.Rules[0] || c.Targets[1].Rule != set.Rules[1] {
		t.Fatal("references by name and by id did not resolve")
	}
	if c.FieldFor("ip", 0) != "source.ip" || c.FieldFor("ip", 1) != "IpAddress" || c.FieldFor("other", 0) != "other" {
		t.Fatal("aliases")
	}
	// Parse keeps its signature: the detection rules only.
	if rs, errs := Parse("mr.yml", []byte(text)); len(rs) != 2 || len(errs) != 0 {
		t.Fatalf("Parse: %d rules, %v", len(rs), errs)
	}
}

func TestCorrelationCondition(t *testing.T) {
	set, errs := ParseSet("c.yml", []byte("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [u]\n  timespan: 1h\n  condition:\n    gt: 100\n    lte: 200\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c := set.Correlations[0].Condition
	for v, want := range map[float64]bool{100: false, 101: true, 200: true, 201: false} {
		if c.Holds(v) != want {
			t.Errorf("range gt 100 lte 200 at %v: %v", v, !want)
		}
	}
	if c.LowerOnly() {
		t.Error("a range has an upper bound")
	}
	if c.String() != "gt 100 and lte 200" {
		t.Error(c.String())
	}
}

func TestCorrelationErrors(t *testing.T) {
	const head = "title: t\ncorrelation:\n"
	cases := []struct{ text, want string }{
		{head + "  type: event_count\n  rules: [a]\n  timespan: 5m\n", `c.yml:2:1: event_count correlation has no condition`},
		{head + "  type: event_cnt\n  rules: [a]\n  timespan: 5m\n", `c.yml:3:9: unknown correlation type "event_cnt"`},
		{head + "  type: event_count\n  rules: [a]\n  timespan: 5 m\n  condition: {gte: 1}\n", `c.yml:5:13: timespan: "5 m"`},
		{head + "  type: event_count\n  rules: [a]\n  timespan: 0s\n  condition: {gte: 1}\n", `c.yml:5:13: timespan: "0s": want a positive whole number`},
		{head + "  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: many}\n", `c.yml:6:20: condition gte: "many" is not a number`},
		{head + "  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {above: 3}\n", `c.yml:6:15: unknown condition operator "above"`},
		{head + "  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 3}\n", `c.yml:6:14: value_count condition has no field`},
		{head + "  type: temporal_ordered\n  rules: [a]\n  timespan: 5m\n", `temporal_ordered needs at least two rules`},
		{head + "  type: temporal\n  rules: [a, a]\n  timespan: 5m\n", `c.yml:4:14: rule "a" is listed twice`},
		{head + "  type: temporal\n  rules: [a, b]\n  timespan: 5m\n  group-by: [u, u]\n", `c.yml:6:17: group-by lists "u" twice`},
		{head + "  type: temporal\n  rules: [a, b]\n  timespan: 5m\n  window: 3\n", `c.yml:6:3: unknown key "window" in correlation`},
		{"title: t\ngenerate: yes please\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  timespan: 5m\n", `c.yml:2:11: "generate" must be true or false`},
	}
	for _, c := range cases {
		_, errs := ParseSet("c.yml", []byte(c.text))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.text, errs, c.want)
		}
	}
}

func TestLinkErrors(t *testing.T) {
	text := `title: a
name: a
detection: {sel: {X: 1}, condition: sel}
---
title: unknown ref
correlation: {type: temporal, rules: [a, missing], timespan: 5m}
---
title: c1
name: c1
correlation: {type: event_count, rules: [c2], timespan: 5m, condition: {gte: 2}}
---
title: c2
name: c2
correlation: {type: event_count, rules: [c1], timespan: 5m, condition: {gte: 2}}
---
title: bad alias
correlation:
  type: temporal
  rules: [a, c1]
  timespan: 5m
  aliases:
    ip: {nobody: source.ip}
---
title: fine
correlation: {type: event_count, rules: [a], group-by: [X], timespan: 5m, condition: {gte: 2}}
`
	set, errs := ParseSet("l.yml", []byte(text))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	errs = set.Link()
	all := ""
	for _, e := range errs {
		all += e.Error() + "\n"
	}
	for _, want := range []string{
		`l.yml:6:42: correlation "unknown ref" refers to rule "missing", which is not loaded`,
		`l.yml:10:42: correlation "c1" and "c2" refer to each other (a cycle)`,
		`l.yml:21:3: alias "ip" names rule "nobody"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
	if len(set.Correlations) != 1 || set.Correlations[0].Title != "fine" {
		t.Fatalf("kept %d correlations", len(set.Correlations))
	}
}

// The specification's own test documents parse (read from the shared
// checkout, not copied).
func TestSpecificationCorrelationExamples(t *testing.T) {
	dir := "../../shared/specs/sigma/tests/schema/correlation"
	for _, name := range []string{"event_count.yml", "event_count_ecs.yml", "temporal.yml", "temporal_ordered.yml",
		"value_avg.yml", "value_count.yml", "value_percentile.yml", "value_sum.yml"} {
		set, errs := ParseFileSet(dir + "/" + name)
		if len(errs) == 1 && strings.Contains(errs[0].Error(), "cannot read") {
			t.Skipf("specification tests absent: %v", errs[0])
		}
		if len(errs) > 0 || len(set.Correlations) != 1 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

func FuzzParseCorrelation(f *testing.F) {
	f.Add("title: t\ncorrelation:\n  type: value_count\n  rules: [a, b]\n  group-by: [u]\n  timespan: 5m\n  condition: {field: x, gte: 3}\n  aliases: {u: {a: x}}\n")
	f.Add("title: t\ncorrelation: {type: temporal_ordered, rules: [a, b], timespan: 1d}\n")
	f.Add("title: t\ncorrelation: {type: event_count, rules: a, timespan: 9999999999h, condition: {lt: 1e308}}\n")
	f.Fuzz(func(t *testing.T, text string) {
		set, errs := ParseSet("f.yml", []byte(text))
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), "f.yml") {
				t.Fatalf("error without its file: %v", e)
			}
		}
		set.Link()
		for _, c := range set.Correlations {
			if c.Timespan <= 0 || len(c.Targets) != len(c.Rules) {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}
