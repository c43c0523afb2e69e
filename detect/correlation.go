package detect

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/rule"
)

// Evidence points at an event behind a correlation: by id in the store, by
// file and line offline.
type Evidence struct {
	EventID string
	File    string
	Line    int
	Time    time.Time
}

// Match is one match of a rule that correlations refer to: what the
// correlator consumes. Values holds the event's values of
// Correlator.Fields(Rule), in that order ("" when absent); they are copied
// when kept, so they may alias a batch's buffers.
type Match struct {
	Rule      string // the matched rule's id
	Workspace string
	Time      time.Time // event time
	Values    []string
	Evidence  Evidence
}

// GroupValue is one group-by field of a correlation hit and its value.
type GroupValue struct {
	Field string
	Value string
}

// CorrelationHit is a correlation whose condition held for one group.
type CorrelationHit struct {
	Correlation *rule.Correlation
	Workspace   string
	Group       []GroupValue
	// First and Last are the event times of the earliest and latest
	// contributing event.
	First, Last time.Time
	// Value is what the condition judged: the event count (event_count),
	// the distinct count (value_count), the number of distinct rules
	// (temporal, temporal_ordered), the sum, the average, or the share in
	// percent of the value in Values (value_percentile).
	Value  float64
	Values []string // value_percentile: the value whose share held
	// Events counts the contributing events (matches of base rules; for a
	// chain, those behind the inner correlations' hits).
	Events   int
	Evidence []Evidence // the latest contributing events, at most MaxEvidence
}

// CorrelatorConfig bounds the correlator.
type CorrelatorConfig struct {
	// Lateness is how far behind the latest event time of its workspace an
	// event may be and still count; a later one is dropped and counted.
	Lateness time.Duration
	// MaxGroups caps the groups tracked across all correlations (default
	// 100,000); past it the least recently active group is evicted.
	MaxGroups int
	// MaxGroupEvents caps the events a group keeps (default 1,000); past it
	// the oldest go (counted as truncated). event_count and value_count with
	// a lower bound only keep as many as the bound needs.
	MaxGroupEvents int
	// MaxEvidence caps the evidence of a hit (default 20).
	MaxEvidence int
}

// CorrelatorStats are the correlator's counters.
type CorrelatorStats struct {
	Groups       int    // groups tracked now
	Late         uint64 // matches dropped as later than Lateness allows
	Evicted      uint64 // groups evicted by MaxGroups
	Expired      uint64 // groups whose window ran out
	MissingGroup uint64 // matches without a value for a group-by field
	Truncated    uint64 // events dropped from a full group
	Hits         uint64 // hits of every correlation, chained ones included
}

// Correlator runs Sigma correlation rules over rule matches on event time.
// It is not safe for concurrent use: feed it from one goroutine (or
// partition matches by group key over several correlators).
//
// A condition with only a lower bound (gt, gte) and temporal correlations
// without a condition are judged on a sliding window: whenever a match
// arrives, over the group's matches at most Timespan older than its latest
// one; a hit empties the group, so the next hit needs new matches. Any
// other condition (lt, lte, eq, neq, ranges) is judged when a window ends:
// the window opens at a group's first match and ends Timespan later; it is
// closed by a later match of the group, by the workspace's event time
// passing its end (plus Lateness), or by Flush.
type Correlator struct {
	cfg      CorrelatorConfig
	corrs    []*corr
	feeds    map[string][]feed   // rule id -> the correlations it feeds
	fields   map[string][]string // rule id -> the fields its matches carry
	suppress map[string]bool     // rule or correlation id -> raises no alert of its own
	groups   int
	wm       map[string]int64 // workspace -> latest event time seen
	stats    CorrelatorStats
	scratch  []byte
	out      []CorrelationHit
	// part and parts restrict the correlator to one partition of the
	// groups (SetPartition, correlation_partition.go); parts 0: all.
	part, parts int
}

// feed is one way a rule's (or a correlation's) matches enter a
// correlation: as its step-th rule, with the positions of the group-by and
// aggregated fields among the match's values.
type feed struct {
	c     *corr
	step  int
	group []int
	value []int
}

