package rule

import (
	"strings"
	"testing"
	"time"
)

func TestParseAggregation(t *testing.T) {
	const base = "title: t\nlogsource: {product: linux}\ndetection:\n  s: {x: y}\n  condition: s\n"
	rules, errs := Parse("a.yml", []byte(base+"aggregation:\n  window: 90m\n  by: [source.ip, user.name]\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a := rules[0].Aggregation
	if a == nil || a.Window != 90*time.Minute || strings.Join(a.By, ",") != "source.ip,user.name" {
		t.Fatalf("aggregation %+v", a)
	}
	if rules, _ := Parse("a.yml", []byte(base)); rules[0].Aggregation != nil {
		t.Error("a rule without aggregation has one")
	}
	for _, c := range []struct{ yml, want string }{
		{"aggregation: {window: 1 hour}\n", "aggregation window"},
		{"aggregation: {window: 0h}\n", "aggregation window"},
		{"aggregation: {by: []}\n", "want 1 to 8"},
		{"aggregation: {}\n", "needs a window"},
		{"aggregation: {window: 1h, per: x}\n", `no key "per"`},
		{"aggregation: 1h\n", "must be a map"},
	} {
		_, errs := Parse("a.yml", []byte(base+c.yml))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("%q: %v, want an error saying %q", c.yml, errs, c.want)
		}
	}
}
