package pipeline

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
	"github.com/vigil-sec/vigil/store"
)

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

// keeperProduct is the logsource of the hidden rule that makes decoders
// keep the fields correlations group by: no event has it, so the rule
// never matches.
const keeperProduct = "\x00vigil-correlation-fields"

// CompileSet links and compiles a rule set with its correlations. Rules,
// correlations that fail are reported (file, line, column) and left out.
func CompileSet(set *rule.Set, opts detect.Options, cfg detect.CorrelatorConfig) (*Rules, []error) {
	errs := set.Link()
	plan, cerrs := detect.NewCorrelator(set.Correlations, cfg)
	errs = append(errs, cerrs...)
	rules := set.Rules
	if plan.Len() > 0 {
		// Decoders keep only the fields that rules read; correlations read
		// their group-by and value fields from the matching events too.
		var names []string
		for _, r := range set.Rules {
			for _, n := range plan.Fields(r.ID) {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
		if len(names) > 0 {
			keep := &rule.Search{Name: "keep"}
			for _, n := range names {
				keep.Groups = append(keep.Groups, []*rule.Matcher{{Field: n, Op: rule.OpExists, Values: []rule.Value{{Raw: "true", Exists: true}}}})
			}
			rules = append(slices.Clip(rules), &rule.Rule{
				ID: "vigil-correlation-fields", Title: "fields read by correlations", File: "(correlations)",
				Logsource: event.Logsource{Product: keeperProduct},
				Detection: &rule.Detection{Searches: []*rule.Search{keep}, Condition: &rule.Ref{Name: "keep"}},
			})
		}
	}
	eng, cerrs := detect.Compile(rules, opts)
	errs = append(errs, cerrs...)
	rs := NewRules(eng)
	if plan.Len() > 0 {
		c := &correlations{plan: plan, list: set.Correlations, cfg: cfg, metas: map[*rule.Correlation]*ruleMeta{}}
		for _, r := range set.Correlations {
			sev, err := alert.ParseSeverity(strings.ToLower(r.Level))
			if err != nil {
				sev = alert.Medium
			}
			tags := &rule.Rule{Tags: r.Tags}
			c.metas[r] = &ruleMeta{
				ref: alert.RuleRef{ID: r.ID, Title: r.Title, Description: r.Description, Status: r.Status,
					Author: r.Author, References: r.References, FalsePositives: r.FalsePositives},
				severity: sev, tactics: tags.Tactics(), techniques: tags.Techniques(),
			}
		}
		rs.corr = c
	}
	return rs, errs
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

// correlate records the match of r on ev for the correlator when some
// correlation refers to r, and reports whether r's own signal is
// suppressed (referenced without generate: true).
func (p *Processor) correlate(r *rule.Rule, ev *event.Event) bool {
	c := p.rules.corr
	if c == nil || !c.plan.Feeds(r.ID) {
		return false
	}
	names := c.plan.Fields(r.ID)
	m := detect.Match{Rule: r.ID, Workspace: ev.Workspace, Time: ev.Time, Values: make([]string, len(names)),
		Evidence: detect.Evidence{Time: ev.Time}}
	for i, n := range names {
		if v, ok := ev.Get(n); ok {
			// A copy of its own: the correlator may keep it long after
			// the batch (an arena string would pin the batch's chunk).
			m.Values[i] = strings.Clone(v)
		}
	}
	if p.Offline != "" {
		m.Evidence.File, m.Evidence.Line = p.Offline, ev.Line
	} else {
		m.Evidence.EventID = ev.ID.String()
	}
	p.matches = append(p.matches, m)
	return c.plan.Suppressed(r.ID)
}

// CorrelationSignals turns correlation hits into signals: one a
// contributing event (the evidence, capped), all with the correlation's
// dedup key, so that the store or `vigil scan` gather them into one alert
// of type "correlation" whose evidence lists those events.
func (rs *Rules) CorrelationSignals(hits []detect.CorrelationHit, dst []alert.Signal) []alert.Signal {
	if rs.corr == nil {
		return dst
	}
	for _, h := range hits {
		m := rs.corr.metas[h.Correlation]
		if m == nil {
			continue
		}
		ents := make([]alert.Entity, 0, len(h.Group))
		for _, g := range h.Group {
			ents = append(ents, alert.Entity{Type: entityType(g.Field), Value: g.Value})
		}
		s := alert.Signal{
			Workspace: h.Workspace, Type: "correlation", Rule: m.ref, Severity: m.severity,
			Tactics: m.tactics, Techniques: m.techniques, Entities: ents,
			DedupKey: alert.DedupKey(h.Workspace, m.ref.ID, ents),
		}
		if len(h.Evidence) == 0 {
			s.Evidence = alert.Evidence{Time: h.Last}
			dst = append(dst, s)
			continue
		}
		for _, e := range h.Evidence {
			s.Evidence = alert.Evidence{EventID: e.EventID, File: e.File, Line: e.Line, Time: e.Time}
			dst = append(dst, s)
		}
	}
	return dst
}

// entityType guesses what a group-by field holds from its name; a field it
// cannot place keeps its own name as the type.
func entityType(field string) string {
	f := strings.ToLower(field)
	switch {
	case strings.Contains(f, "user") || strings.Contains(f, "account") || f == "subjectusername":
		return alert.EntityAccount
	case strings.HasSuffix(f, "ip") || strings.HasSuffix(f, ".ip") || strings.Contains(f, "ipaddress") || strings.Contains(f, "address"):
		return alert.EntityIP
	case strings.Contains(f, "host") || strings.Contains(f, "computer") || strings.Contains(f, "workstation"):
		return alert.EntityHost
	case strings.Contains(f, "image") || strings.Contains(f, "process"):
		return alert.EntityProcess
	case strings.Contains(f, "url") || strings.Contains(f, "uri"):
		return alert.EntityURL
	case strings.Contains(f, "file") || strings.Contains(f, "path"):
		return alert.EntityFile
	}
	return field
}

// correlationStage is the stage's correlator: it sees the matches of
// committed, new batches only (a replayed batch was counted before), from
// the committer goroutine alone. Its state is in memory: a restart begins
// with empty windows.
type correlationStage struct {
	rules *Rules
	k     *detect.Correlator
	last  detect.CorrelatorStats
}

// observe feeds the matches of newly committed batches, in event time
// order, and returns the batches of signals to commit, one a workspace.
func (s *Stage) correlateCommitted(group []processed, isNew []bool) []*store.Batch {
	var rs *Rules
	var ms []detect.Match
	for i, p := range group {
		if isNew[i] {
			ms = append(ms, p.res.Matches...)
			if p.rules != nil {
				rs = p.rules
			}
		}
	}
	if rs == nil || rs.corr == nil {
		return nil
	}
	// Stateful detections belong to the standard tier: a free workspace's
	// matches never reach the correlator.
	ms = slices.DeleteFunc(ms, func(m detect.Match) bool { return !s.advanced(m.Workspace) })
	cs := &s.corr
	if cs.rules != rs { // rules reloaded: correlation state starts anew
		cs.rules, cs.k, cs.last = rs, rs.NewCorrelator(), detect.CorrelatorStats{}
	}
	slices.SortStableFunc(ms, func(a, b detect.Match) int { return a.Time.Compare(b.Time) })
	var hits []detect.CorrelationHit
	for _, m := range ms {
		hits = cs.k.Observe(m, hits)
	}
	s.m.corr.update(cs.k.Stats(), &cs.last)
	if len(hits) == 0 {
		return nil
	}
	byWS := map[string]*store.Batch{}
	var out []*store.Batch
	for _, sig := range rs.CorrelationSignals(hits, nil) {
		b := byWS[sig.Workspace]
		if b == nil {
			b = &store.Batch{ID: event.NewID(), Workspace: sig.Workspace, Source: CorrelationSource,
				Format: CorrelationSource, Received: time.Now().UTC()}
			byWS[sig.Workspace] = b
			out = append(out, b)
		}
		b.Signals = append(b.Signals, sig)
	}
	return out
}

// CorrelationSource is the source and format of the store batches that
// carry correlation alerts.
const CorrelationSource = "correlation"

// commitTracked commits a group and tells which of its batches were new.
// A batch delivered for the first time cannot have been committed before;
// a redelivered one may have been, so when correlations run, redeliveries
// are committed one by one and the store's count says which were new.
func (s *Stage) commitTracked(ctx context.Context, group []processed, batches []*store.Batch) (int, []bool, error) {
	isNew := make([]bool, len(group))
	correlating := false
	for _, p := range group {
		if p.rules != nil && p.rules.corr != nil {
			correlating = true
		}
	}
	if !correlating {
		n, err := s.cfg.Store.Commit(ctx, batches)
		return n, isNew, err
	}
	var first []*store.Batch
	var firstIdx, again []int
	for i, p := range group {
		if p.d.Delivered <= 1 {
			first, firstIdx = append(first, batches[i]), append(firstIdx, i)
		} else {
			again = append(again, i)
		}
	}
	total := 0
	if len(first) > 0 {
		n, err := s.cfg.Store.Commit(ctx, first)
		if err != nil {
			return 0, isNew, err
		}
		total += n
		if n == len(first) {
			for _, i := range firstIdx {
				isNew[i] = true
			}
		} else {
			// A first delivery already stored (a duplicate publish): which
			// one is unknown, so none of these feed the correlator.
			s.log.Warn("first deliveries were already committed; their matches skip correlation", "batches", len(first), "new", n)
		}
	}
	for _, i := range again {
		n, err := s.cfg.Store.Commit(ctx, batches[i:i+1])
		if err != nil {
			return total, isNew, err
		}
		total += n
		isNew[i] = n == 1
	}
	return total, isNew, nil
}

// commitCorrelations writes the correlation alerts, retrying a failed
// commit a few times with the same batch ids (a commit is idempotent).
func (s *Stage) commitCorrelations(batches []*store.Batch) {
	if len(batches) == 0 {
		return
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = s.cfg.Store.Commit(ctx, batches)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	s.log.Error("correlation alerts lost: store commit failed", "batches", len(batches), "err", err)
	s.m.commitErrors.Inc()
}

// correlationMetrics count the correlator's work.
type correlationMetrics struct {
	groups                                           prometheus.Gauge
	late, evicted, expired, missing, truncated, hits prometheus.Counter
}

func newCorrelationMetrics() *correlationMetrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_correlation_" + name + "_total", Help: help})
	}
	return &correlationMetrics{
		groups:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_correlation_groups", Help: "Correlation groups tracked in memory."}),
		late:      c("late", "Matches dropped for arriving later than the allowed lateness."),
		evicted:   c("evicted", "Correlation groups evicted by the cap on tracked groups."),
		expired:   c("expired", "Correlation groups whose window ran out."),
		missing:   c("missing_group", "Matches without a value for a group-by field."),
		truncated: c("truncated", "Matches dropped from a full correlation group."),
		hits:      c("hits", "Correlation hits, chained ones included."),
	}
}

func (m *correlationMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.groups, m.late, m.evicted, m.expired, m.missing, m.truncated, m.hits}
}

func (m *correlationMetrics) update(st detect.CorrelatorStats, last *detect.CorrelatorStats) {
	m.groups.Set(float64(st.Groups))
	m.late.Add(float64(st.Late - last.Late))
	m.evicted.Add(float64(st.Evicted - last.Evicted))
	m.expired.Add(float64(st.Expired - last.Expired))
	m.missing.Add(float64(st.MissingGroup - last.MissingGroup))
	m.truncated.Add(float64(st.Truncated - last.Truncated))
	m.hits.Add(float64(st.Hits - last.Hits))
	*last = st
}