type corr struct {
	r          *rule.Correlation
	span       int64
	halfLife   float64 // decayed_count: nanoseconds for a weight to halve
	sliding    bool
	keep       int // most entries a group keeps
	groups     map[string]*group
	head, tail *group // least recently active first (sliding) or oldest window first
	out        []feed // correlations fed by this one's hits
	standalone bool
	// unit is the id partitions hash in place of the group key when the
	// correlation is part of a chain (correlation_partition.go): a
	// chain's groups stay together.
	unit string
}

// group is one correlation's state for one group key.
type group struct {
	key         string
	c           *corr
	prev, next  *group
	first, last int64 // window start (closing windows) and latest match time
	entries     []entry
	// decayed_count without a field: the score at time scoreAt, the
	// matches behind it and the time of the first of them (entries keep
	// only the latest as evidence).
	score          float64
	scoreAt, since int64
	n              int
	chain          []link // temporal_ordered
}

// entry is one kept match.
type entry struct {
	t    int64
	step int32
	num  float64
	str  string
	ev   []Evidence
	n    int // events behind it (several for a chained hit)
}

// link is the latest-starting in-order chain ending at one step of a
// temporal_ordered correlation.
type link struct {
	start, end int64
	ev         []Evidence
	n          int
}

// NewCorrelator compiles linked correlations (rule.Set.Link). A correlation
// that cannot run — a chain whose outer correlation groups by a field the
// inner one does not group by — is reported and left out.
func NewCorrelator(corrs []*rule.Correlation, cfg CorrelatorConfig) (*Correlator, []error) {
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = 100_000
	}
	if cfg.MaxGroupEvents <= 0 {
		cfg.MaxGroupEvents = 1000
	}
	if cfg.MaxEvidence <= 0 {
		cfg.MaxEvidence = 20
	}
	if cfg.Lateness < 0 {
		cfg.Lateness = 0
	}
	k := &Correlator{cfg: cfg, feeds: map[string][]feed{}, fields: map[string][]string{},
		suppress: map[string]bool{}, wm: map[string]int64{}}
	byID := map[*rule.Correlation]*corr{}
	var errs []error
	for _, r := range corrs {
		if len(r.Targets) != len(r.Rules) {
			errs = append(errs, &rule.Error{File: r.File, Line: r.Line, Reason: fmt.Sprintf("correlation %q is not linked", r.Title)})
			continue
		}
		c := &corr{r: r, span: int64(r.Timespan), groups: map[string]*group{}, keep: cfg.MaxGroupEvents}
		cond := &r.Condition
		switch r.Type {
		case rule.Temporal:
			c.sliding = cond.IsZero() || cond.LowerOnly()
		case rule.TemporalOrdered:
			c.sliding = true
		case rule.DecayedCount:
			c.sliding = true
			c.halfLife = float64(r.HalfLife)
			if len(cond.Field) == 0 {
				// The score is kept apart; entries are only evidence.
				c.keep = cfg.MaxEvidence
			}
		default:
			c.sliding = cond.LowerOnly()
		}
		if c.sliding && (r.Type == rule.EventCount || r.Type == rule.ValueCount) {
			// A lower bound needs no more than bound+1 entries to decide.
			need := 0.0
			if cond.GT != nil {
				need = math.Floor(*cond.GT) + 1
			}
			if cond.GTE != nil {
				need = max(need, math.Ceil(*cond.GTE))
			}
			c.keep = int(min(max(need, 1), float64(cfg.MaxGroupEvents)))
		}
		byID[r] = c
		k.corrs = append(k.corrs, c)
	}
	// Wire the inputs: base rules by the fields their events carry, inner
	// correlations by their group-by values.
	for _, c := range k.corrs {
		r := c.r
		for i, t := range r.Targets {
			f := feed{c: c, step: i}
			names := slices.Clone(r.GroupBy)
			names = append(names, r.Condition.Field...)
			var idx []int
			var err error
			if t.Rule != nil {
				for _, n := range names {
					idx = append(idx, k.field(t.Rule.ID, r.FieldFor(n, i)))
				}
			} else if inner := byID[t.Correlation]; inner != nil {
				for _, n := range names {
					fld := r.FieldFor(n, i)
					j := slices.Index(inner.r.GroupBy, fld)
					if j < 0 {
						err = fmt.Errorf("correlation %q uses field %q of correlation %q, which only provides its group-by fields %v", r.Title, fld, inner.r.Title, inner.r.GroupBy)
						break
					}
					idx = append(idx, j)
				}
			} else {
				err = fmt.Errorf("correlation %q refers to correlation %q, which did not compile", r.Title, t.Correlation.Title)
			}
			if err != nil {
				errs = append(errs, &rule.Error{File: r.File, Line: r.Rules[i].Pos.Line, Col: r.Rules[i].Pos.Col, Reason: err.Error()})
				continue
			}
			f.group, f.value = idx[:len(r.GroupBy)], idx[len(r.GroupBy):]
			if t.Rule != nil {
				k.feeds[t.Rule.ID] = append(k.feeds[t.Rule.ID], f)
			} else {
				byID[t.Correlation].out = append(byID[t.Correlation].out, f)
			}
		}
	}
	// generate: a referenced rule raises alerts of its own only when some
	// correlation referring to it says so (the specification's default is
	// that only the correlation alerts).
	gen := map[string]bool{}
	for _, c := range k.corrs {
		for _, t := range c.r.Targets {
			k.suppress[t.ID()] = true
			gen[t.ID()] = gen[t.ID()] || c.r.Generate
		}
	}
	for id, g := range gen {
		if g {
			delete(k.suppress, id)
		}
	}
	for _, c := range k.corrs {
		c.standalone = !k.suppress[c.r.ID]
	}
	k.chainUnits()
	return k, errs
}

