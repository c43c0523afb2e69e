package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// cloudFamilies are the file-name prefixes of the built-in pack's cloud
// control plane, identity and network flow rules.
var cloudFamilies = []string{"aws_", "azure_", "entra_", "network_"}

// noTechnique names the alerting rules of those families that carry no
// ATT&CK technique, and why: they report lost visibility, not an
// adversary's act.
var noTechnique = map[string]string{
	"VPC Flow Log Records Skipped": "AWS dropped flow records (capacity or an error); a data-quality warning",
}

// Every alert the cloud and network families raise is complete enough to
// act on (issue 12, item 8): remediation steps, ATT&CK tactics and
// techniques, a level; a detection rule's alert names entities (an account,
// an address or a cloud account) on every event its tests say it must
// match; a correlation's alert names its group-by values.
func TestCloudRulesComplete(t *testing.T) {
	dir := filepath.Join("..", "..", "content", "rules")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	o := &rule.Options{}
	checked := 0
	for _, f := range files {
		base := filepath.Base(f)
		if isTestsFile(f) || !slices.ContainsFunc(cloudFamilies, func(p string) bool { return strings.HasPrefix(base, p) }) {
			continue
		}
		// Rules on site lists load with the lists their tests state.
		fo, err := withTestsPlaceholders(o, testsFile(f))
		if err != nil {
			t.Fatal(err)
		}
		set, errs := fo.ParseFileSet(f)
		errs = append(errs, set.Link()...)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", base, errs)
		}
		// Building blocks: targets of correlations that do not generate.
		blocks := map[string]bool{}
		for _, c := range set.Correlations {
			if c.Generate {
				continue
			}
			for _, tg := range c.Targets {
				blocks[tg.ID()] = true
			}
		}
		complete := func(m *rule.Meta) {
			t.Helper()
			checked++
			if strings.TrimSpace(m.Remediation) == "" {
				t.Errorf("%s: %q has no remediation", base, m.Title)
			}
			if m.Level == "" || m.Level == "informational" {
				t.Errorf("%s: %q alerts with level %q", base, m.Title, m.Level)
			}
			if len(m.Tactics()) == 0 || len(m.Techniques()) == 0 {
				if _, ok := noTechnique[m.Title]; !ok {
					t.Errorf("%s: %q lacks ATT&CK tactics (%v) or techniques (%v)", base, m.Title, m.Tactics(), m.Techniques())
				}
			}
		}
		alerting := map[string]bool{}
		for _, r := range set.Rules {
			if !blocks[r.ID] {
				alerting[r.ID] = true
				complete(&r.Meta)
			}
		}
		for _, c := range set.Correlations {
			if blocks[c.ID] {
				continue
			}
			complete(&c.Meta)
			if len(c.GroupBy) == 0 {
				t.Errorf("%s: correlation %q groups by nothing: its alert names no entity", base, c.Title)
			}
		}
		checkTestEntities(t, f, set, alerting)
	}
	if checked < 50 {
		t.Errorf("only %d alerting rules checked in the cloud and network families; the glob or prefixes are wrong", checked)
	}
}

// checkTestEntities runs the must-match events of a rule file's tests
// through its alerting rules and fails on an alert that would name no
// account, address or cloud account.
func checkTestEntities(t *testing.T, ruleFile string, set *rule.Set, alerting map[string]bool) {
	t.Helper()
	cases, err := parseTests(testsFile(ruleFile))
	if err != nil {
		t.Fatalf("%s: %v", ruleFile, err)
	}
	eng, errs := detect.Compile(set.Rules, detect.Options{Taxonomy: rule.DefaultTaxonomy()})
	if len(errs) > 0 {
		t.Fatalf("%s: %v", ruleFile, errs)
	}
	for _, c := range cases {
		if c.correlation != "" {
			continue
		}
		dec, err := decode.New(c.format)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range c.events {
			if !ev.match {
				continue
			}
			var e event.Event
			e.Fields.Bind(eng.Dict())
			e.Format, e.Raw = c.format, ev.rec
			if err := dec.Decode(ev.rec, &e); err != nil {
				t.Fatalf("%s:%d: %v", testsFile(ruleFile), ev.line, err)
			}
			c.applyLogsource(&e)
			hit := slices.ContainsFunc(eng.Match(&e, nil), func(r *rule.Rule) bool { return alerting[r.ID] })
			if !hit {
				continue
			}
			if !slices.ContainsFunc(alert.Entities(&e), func(en alert.Entity) bool {
				return en.Type == alert.EntityAccount || en.Type == alert.EntityIP || en.Type == alert.EntityCloudResource
			}) {
				t.Errorf("%s:%d: the alert would name no account, address or cloud account (entities %v)", testsFile(ruleFile), ev.line, alert.Entities(&e))
			}
		}
	}
}
