package rule

import (
	"strings"
	"testing"
	"time"
)

func TestDecayedCountParse(t *testing.T) {
	doc := func(body string) string {
		return "title: slow\ncorrelation:\n  type: decayed_count\n  rules: [fail]\n  group-by: [source.ip]\n" + body
	}
	set, errs := ParseSet("d.yml", []byte(doc("  half-life: 6h\n  condition:\n    gte: 8\n")))
	if len(errs) > 0 || len(set.Correlations) != 1 {
		t.Fatalf("errs %v", errs)
	}
	c := set.Correlations[0]
	if c.Type != DecayedCount || c.HalfLife != 6*time.Hour || c.Timespan != 60*time.Hour || *c.Condition.GTE != 8 {
		t.Errorf("parsed %+v", c)
	}
	set, errs = ParseSet("d.yml", []byte(doc("  half-life: 6h\n  timespan: 7d\n  condition:\n    gt: 3\n    field: user.name\n")))
	if len(errs) > 0 || set.Correlations[0].Timespan != 7*24*time.Hour || set.Correlations[0].Condition.Field[0] != "user.name" {
		t.Errorf("errs %v", errs)
	}
	bad := []struct{ doc, want string }{
		{doc("  timespan: 1h\n  condition:\n    gte: 8\n"), `d.yml:2:1: correlation has no "half-life"`},
		{doc("  half-life: 6h\n"), "decayed_count correlation has no condition"},
		{doc("  half-life: 6h\n  condition:\n    lt: 8\n"), "d.yml:8:5: decayed_count condition takes gt or gte only"},
		{doc("  half-life: 6h\n  condition:\n    gte: 8\n    field: [a, b]\n"), "distinct values of one field, not 2"},
		{doc("  half-life: 6h\n  timespan: 1h\n  condition:\n    gte: 8\n"), "d.yml:7:13: timespan 1h0m0s is shorter than the half-life 6h0m0s"},
		{doc("  half-life: 6x\n  condition:\n    gte: 8\n"), "d.yml:6:14: half-life: \"6x\": unknown unit"},
		{"title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1h\n  half-life: 1h\n  condition:\n    gte: 1\n",
			"d.yml:6:14: half-life is only for decayed_count correlations"},
	}
	for _, b := range bad {
		_, errs := ParseSet("d.yml", []byte(b.doc))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), b.want) {
			t.Errorf("%q: errors %v, want %q", b.doc, errs, b.want)
		}
	}
}