// field registers name among the values rule id's matches carry and
// returns its position.
func (k *Correlator) field(id, name string) int {
	fs := k.fields[id]
	if i := slices.Index(fs, name); i >= 0 {
		return i
	}
	k.fields[id] = append(fs, name)
	return len(fs)
}

// Fields returns the names of the values a match of rule id must carry, or
// nil when no correlation refers to the rule.
func (k *Correlator) Fields(id string) []string { return k.fields[id] }

// Feeds reports whether some correlation refers to rule id.
func (k *Correlator) Feeds(id string) bool { return len(k.feeds[id]) > 0 }

// Suppressed reports whether rule (or correlation) id raises no alert of
// its own: some correlation refers to it and none says generate: true.
func (k *Correlator) Suppressed(id string) bool { return k.suppress[id] }

// Len returns the number of correlations.
func (k *Correlator) Len() int { return len(k.corrs) }

// Stats returns the counters.
func (k *Correlator) Stats() CorrelatorStats {
	s := k.stats
	s.Groups = k.groups
	return s
}

// Observe feeds one match and appends to dst the hits of correlations that
// raise alerts (inner correlations of a chain feed their outer ones
// instead).
func (k *Correlator) Observe(m Match, dst []CorrelationHit) []CorrelationHit {
	fs := k.feeds[m.Rule]
	if len(fs) == 0 {
		return dst
	}
	t := m.Time.UnixNano()
	wm, seen := k.wm[m.Workspace]
	if seen && t < wm-int64(k.cfg.Lateness) {
		k.stats.Late++
		return dst
	}
	k.out = dst
	if !seen || t > wm {
		k.wm[strings.Clone(m.Workspace)] = t
		k.sweep()
	}
	ev := []Evidence{m.Evidence}
	for _, f := range fs {
		vals := func(i int) string {
			if i < len(m.Values) {
				return m.Values[i]
			}
			return ""
		}
		k.feed(f, m.Workspace, t, vals, ev, 1)
	}
	dst, k.out = k.out, nil
	return dst
}

// Flush closes every window — judging closing-window conditions on what
// was seen — and forgets all state. `vigil scan` calls it at the end of
// its input.
func (k *Correlator) Flush(dst []CorrelationHit) []CorrelationHit {
	k.out = dst
	// Closing an inner window may feed an outer one: pass again until all
	// are empty (a chain is at most as deep as there are correlations).
	for range len(k.corrs) + 1 {
		for _, c := range k.corrs {
			for g := c.head; g != nil; g = c.head {
				if !c.sliding {
					k.close(g)
				}
				if g.c.groups[g.key] == g {
					k.drop(g)
				}
			}
		}
		if k.groups == 0 {
			break
		}
	}
	clear(k.wm)
	dst, k.out = k.out, nil
	return dst
}

