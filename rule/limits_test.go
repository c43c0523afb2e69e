package rule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manyValues is a rule whose selection lists n values.
func manyValues(n int) string {
	var b strings.Builder
	b.WriteString("title: Many values\nlogsource:\n    product: windows\ndetection:\n    sel:\n        CommandLine|contains:\n")
	for i := range n {
		fmt.Fprintf(&b, "            - 'v%d'\n", i)
	}
	b.WriteString("    condition: sel\n")
	return b.String()
}

// TestRuleValueLimit: a rule with more values than MaxRuleValues is
// refused at the field that crosses the limit, with the limit named; one
// at the limit loads.
func TestRuleValueLimit(t *testing.T) {
	o := &Options{MaxRuleValues: 10}
	s, errs := o.ParseSet("big.yml", []byte(manyValues(10)))
	if len(errs) != 0 || len(s.Rules) != 1 {
		t.Fatalf("10 values at a limit of 10: %v", errs)
	}
	_, errs = o.ParseSet("big.yml", []byte(manyValues(11)))
	want := "big.yml:6:9: the rule has more than 10 values (the limit; rule-max-values raises it)"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("errors %v, want %q", errs, want)
	}
	// Placeholders count as the values they expand to.
	o.Placeholders = map[string][]string{"many": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}
	_, errs = o.ParseSet("ph.yml", []byte("title: Expanded\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%many%'\n    condition: sel\n"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "ph.yml:6:9: the rule has more than 10 values") {
		t.Errorf("expanded placeholders: %v", errs)
	}
	// Without options the default applies.
	_, errs = ParseSet("huge.yml", []byte(manyValues(DefaultMaxRuleValues+1)))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), fmt.Sprintf("more than %d values", DefaultMaxRuleValues)) {
		t.Errorf("default limit: %v", errs)
	}
}

// TestRuleFileSizeLimit: a rule file larger than MaxFileBytes is refused
// before it is read, naming the limit; the other files still load.
func TestRuleFileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big := manyValues(50)
	if err := os.WriteFile(filepath.Join(dir, "a-big.yml"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b-small.yml"), []byte(manyValues(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &Options{MaxFileBytes: 1000}
	s, errs := o.LoadSet(dir)
	want := fmt.Sprintf("%s: rule file is %d bytes, more than the limit of 1000 (rule-max-file raises it)", filepath.Join(dir, "a-big.yml"), len(big))
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("errors %v, want %q", errs, want)
	}
	if len(s.Rules) != 1 {
		t.Errorf("%d rules loaded, want the small file's 1", len(s.Rules))
	}
	if _, errs := o.ParseSet("text.yml", []byte(big)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "more than the limit of 1000") {
		t.Errorf("text over the limit: %v", errs)
	}
}

// TestRuleValueLimitThroughAliases: values reached through YAML aliases
// count as often as they are used, and a rule far over the limit is
// refused where it crosses it.
func TestRuleValueLimitThroughAliases(t *testing.T) {
	var vals []string
	for i := range 30 {
		vals = append(vals, fmt.Sprintf("v%d", i))
	}
	text := "title: Aliased\nlogsource:\n    product: windows\ndetection:\n    sel:\n" +
		"        - User: &l [" + strings.Join(vals, ", ") + "]\n" +
		"        - User: *l\n" +
		"    condition: sel\n"
	o := &Options{MaxRuleValues: 50}
	_, errs := o.ParseSet("alias.yml", []byte(text))
	want := "alias.yml:7:11: the rule has more than 50 values (the limit; rule-max-values raises it)"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("errors %v, want %q", errs, want)
	}
	if s, errs := (&Options{MaxRuleValues: 60}).ParseSet("alias.yml", []byte(text)); len(errs) != 0 || len(s.Rules) != 1 {
		t.Errorf("60 values at a limit of 60: %v", errs)
	}
}
