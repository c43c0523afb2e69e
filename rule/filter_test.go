package rule

import (
	"strings"
	"testing"
)

const filterRules = `title: Whoami
id: 11111111-0000-4000-8000-000000000001
name: whoami_run
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
---
title: Net
id: 11111111-0000-4000-8000-000000000002
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\net.exe'
  condition: sel
---
title: Logon
id: 11111111-0000-4000-8000-000000000003
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4624}
  condition: sel
`

func TestFilterApplied(t *testing.T) {
	src := filterRules + `---
title: Admin tools
logsource: {product: windows, category: process_creation}
filter:
  rules:
    - whoami_run
    - 11111111-0000-4000-8000-000000000002
  sel:
    User|startswith: 'adm_'
  condition: sel
`
	rules, errs := Parse("f.yml", []byte(src))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(rules) != 3 {
		t.Fatalf("got %d rules, want 3 (the filter is not a rule)", len(rules))
	}
	for _, r := range rules[:2] {
		if len(r.Filters) != 1 {
			t.Errorf("%s: filters %v", r.Title, r.Filters)
		}
		if got := r.Detection.Condition.String(); !strings.Contains(got, "not filter ") || !strings.HasPrefix(got, "(sel and not filter ") {
			t.Errorf("%s: condition %s", r.Title, got)
		}
		if len(r.Detection.Searches) != 2 {
			t.Errorf("%s: searches %d", r.Title, len(r.Detection.Searches))
		}
	}
	if len(rules[2].Filters) != 0 {
		t.Errorf("unnamed rule filtered")
	}
	// Applying again (a Set's ApplyFilters called twice) changes nothing.
	s, _ := (*Options)(nil).ParseSet("f.yml", []byte(src))
	s.ApplyFilters()
	s.ApplyFilters()
	if len(s.Rules[0].Filters) != 1 {
		t.Errorf("filter applied twice: %v", s.Rules[0].Filters)
	}
}

func TestFilterProblems(t *testing.T) {
	src := filterRules + `---
title: Wrong place
logsource: {product: windows, category: process_creation}
filter:
  rules: [11111111-0000-4000-8000-000000000003, nosuchrule]
  sel: {User: x}
  condition: sel
`
	rules, errs := Parse("f.yml", []byte(src))
	if len(rules) != 3 || len(errs) != 2 {
		t.Fatalf("rules %d errors %v", len(rules), errs)
	}
	if !strings.HasPrefix(errs[0].Error(), "f.yml:28:11: ") || !strings.Contains(errs[0].Error(), "has logsource {product: windows, service: security}") {
		t.Errorf("logsource mismatch: %v", errs[0])
	}
	if !strings.HasPrefix(errs[1].Error(), "f.yml:28:49: ") || !strings.Contains(errs[1].Error(), `"nosuchrule"`) {
		t.Errorf("unknown rule: %v", errs[1])
	}
	if len(rules[2].Filters) != 0 {
		t.Errorf("mismatched filter applied")
	}
	for _, c := range []struct{ src, reason string }{
		{"title: f\nfilter:\n  sel: {A: 1}\n  condition: sel\n", "names no rules"},
		{"title: f\nfilter:\n  rules: [x]\n  sel: {A: 1}\n", "no condition"},
		{"filter:\n  rules: [x]\n  sel: {A: 1}\n  condition: sel\n", "filter has no title"},
		{"title: f\nfilter:\n  rules: [x]\n  sel: {A: 1}\n  condition: sel and nope\n", "unknown search identifier"},
	} {
		_, errs := Parse("g.yml", []byte(c.src))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.reason) {
			t.Errorf("%q: got %v, want %s", c.src, errs, c.reason)
		}
	}
}