// feed adds one input to one correlation.
func (k *Correlator) feed(f feed, ws string, t int64, val func(int) string, ev []Evidence, n int) {
	c := f.c
	k.scratch = append(k.scratch[:0], ws...)
	for _, i := range f.group {
		v := val(i)
		if v == "" {
			k.stats.MissingGroup++
			return
		}
		k.scratch = append(k.scratch, 0)
		k.scratch = append(k.scratch, v...)
	}
	if k.parts > 0 && partitionOf(c, k.scratch, k.parts) != k.part {
		return // another partition's group
	}
	var str string
	var num float64
	if len(f.value) > 0 {
		if c.r.Type == rule.ValueSum || c.r.Type == rule.ValueAvg {
			x, err := corrNumber(val(f.value[0]))
			if err != nil {
				return // not a number: nothing to add
			}
			num = x
		} else {
			var b strings.Builder
			for j, i := range f.value {
				if j > 0 {
					b.WriteByte(0)
				}
				b.WriteString(val(i))
			}
			str = b.String()
			if len(f.value) == 1 && str == "" {
				return // value_count counts values; an absent one is none
			}
		}
	}
	g := c.groups[string(k.scratch)]
	if g != nil && !c.sliding && t > g.first+c.span {
		k.close(g) // a match past the window: judge it, then start anew
		k.drop(g)
		g = nil
	}
	if g == nil {
		g = k.newGroup(c, string(k.scratch), t)
	}
	if c.sliding {
		c.touch(g)
	}
	g.last = max(g.last, t)
	if c.r.Type == rule.TemporalOrdered {
		k.ordered(g, f.step, t, ev, n)
		return
	}
	if c.r.Type == rule.DecayedCount && len(f.value) == 0 {
		g.decay(t, n)
	}
	k.add(g, entry{t: t, step: int32(f.step), num: num, str: str, ev: ev, n: n})
	if c.sliding {
		k.judge(g, str)
	}
}

func corrNumber(s string) (float64, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
		err = fmt.Errorf("%q is not finite", s)
	}
	return x, err
}

func (k *Correlator) newGroup(c *corr, key string, t int64) *group {
	for k.groups >= k.cfg.MaxGroups {
		k.evictOldest()
	}
	g := &group{key: key, c: c, first: t, last: t}
	c.groups[key] = g
	c.push(g)
	k.groups++
	return g
}

// add keeps one entry in time order, within the group's bounds.
func (k *Correlator) add(g *group, e entry) {
	c := g.c
	switch c.r.Type {
	case rule.ValueCount, rule.DecayedCount:
		if c.r.Type == rule.DecayedCount && len(c.r.Condition.Field) == 0 {
			break
		}
		// Distinct values: a value seen again only moves to its latest time.
		if i := slices.IndexFunc(g.entries, func(x entry) bool { return x.str == e.str }); i >= 0 {
			old := g.entries[i]
			g.entries = slices.Delete(g.entries, i, i+1)
			if old.t > e.t {
				e.t = old.t
			}
			e.n += old.n
		}
	case rule.Temporal:
		// One entry a rule: its latest match.
		if i := slices.IndexFunc(g.entries, func(x entry) bool { return x.step == e.step }); i >= 0 {
			if g.entries[i].t > e.t && c.sliding {
				return
			}
			e.n += g.entries[i].n
			g.entries = slices.Delete(g.entries, i, i+1)
		}
	}
	i := len(g.entries)
	for i > 0 && g.entries[i-1].t > e.t {
		i--
	}
	g.entries = slices.Insert(g.entries, i, e)
	if c.sliding {
		g.slide()
	}
	if over := len(g.entries) - c.keep; over > 0 {
		if c.r.Type != rule.EventCount && c.r.Type != rule.ValueCount && c.r.Type != rule.DecayedCount {
			k.stats.Truncated += uint64(over)
		}
		clear(g.entries[:over])
		g.entries = slices.Delete(g.entries, 0, over)
	}
}

// slide drops entries more than the timespan older than the latest one.
func (g *group) slide() {
	cut := 0
	for cut < len(g.entries) && g.last-g.entries[cut].t > g.c.span {
		cut++
	}
	if cut > 0 {
		clear(g.entries[:cut])
		g.entries = slices.Delete(g.entries, 0, cut)
	}
}

