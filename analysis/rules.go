package analysis

import (
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/rule"
)

// Rules is a compiled rule set with the alert metadata of each rule and
// correlation worked out once, shared read-only by all workers.
type Rules struct {
	Engine *detect.Engine
	meta   map[*rule.Rule]*ruleMeta
	corr   *correlations // nil without correlation rules
}

// ruleMeta is what every alert of one rule or correlation carries.
type ruleMeta struct {
	ref        alert.RuleRef
	severity   alert.Severity
	tactics    []string
	techniques []string
	// window and by are the rule's aggregation (rule.Aggregation).
	window time.Duration
	by     []string
}

// newRuleMeta turns a rule's or a correlation's metadata into what its
// alerts carry.
func newRuleMeta(m *rule.Meta) *ruleMeta {
	sev, err := alert.ParseSeverity(strings.ToLower(m.Level))
	if err != nil {
		sev = alert.Medium // Sigma leaves level optional; medium is the neutral middle
	}
	return &ruleMeta{
		ref: alert.RuleRef{
			ID: m.ID, Title: m.Title, Description: m.Description, Status: m.Status,
			Author: m.Author, References: m.References, FalsePositives: m.FalsePositives,
			Remediation: m.Remediation, Confidence: m.Confidence, Outcome: m.Outcome,
		},
		severity:   sev,
		tactics:    m.Tactics(),
		techniques: m.Techniques(),
	}
}

// correlations is the correlation part of a rule set: a correlator compiled
// once, used read-only by the workers (which rules feed correlations, which
// fields their matches carry, which rules alert on their own), and the
// recipe for the stateful correlator that one goroutine runs.
type correlations struct {
	plan  *detect.Correlator
	list  []*rule.Correlation
	cfg   detect.CorrelatorConfig
	metas map[*rule.Correlation]*ruleMeta
}

// NewRules prepares an engine's rules for alerting.
func NewRules(e *detect.Engine) *Rules {
	rs := &Rules{Engine: e, meta: make(map[*rule.Rule]*ruleMeta, e.Len())}
	for _, r := range e.Rules() {
		m := newRuleMeta(&r.Meta)
		if a := r.Aggregation; a != nil {
			m.window, m.by = a.Window, a.By
		}
		rs.meta[r] = m
	}
	return rs
}

// CompileSet links and compiles a rule set with its correlations. A rule
// or correlation that fails is reported (file, line, column) and left
// out; the others run.
func CompileSet(set *rule.Set, opts detect.Options, cfg detect.CorrelatorConfig) (*Rules, []error) {
	errs := set.Link()
	plan, cerrs := detect.NewCorrelator(set.Correlations, cfg)
	errs = append(errs, cerrs...)
	// Decoders fill only the fields the engine names; correlations read
	// their group-by and value fields from their rules' events too.
	opts.ExtraFields = append(slices.Clip(opts.ExtraFields), correlationFields(plan, set.Rules)...)
	// and the fields rules aggregate their alerts by.
	for _, r := range set.Rules {
		if r.Aggregation != nil {
			for _, n := range r.Aggregation.By {
				if !slices.Contains(opts.ExtraFields, n) {
					opts.ExtraFields = append(opts.ExtraFields, n)
				}
			}
		}
	}
	eng, cerrs := detect.Compile(set.Rules, opts)
	errs = append(errs, cerrs...)
	rs := NewRules(eng)
	if plan.Len() > 0 {
		c := &correlations{plan: plan, list: set.Correlations, cfg: cfg, metas: map[*rule.Correlation]*ruleMeta{}}
		for _, r := range set.Correlations {
			c.metas[r] = newRuleMeta(&r.Meta)
		}
		rs.corr = c
	}
	return rs, errs
}

// correlationFields lists the fields the matches of rules carry to the
// correlator, each once.
func correlationFields(plan *detect.Correlator, rules []*rule.Rule) []string {
	var names []string
	for _, r := range rules {
		for _, n := range plan.Fields(r.ID) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// Correlations returns the number of correlation rules.
func (rs *Rules) Correlations() int {
	if rs.corr == nil {
		return 0
	}
	return rs.corr.plan.Len()
}

// NewCorrelator returns an empty stateful correlator for the rule set, or
// nil when it has no correlations.
func (rs *Rules) NewCorrelator() *detect.Correlator {
	if rs.corr == nil {
		return nil
	}
	k, _ := detect.NewCorrelator(rs.corr.list, rs.corr.cfg) // errors were reported by CompileSet
	return k
}
