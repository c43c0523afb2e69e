package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v4"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// parseRuleSettings reads the placeholder and taxonomy files and checks the
// rule statuses, so that a mistake stops the start instead of a reload.
func (c *Config) parseRuleSettings() error {
	c.placeholders = map[string][]string{}
	for name, v := range c.Placeholders {
		vals, err := placeholderValues(v)
		if err != nil {
			return fmt.Errorf("setting placeholders: %s: %w", name, err)
		}
		c.placeholders[name] = vals
	}
	if c.RulePlaceholders != "" {
		ph, err := loadPlaceholders(c.RulePlaceholders)
		if err != nil {
			return fmt.Errorf("setting rule-placeholders: %w", err)
		}
		for k, v := range ph {
			c.placeholders[k] = append(c.placeholders[k], v...)
		}
	}
	if c.Taxonomy != "" {
		t, err := rule.LoadTaxonomy(c.Taxonomy)
		if err != nil {
			return fmt.Errorf("setting taxonomy: %w", err)
		}
		c.taxonomy = t
	}
	var status []string
	for _, s := range c.RuleStatus {
		for _, p := range splitList(s) {
			switch p = strings.ToLower(p); p {
			case "stable", "test", "experimental", "deprecated", "unsupported":
				status = append(status, p)
			default:
				return fmt.Errorf("setting rule-status: %q is not one of stable, test, experimental, deprecated, unsupported", p)
			}
		}
	}
	c.RuleStatus = status
	var disabled []string
	for _, s := range c.RulesDisabled {
		disabled = append(disabled, splitList(s)...)
	}
	c.RulesDisabled = disabled
	return nil
}

func placeholderValues(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			switch x.(type) {
			case map[string]any, []any, nil:
				return nil, fmt.Errorf("values must be text, not %v", x)
			}
			out = append(out, fmt.Sprint(x))
		}
		return out, nil
	case []string:
		return v, nil
	case nil:
		return nil, errors.New("no values")
	case map[string]any:
		return nil, errors.New("values must be a list of text, not a map")
	}
	return []string{fmt.Sprint(v)}, nil
}