// judge decides a sliding window after a match whose aggregated value was
// str; a hit empties the group.
func (k *Correlator) judge(g *group, str string) {
	v, ok := g.value(str)
	if !ok {
		return
	}
	k.hit(g, v, g.entries, str)
	clear(g.entries)
	g.entries = g.entries[:0]
	g.score, g.n = 0, 0
}

// decay adds n matches at time t to a decayed_count score: what was there
// fades by half every half-life, the new matches count one each. A match
// earlier than the score's time (late, within the allowed lateness) adds
// what it would be worth now.
func (g *group) decay(t int64, n int) {
	if g.n == 0 {
		g.score, g.scoreAt, g.since = 0, t, t
	}
	if t >= g.scoreAt {
		g.score = g.score*g.c.weight(t-g.scoreAt) + float64(n)
		g.scoreAt = t
	} else {
		g.score += float64(n) * g.c.weight(g.scoreAt-t)
		g.since = min(g.since, t)
	}
	g.n += n
}

// weight is what one match is worth age nanoseconds after it.
func (c *corr) weight(age int64) float64 {
	return math.Exp2(-float64(age) / c.halfLife)
}

// close judges a closing window.
func (k *Correlator) close(g *group) {
	if g.c.r.Type == rule.ValuePercentile {
		// The first value, in time order, whose share holds.
		for _, e := range g.entries {
			if v, ok := g.value(e.str); ok {
				k.hit(g, v, g.entries, e.str)
				return
			}
		}
		return
	}
	if v, ok := g.value(""); ok {
		k.hit(g, v, g.entries, "")
	}
}

// value computes the group's aggregate and judges the condition. str is
// the value whose share value_percentile computes.
func (g *group) value(str string) (float64, bool) {
	r := g.c.r
	var v float64
	switch r.Type {
	case rule.EventCount, rule.ValueCount:
		v = float64(len(g.entries))
	case rule.Temporal:
		v = float64(len(g.entries))
		if r.Condition.IsZero() {
			return v, len(g.entries) == len(r.Rules)
		}
	case rule.ValueSum, rule.ValueAvg:
		if len(g.entries) == 0 {
			return 0, false
		}
		for _, e := range g.entries {
			v += e.num
		}
		if r.Type == rule.ValueAvg {
			v /= float64(len(g.entries))
		}
	case rule.DecayedCount:
		if len(r.Condition.Field) == 0 {
			v = g.score * g.c.weight(g.last-g.scoreAt)
			break
		}
		// Distinct values, each worth its latest match's weight.
		for _, e := range g.entries {
			v += g.c.weight(g.last - e.t)
		}
	case rule.ValuePercentile:
		if len(g.entries) == 0 {
			return 0, false
		}
		n := 0
		for _, e := range g.entries {
			if e.str == str {
				n++
			}
		}
		v = 100 * float64(n) / float64(len(g.entries))
	}
	return v, r.Condition.Holds(v)
}

// ordered advances a temporal_ordered group: a match of step i extends the
// chain ending at step i-1 when it is not earlier than that chain's end and
// within the timespan of its start. Each step keeps the chain that started
// latest, which leaves the most room for the steps after it.
func (k *Correlator) ordered(g *group, step int, t int64, ev []Evidence, n int) {
	c := g.c
	if g.chain == nil {
		g.chain = make([]link, len(c.r.Rules))
	}
	var cand link
	if step == 0 {
		cand = link{start: t, end: t, ev: ev, n: n}
	} else {
		prev := g.chain[step-1]
		if prev.n == 0 || t < prev.end || t-prev.start > c.span {
			return // out of order, or too late for the chain before it
		}
		cand = link{start: prev.start, end: t, ev: appendEvidence(slices.Clip(prev.ev), ev, k.cfg.MaxEvidence), n: prev.n + n}
	}
	if cur := g.chain[step]; cur.n == 0 || cand.start > cur.start || (cand.start == cur.start && cand.end < cur.end) {
		g.chain[step] = cand
	}
	if step == len(g.chain)-1 {
		l := g.chain[step]
		k.hitChain(g, l)
		clear(g.chain)
	}
}

