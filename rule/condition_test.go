package rule

import (
	"errors"
	"strings"
	"testing"
)

var condNames = []string{"selection", "selection_img", "selection_cli", "filter_main_a", "filter_main_b", "filter_optional", "keywords", "_hidden"}

func TestParseCondition(t *testing.T) {
	cases := []struct{ in, want string }{
		{"selection", "selection"},
		{"selection and not filter_optional", "(selection and not filter_optional)"},
		// not binds tighter than and, and tighter than or.
		{"selection or keywords and not filter_optional", "(selection or (keywords and not filter_optional))"},
		{"not selection or keywords", "(not selection or keywords)"},
		{"(selection or keywords) and not filter_optional", "((selection or keywords) and not filter_optional)"},
		{"not not selection", "not not selection"},
		{"selection AND keywords OR _hidden", "((selection and keywords) or _hidden)"},
		{"1 of selection_*", "1 of selection_*"},
		{"all of selection*", "all of selection*"},
		{"2 of filter_*", "2 of filter_*"},
		{"1 of them", "1 of them"},
		{"all of them", "all of them"},
		{"selection and not 1 of filter_main_*", "(selection and not 1 of filter_main_*)"},
		{"all of selection_* or 1 of filter_*", "(all of selection_* or 1 of filter_*)"},
		{"  selection\n  and\n  (keywords)  ", "(selection and keywords)"},
	}
	for _, c := range cases {
		e, err := ParseCondition(c.in, condNames)
		if err != nil {
			t.Errorf("ParseCondition(%q): %v", c.in, err)
			continue
		}
		if got := e.String(); got != c.want {
			t.Errorf("ParseCondition(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestConditionOfResolves(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"1 of selection_*", []string{"selection_img", "selection_cli"}},
		{"all of selection*", []string{"selection", "selection_img", "selection_cli"}},
		{"1 of filter_main_*", []string{"filter_main_a", "filter_main_b"}},
		// them leaves out identifiers starting with an underscore...
		{"1 of them", []string{"selection", "selection_img", "selection_cli", "filter_main_a", "filter_main_b", "filter_optional", "keywords"}},
		// ...but a pattern may name them.
		{"all of _*", []string{"_hidden"}},
		{"1 of keywords", []string{"keywords"}},
	}
	for _, c := range cases {
		e, err := ParseCondition(c.in, condNames)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		of, ok := e.(*Of)
		if !ok {
			t.Fatalf("%q parsed to %T", c.in, e)
		}
		if strings.Join(of.Names, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q names %v, want %v", c.in, of.Names, c.want)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		reason string
	}{
		{"", 0, "condition ends"},
		{"selection and", 13, "condition ends"},
		{"selection and nope", 14, `unknown search identifier "nope"`},
		{"selection or (keywords", 22, "missing ')'"},
		{"selection)", 9, `unexpected ")"`},
		{"selection keywords", 10, `unexpected "keywords"`},
		{"1 of nomatch_*", 5, "matches no search identifier"},
		{"selection_*", 0, "needs '1 of' or 'all of'"},
		{"0 of selection_*", 0, "count of at least 1"},
		{"x of selection_*", 0, "count of at least 1"},
		{"5 of selection_*", 0, "only 2 search identifiers match"},
		{"all selection", 0, "'all' must be followed by 'of'"},
		{"1 of", 4, "'of' must be followed by"},
		{"selection | count() > 5", 10, "aggregations"},
		{"selection and or keywords", 14, `unexpected "or"`},
		{"sel$ction", 0, "not allowed in search identifier"},
		{strings.Repeat("(", 300) + "selection" + strings.Repeat(")", 300), 0, "nested deeper"},
	}
	for _, c := range cases {
		_, err := ParseCondition(c.in, condNames)
		var ce *ConditionError
		if !errors.As(err, &ce) {
			t.Errorf("ParseCondition(%q): error %v, want a *ConditionError", c.in, err)
			continue
		}
		if !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("ParseCondition(%q): reason %q, want it to mention %q", c.in, ce.Reason, c.reason)
		}
		if c.offset > 0 && ce.Offset != c.offset || c.offset == 0 && !strings.Contains(c.reason, "nested") && ce.Offset != 0 {
			t.Errorf("ParseCondition(%q): offset %d, want %d", c.in, ce.Offset, c.offset)
		}
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"selection", "selection and not 1 of filter_main_*", "1 of them", "all of them",
		"(selection or keywords) and not (filter_optional)", "2 of selection*", "not not _hidden",
		"selection | count() by x > 3", "((((", "all of", "1 of sel*ion",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseCondition(s, condNames)
		if err != nil {
			var ce *ConditionError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > len(s) {
				t.Fatalf("%q: bad error %#v", s, err)
			}
			return
		}
		// What parsed prints to a condition that parses to the same tree.
		again, err := ParseCondition(e.String(), condNames)
		if err != nil {
			t.Fatalf("%q printed as %q, which fails: %v", s, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("%q: %q reparses as %q", s, e.String(), again.String())
		}
	})
}
