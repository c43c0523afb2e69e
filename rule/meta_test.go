package rule

import (
	"slices"
	"strings"
	"testing"
)

// TestMetadata: rules, correlation rules and filters read the metadata
// keys they share the same way, a bad level is an error with its line, and
// a key a document type does not have is ignored like any unknown key.
func TestMetadata(t *testing.T) {
	src := `title: r
id: 11111111-0000-4000-8000-000000000001
name: r_name
description: d
status: test
author: a
date: 2024-01-02
modified: 2024-02-03
level: high
tags: [attack.execution, attack.t1059]
references: [https://example.org]
falsepositives: [admins]
logsource: {product: windows}
detection:
  sel: {Image: x}
  condition: sel
---
title: c
id: 11111111-0000-4000-8000-000000000002
status: stable
level: critical
tags: [attack.persistence]
correlation:
  type: event_count
  rules: [r_name]
  group-by: [Image]
  timespan: 5m
  condition: {gte: 2}
---
title: f
id: 11111111-0000-4000-8000-000000000003
description: fd
level: not-a-level
logsource: {product: windows}
filter:
  rules: [r_name]
  sel: {Image: y}
  condition: not sel
`
	set, errs := ParseSet("m.yml", []byte(src))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	r, c, f := set.Rules[0], set.Correlations[0], set.Filters[0]
	if r.Name != "r_name" || r.Description != "d" || r.Status != "test" || r.Author != "a" || r.Date != "2024-01-02" ||
		r.Modified != "2024-02-03" || r.Level != "high" || !slices.Equal(r.Tags, []string{"attack.execution", "attack.t1059"}) ||
		!slices.Equal(r.References, []string{"https://example.org"}) || !slices.Equal(r.FalsePositives, []string{"admins"}) {
		t.Errorf("rule metadata %+v", r)
	}
	if c.Title != "c" || c.Status != "stable" || c.Level != "critical" || !slices.Equal(c.Tags, []string{"attack.persistence"}) {
		t.Errorf("correlation metadata %+v", c)
	}
	if f.Title != "f" || f.Description != "fd" {
		t.Errorf("filter metadata %+v", f)
	}
	// One metadata type: what reads a rule's metadata reads a
	// correlation's, ATT&CK tags included.
	for _, m := range []*Meta{&r.Meta, &c.Meta} {
		if m.ID == "" || m.Title == "" || m.Level == "" || len(m.Tactics()) != 1 {
			t.Errorf("metadata %+v: tactics %v", m, m.Tactics())
		}
	}
	if got := c.Meta.Tactics(); len(got) != 1 || got[0] != "persistence" {
		t.Errorf("correlation tactics %v, want [persistence]", got)
	}
	if got := r.Meta.Techniques(); len(got) != 1 || got[0] != "T1059" {
		t.Errorf("rule techniques %v, want [T1059]", got)
	}
	for _, doc := range []string{
		"title: r\nlevel: severe\nlogsource: {product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n",
		"title: c\nlevel: severe\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: 5m\n  condition: {gte: 2}\n",
	} {
		_, errs := ParseSet("bad.yml", []byte(doc))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), `bad.yml:2:`) || !strings.Contains(errs[0].Error(), `level "severe"`) {
			t.Errorf("%q: errors %v, want the bad level at line 2", doc, errs)
		}
	}
}

// TestConfidenceOutcome: the vigil extensions confidence and outcome are
// read on rules and correlations, and a value outside their lists is an
// error at its line.
func TestConfidenceOutcome(t *testing.T) {
	src := "title: r\nname: r\nconfidence: high\noutcome: success\nlogsource: {product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n" +
		"---\ntitle: c\nconfidence: low\noutcome: attempt\ncorrelation:\n  type: event_count\n  rules: [r]\n  timespan: 5m\n  condition: {gte: 2}\n"
	set, errs := ParseSet("co.yml", []byte(src))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if r := set.Rules[0]; r.Confidence != ConfidenceHigh || r.Outcome != OutcomeSuccess {
		t.Errorf("rule confidence %q outcome %q", r.Confidence, r.Outcome)
	}
	if c := set.Correlations[0]; c.Confidence != ConfidenceLow || c.Outcome != OutcomeAttempt {
		t.Errorf("correlation confidence %q outcome %q", c.Confidence, c.Outcome)
	}
	for doc, want := range map[string]string{
		"title: r\nconfidence: certain\nlogsource: {product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n": `confidence "certain"`,
		"title: r\noutcome: failed\nlogsource: {product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n":     `outcome "failed"`,
	} {
		_, errs := ParseSet("bad.yml", []byte(doc))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "bad.yml:2:") || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%q: errors %v, want %s at line 2", doc, errs, want)
		}
	}
}