func appendEvidence(dst, ev []Evidence, max int) []Evidence {
	dst = append(dst, ev...)
	if len(dst) > max {
		dst = dst[len(dst)-max:]
	}
	return dst
}

func (k *Correlator) hitChain(g *group, l link) {
	h := CorrelationHit{Value: float64(len(g.c.r.Rules)), First: time.Unix(0, l.start).UTC(),
		Last: time.Unix(0, l.end).UTC(), Events: l.n, Evidence: slices.Clone(l.ev)}
	k.emit(g, h)
}

func (k *Correlator) hit(g *group, v float64, es []entry, str string) {
	h := CorrelationHit{Value: v}
	if len(es) > 0 {
		h.First, h.Last = time.Unix(0, es[0].t).UTC(), time.Unix(0, es[len(es)-1].t).UTC()
	}
	if g.c.r.Type == rule.ValuePercentile {
		h.Values = []string{str}
	}
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if g.c.r.Type == rule.ValuePercentile && e.str != str {
			continue
		}
		h.Events += e.n
		for j := len(e.ev) - 1; j >= 0 && len(h.Evidence) < k.cfg.MaxEvidence; j-- {
			h.Evidence = append(h.Evidence, e.ev[j])
		}
	}
	slices.Reverse(h.Evidence)
	if g.c.r.Type == rule.DecayedCount && len(g.c.r.Condition.Field) == 0 {
		// The entries are only the latest evidence; the score knows all.
		h.Events, h.First = g.n, time.Unix(0, g.since).UTC()
	}
	k.emit(g, h)
}

// emit completes a hit, passes it to the correlations it feeds, and keeps
// it for the caller when the correlation raises alerts.
func (k *Correlator) emit(g *group, h CorrelationHit) {
	k.stats.Hits++
	c := g.c
	h.Correlation = c.r
	parts := strings.Split(g.key, "\x00")
	h.Workspace = parts[0]
	for i, f := range c.r.GroupBy {
		h.Group = append(h.Group, GroupValue{Field: f, Value: parts[1+i]})
	}
	if c.standalone {
		k.out = append(k.out, h)
	}
	t := h.Last.UnixNano()
	for _, f := range c.out {
		k.feed(f, h.Workspace, t, func(i int) string { return parts[1+i] }, h.Evidence, h.Events)
	}
}

// sweep ends the windows and groups that the event time has left behind.
func (k *Correlator) sweep() {
	late := int64(k.cfg.Lateness)
	for _, c := range k.corrs {
		for g := c.head; g != nil; {
			wm := k.wm[g.key[:strings.IndexByte(g.key+"\x00", 0)]]
			var end int64
			if c.sliding {
				end = g.last + c.span
			} else {
				end = g.first + c.span
			}
			if end >= wm-late {
				break // the list is in time order: the rest are newer
			}
			next := g.next
			if !c.sliding {
				k.close(g)
			}
			k.drop(g)
			k.stats.Expired++
			g = next
		}
	}
}

// evictOldest drops the group, over all correlations, that was active
// least recently.
func (k *Correlator) evictOldest() {
	var old *group
	for _, c := range k.corrs {
		if g := c.head; g != nil && (old == nil || g.order() < old.order()) {
			old = g
		}
	}
	if old == nil {
		return
	}
	k.drop(old)
	k.stats.Evicted++
}

func (g *group) order() int64 {
	if g.c.sliding {
		return g.last
	}
	return g.first
}

func (k *Correlator) drop(g *group) {
	c := g.c
	c.unlink(g)
	delete(c.groups, g.key)
	k.groups--
}

// The group list: sliding groups move to the back when a match arrives, so
// the front is the least recently active; closing windows stay where they
// were created, so the front is the oldest window.
func (c *corr) push(g *group) {
	g.prev, g.next = c.tail, nil
	if c.tail != nil {
		c.tail.next = g
	} else {
		c.head = g
	}
	c.tail = g
}

func (c *corr) unlink(g *group) {
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		c.head = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		c.tail = g.prev
	}
	g.prev, g.next = nil, nil
}

func (c *corr) touch(g *group) {
	if c.tail == g {
		return
	}
	c.unlink(g)
	c.push(g)
}