// withTestsPlaceholders returns o with the placeholders the tests file tf
// states (a top-level `placeholders:` map, name: [values]) for the names o
// does not define: the site lists a rule file's cases are written for;
// --rule-placeholders wins.
func withTestsPlaceholders(o *rule.Options, tf string) (*rule.Options, error) {
	data, err := os.ReadFile(tf)
	if err != nil {
		return o, nil // parseTests reports it
	}
	var doc struct {
		Placeholders map[string]any `yaml:"placeholders"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Placeholders) == 0 {
		return o, nil // parseTests reports a broken file
	}
	out := rule.Options{}
	if o != nil {
		out = *o
	}
	out.Placeholders = maps.Clone(out.Placeholders)
	if out.Placeholders == nil {
		out.Placeholders = map[string][]string{}
	}
	for name, v := range doc.Placeholders {
		if _, ok := out.Placeholders[name]; ok {
			continue
		}
		vals, err := placeholderValues(v)
		if err != nil {
			return nil, fmt.Errorf("%s: placeholders: %s: %w", tf, name, err)
		}
		out.Placeholders[name] = vals
	}
	return &out, nil
}

// loadPlaceholders reads a YAML file of `name: [values]` (or `name: value`).
func loadPlaceholders(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string][]string{}
	for k, v := range raw {
		vals, err := placeholderValues(v)
		if err != nil {
			return nil, fmt.Errorf("%s: placeholder %s: %w", path, k, err)
		}
		out[k] = vals
	}
	return out, nil
}

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check rules, run their tests, and install rule packs",
	}
	validate := &cobra.Command{
		Use:   "validate DIR|FILE...",
		Short: "Load rules and report every problem as file:line:column: reason",
		Long: `Load the rules of each file or directory as vigil serve would (filters
applied, every rule compiled) and print each rule, correlation rule or
filter that does not load as file:line:column: reason, then the counts.
Exits 1 if a path is missing or holds no rules, or (unless --strict=false)
if any rule does not load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: runRulesValidate,
	}
	validate.Flags().String("rule-placeholders", "", "YAML file of placeholder values for the expand modifier")
	validate.Flags().Bool("strict", true, "exit 1 when a rule does not load; --strict=false only reports it")
	test := &cobra.Command{
		Use:   "test DIR|FILE...",
		Short: "Run the test cases of rules (<rule>.tests.yml beside each rule file)",
		Long: `For each rule file X.yml, read X.tests.yml beside it: events that must match
and events that must not match the file's rules (see docs/rules.md, "Rule
tests"). Prints each failure with its place and exits 1 if any fails, if a
path is missing or holds no rules, or (unless --strict=false) if a rule of
a tested file does not load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: runRulesTest,
	}
	test.Flags().String("rule-placeholders", "", "YAML file of placeholder values for the expand modifier")
	test.Flags().Bool("require-tests", false, "fail for rule files without a tests file")
	test.Flags().Bool("strict", true, "exit 1 when a rule of a tested file does not load; --strict=false only reports it")
	tax := &cobra.Command{
		Use:   "taxonomy",
		Short: "Print the default logsource taxonomy (a start for a custom one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(rule.DefaultTaxonomyYAML())
			return err
		},
	}
	cmd.AddCommand(validate, test, tax, newRulesInstallCmd(), newRulesPacksCmd(), newRulesRollbackCmd(), newRulesUninstallCmd())
	return cmd
}

func cliRuleOptions(cmd *cobra.Command) (*rule.Options, error) {
	o := &rule.Options{}
	if p, _ := cmd.Flags().GetString("rule-placeholders"); p != "" {
		ph, err := loadPlaceholders(p)
		if err != nil {
			return nil, fmt.Errorf("--rule-placeholders: %w", err)
		}
		o.Placeholders = ph
	}
	return o, nil
}

func runRulesValidate(cmd *cobra.Command, paths []string) error {
	o, err := cliRuleOptions(cmd)
	if err != nil {
		return err
	}
	strict, _ := cmd.Flags().GetBool("strict")
	// Every status: validate checks rules, it does not select them.
	l := newRuleLoader(&Config{Rules: paths, NoBuiltin: true,
		RuleStatus: []string{"stable", "test", "experimental", "deprecated", "unsupported"}},
		slog.New(slog.DiscardHandler), 0)
	l.opts = o
	l.refresh()
	_, rep := l.build()
	if len(rep.pathErrs) > 0 {
		return prefixErrs("", rep.pathErrs)
	}
	out := cmd.OutOrStdout()
	for _, e := range rep.errs {
		fmt.Fprintln(out, e)
	}
	summary := fmt.Sprintf("%s, %s and %s loaded", count(rep.loaded, "rule", "rules"),
		count(rep.correlations, "correlation rule", "correlation rules"), count(rep.filters, "filter", "filters"))
	if len(rep.errs) > 0 {
		summary += fmt.Sprintf("; %s not loaded", count(len(rep.errs), "rule", "rules"))
	}
	fmt.Fprintln(out, summary)
	if strict && len(rep.errs) > 0 {
		return exitError{code: exitSetup}
	}
	return nil
}

// count says n things in English: "1 rule", "2 rules".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// prefixErrs joins errors, each after prefix (the flag or setting that
// named the thing that failed).
func prefixErrs(prefix string, errs []error) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s%w", prefix, e)
	}
	return errors.Join(out...)
}

// testsFile is the tests file of a rule file: X.yml → X.tests.yml.
func testsFile(ruleFile string) string {
	ext := filepath.Ext(ruleFile)
	return strings.TrimSuffix(ruleFile, ext) + ".tests" + ext
}

func isTestsFile(path string) bool {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	return strings.HasSuffix(base, ".tests")
}

func runRulesTest(cmd *cobra.Command, paths []string) error {
	o, err := cliRuleOptions(cmd)
	if err != nil {
		return err
	}
	require, _ := cmd.Flags().GetBool("require-tests")
	strict, _ := cmd.Flags().GetBool("strict")
	var files []string
	var pathErrs []error
	for _, root := range paths {
		fs, err := pathFiles(root)
		if err != nil {
			pathErrs = append(pathErrs, err)
		}
		files = append(files, fs...)
	}
	if len(pathErrs) > 0 {
		return prefixErrs("", pathErrs)
	}
	out := cmd.OutOrStdout()
	var passed, failed, untested, notLoaded int
	for _, f := range files {
		if isTestsFile(f) {
			continue
		}
		tf := testsFile(f)
		if _, err := os.Stat(tf); err != nil {
			untested++
			if require {
				failed++
				fmt.Fprintf(out, "%s: no tests (%s)\n", f, filepath.Base(tf))
			}
			continue
		}
		r := testRuleFile(f, tf, o)
		passed += r.passed
		failed += len(r.fails)
		notLoaded += len(r.notLoaded)
		for _, e := range r.notLoaded {
			fmt.Fprintln(out, e)
		}
		for _, msg := range r.fails {
			fmt.Fprintln(out, msg)
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed, %s without tests", passed, failed, count(untested, "rule file", "rule files"))
	if notLoaded > 0 {
		summary += fmt.Sprintf("; %s not loaded", count(notLoaded, "rule", "rules"))
	}
	fmt.Fprintln(out, summary)
	if failed > 0 || (strict && notLoaded > 0) {
		return exitError{code: exitSetup}
	}
	return nil
}

// ruleFileTests is what the tests of one rule file gave.
type ruleFileTests struct {
	passed    int
	fails     []string // file:line: reason
	notLoaded []error  // rules of the file that did not load (their tests are not run)
}

// testRuleFile runs the cases of tests file tf against the rules of rule
// file rf that load.
func testRuleFile(rf, tf string, o *rule.Options) ruleFileTests {
	var res ruleFileTests
	o, err := withTestsPlaceholders(o, tf)
	if err != nil {
		res.fails = append(res.fails, err.Error())
		return res
	}
	set, errs := o.ParseFileSet(rf)
	errs = append(errs, set.ApplyFilters()...)
	var plan *detect.Correlator
	opts := detect.Options{Taxonomy: rule.DefaultTaxonomy()}
	if len(set.Correlations) > 0 {
		// Correlations of the file refer to rules of the same file.
		errs = append(errs, set.Link()...)
		var cerrs []error
		plan, cerrs = detect.NewCorrelator(set.Correlations, detect.CorrelatorConfig{})
		errs = append(errs, cerrs...)
		for _, r := range set.Rules {
			opts.ExtraFields = append(opts.ExtraFields, plan.Fields(r.ID)...)
		}
	}
	cases, err := parseTests(tf)
	if err != nil {
		res.notLoaded = errs
		res.fails = append(res.fails, err.Error())
		return res
	}
	for _, c := range cases {
		if len(c.learn) > 0 {
			// The baselines read their fields even when no rule does; and
			// test records may carry what an ASN database would give
			// (source.as.*), which decoders keep as the record's own fields.
			opts.ExtraFields = append(opts.ExtraFields, baseline.SourceFields(baseline.Defaults)...)
			for _, m := range baseline.Defaults {
				opts.ExtraFields = append(opts.ExtraFields, m.Value...)
			}
			break
		}
	}
	eng, cerrs := detect.Compile(set.Rules, opts)
	res.notLoaded = append(errs, cerrs...)
	loaded := eng.Rules()
	fail := func(line int, format string, args ...any) {
		res.fails = append(res.fails, fmt.Sprintf("%s:%d: %s", tf, line, fmt.Sprintf(format, args...)))
	}
	for _, c := range cases {
		if c.correlation != "" {
			res.correlationCase(c, set.Correlations, eng, rf, fail)
			continue
		}
		want := loaded
		if c.rule != "" {
			want = nil
			for _, r := range loaded {
				if r.ID == c.rule || r.Name == c.rule || r.Title == c.rule {
					want = append(want, r)
				}
			}
			if len(want) == 0 {
				fail(c.line, "rule %q is not in %s (or did not load)", c.rule, rf)
				continue
			}
		}
		dec, err := decode.New(c.format)
		if err != nil {
			fail(c.line, "%v", err) // "unknown format "x" (known: …)"
			continue
		}
		for _, ev := range c.events {
			// The baselines learn first: the decoder's buffers, which
			// decoded values may point into, are the event's afterwards.
			var chain *enrich.Chain
			if len(c.learn) > 0 {
				if chain, err = c.learnt(dec, eng.Dict()); err != nil {
					fail(c.line, "%v", err)
					break
				}
			}
			var e event.Event
			e.Fields.Bind(eng.Dict())
			e.Format, e.Raw, e.Source = c.format, ev.rec, testSource
			if err := dec.Decode(ev.rec, &e); err != nil {
				fail(ev.line, "event does not decode: %v", decode.WithFormat(c.format, err))
				continue
			}
			c.applyLogsource(&e)
			if chain != nil {
				chain.Enrich(&e, &enrich.Result{})
			}
			hits := eng.Match(&e, nil)
			for _, r := range want {
				got := slices.Contains(hits, r)
				switch {
				case ev.match && !got:
					fail(ev.line, "rule %q did not match an event it must match", r.Title)
				case !ev.match && got:
					fail(ev.line, "rule %q matched an event it must not match", r.Title)
				default:
					res.passed++
				}
			}
		}
	}
	return res
}

type testCase struct {
	line      int
	format    string
	logsource event.Logsource
	rule      string
	events    []testEvent
	// learn are events the behavioural baselines learn (with no learning
	// period, and the embedded GeoIP country database before them) before
	// each of the case's events is enriched and matched.
	learn []testEvent
	// correlation names (id, name or title) a correlation of the file that the
	// case's sequences test: each `fires` sequence must make it alert,
	// each `quiet` one must not.
	correlation string
	sequences   []testSequence
}

// testSequence is events fed in order, on their own time stamps, through
// the file's rules and a fresh correlator.
type testSequence struct {
	line   int
	events []testEvent
	fires  bool
}

type testEvent struct {
	line  int
	rec   []byte
	match bool
}

// parseTests reads a tests file: a map with `tests`, a list of cases, each
// with format, optional logsource and rule, and lists match and nomatch of
// events (maps, sent as JSON, or text, sent as it is).
func parseTests(path string) ([]testCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fail := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s", path, n.Line, n.Column, fmt.Sprintf(format, args...))
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: YAML: %w", path, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	tests := mapValue(root, "tests")
	if tests == nil || tests.Kind != yaml.SequenceNode {
		return nil, fail(root, "a tests file holds `tests:`, a list of cases")
	}
	var cases []testCase
	for _, item := range tests.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, "a test case is a map with format, match and nomatch")
		}
		c := testCase{line: item.Line}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			switch k.Value {
			case "format":
				c.format = v.Value
			case "rule":
				c.rule = v.Value
			case "logsource":
				var ls map[string]string
				if err := v.Decode(&ls); err != nil {
					return nil, fail(v, "logsource: %v", err)
				}
				c.logsource = event.Logsource{Product: ls["product"], Category: ls["category"], Service: ls["service"]}
			case "learn":
				if v.Kind != yaml.SequenceNode {
					return nil, fail(v, "learn must be a list of events")
				}
				for _, ev := range v.Content {
					rec, err := eventRecord(ev)
					if err != nil {
						return nil, fail(ev, "%v", err)
					}
					c.learn = append(c.learn, testEvent{line: ev.Line, rec: rec})
				}
			case "match", "nomatch":
				if v.Kind != yaml.SequenceNode {
					return nil, fail(v, "%s must be a list of events", k.Value)
				}
				for _, ev := range v.Content {
					rec, err := eventRecord(ev)
					if err != nil {
						return nil, fail(ev, "%v", err)
					}
					c.events = append(c.events, testEvent{line: ev.Line, rec: rec, match: k.Value == "match"})
				}
			case "correlation":
				c.correlation = v.Value
			case "fires", "quiet":
				if v.Kind != yaml.SequenceNode {
					return nil, fail(v, "%s must be a list of sequences (each a list of events)", k.Value)
				}
				for _, sq := range v.Content {
					if sq.Kind != yaml.SequenceNode || len(sq.Content) == 0 {
						return nil, fail(sq, "a sequence is a list of events")
					}
					seq := testSequence{line: sq.Line, fires: k.Value == "fires"}
					for _, ev := range sq.Content {
						rec, err := eventRecord(ev)
						if err != nil {
							return nil, fail(ev, "%v", err)
						}
						seq.events = append(seq.events, testEvent{line: ev.Line, rec: rec})
					}
					c.sequences = append(c.sequences, seq)
				}
			case "name", "description":
			default:
				return nil, fail(k, "unknown key %q in a test case (known: name, format, logsource, rule, learn, match, nomatch, correlation, fires, quiet)", k.Value)
			}
		}
		if c.format == "" {
			return nil, fail(item, "test case has no format (one of %s)", strings.Join(decode.Formats(), ", "))
		}
		if c.correlation != "" {
			if len(c.events) > 0 || c.rule != "" || len(c.learn) > 0 {
				return nil, fail(item, "a correlation test case has fires and quiet sequences, not learn, match, nomatch or rule")
			}
			if len(c.sequences) == 0 {
				return nil, fail(item, "test case has no sequences under fires or quiet")
			}
		} else if len(c.sequences) > 0 {
			return nil, fail(item, "fires and quiet need correlation: the correlation they test")
		} else if len(c.events) == 0 {
			return nil, fail(item, "test case has no events under match or nomatch")
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func eventRecord(n *yaml.Node) ([]byte, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []byte(n.Value), nil
	case yaml.MappingNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	return nil, errors.New("an event is a map (sent as JSON) or a text record")
}

// correlationCase runs the sequences of a correlation test case: each
// through the engine and a fresh correlator (flushed at its end), checking
// whether the named correlation alerted.
func (res *ruleFileTests) correlationCase(c testCase, corrs []*rule.Correlation, eng *detect.Engine, rf string, fail func(int, string, ...any)) {
	var target *rule.Correlation
	for _, k := range corrs {
		if k.ID == c.correlation || k.Name == c.correlation || k.Title == c.correlation {
			target = k
		}
	}
	if target == nil {
		fail(c.line, "correlation %q is not in %s (or did not load)", c.correlation, rf)
		return
	}
	dec, err := decode.New(c.format)
	if err != nil {
		fail(c.line, "%v", err)
		return
	}
	for _, sq := range c.sequences {
		k, errs := detect.NewCorrelator(corrs, detect.CorrelatorConfig{})
		if len(errs) > 0 {
			fail(sq.line, "correlations do not compile: %v", errors.Join(errs...))
			continue
		}
		var hits []detect.CorrelationHit
		ok := true
		for _, ev := range sq.events {
			var e event.Event
			e.Fields.Bind(eng.Dict())
			e.Format, e.Raw = c.format, ev.rec
			if err := dec.Decode(ev.rec, &e); err != nil {
				fail(ev.line, "event does not decode: %v", decode.WithFormat(c.format, err))
				ok = false
				break
			}
			c.applyLogsource(&e)
			if e.Time.IsZero() {
				fail(ev.line, "event has no time stamp: a correlation needs one")
				ok = false
				break
			}
			for _, r := range eng.Match(&e, nil) {
				if !k.Feeds(r.ID) {
					continue
				}
				names := k.Fields(r.ID)
				m := detect.Match{Rule: r.ID, Workspace: "test", Time: e.Time, Values: make([]string, len(names)),
					Evidence: detect.Evidence{Time: e.Time, Line: ev.line}}
				for i, n := range names {
					if v, ok := e.Get(n); ok {
						m.Values[i] = strings.Clone(v)
					}
				}
				hits = k.Observe(m, hits)
			}
		}
		if !ok {
			continue
		}
		hits = k.Flush(hits)
		got := slices.ContainsFunc(hits, func(h detect.CorrelationHit) bool { return h.Correlation == target })
		switch {
		case sq.fires && !got:
			fail(sq.line, "correlation %q did not alert on a sequence that must make it alert", target.Title)
		case !sq.fires && got:
			fail(sq.line, "correlation %q alerted on a sequence that must not make it alert", target.Title)
		default:
			res.passed++
		}
	}
}

// applyLogsource sets the parts of the case's logsource on the event.
func (c *testCase) applyLogsource(e *event.Event) {
	if c.logsource.Product != "" {
		e.Logsource.Product = c.logsource.Product
	}
	if c.logsource.Category != "" {
		e.Logsource.Category = c.logsource.Category
	}
	if c.logsource.Service != "" {
		e.Logsource.Service = c.logsource.Service
	}
}

// learnt returns a chain of the embedded GeoIP country database and fresh
// behavioural baselines, without a learning period, that have learnt the
// case's learn events: each event of the case is judged against them
// alone, not against the case's other events.
func (c *testCase) learnt(dec decode.Decoder, dict *event.Dict) (*enrich.Chain, error) {
	geo, err := testGeoIP()
	if err != nil {
		return nil, err
	}
	b, err := baseline.New(baseline.Config{Workspace: "test", Learning: -1})
	if err != nil {
		return nil, err
	}
	chain := enrich.NewChain(geo, b)
	for _, l := range c.learn {
		var e event.Event
		e.Fields.Bind(dict)
		e.Format, e.Raw, e.Source = c.format, l.rec, testSource
		if err := dec.Decode(l.rec, &e); err != nil {
			return nil, fmt.Errorf("line %d: event to learn does not decode: %w", l.line, decode.WithFormat(c.format, err))
		}
		c.applyLogsource(&e)
		chain.Enrich(&e, &enrich.Result{})
	}
	return chain, nil
}

// testSource is the source name of test events: the server a baseline
// keeps its values for when the records name none.
const testSource = "rules-test"

// testGeoIP is the embedded country database, opened once for every test.
var testGeoIP = sync.OnceValues(func() (*geoip.Enricher, error) { return openGeoIP([]string{geoIPEmbedded}) })
