package rule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v4"
)

// CorrelationType is what a correlation aggregates (Sigma correlation
// specification 2.1).
type CorrelationType string

const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
	ValueSum        CorrelationType = "value_sum"
	ValueAvg        CorrelationType = "value_avg"
	ValuePercentile CorrelationType = "value_percentile"
	// DecayedCount is a vigil extension: per group, a score that every
	// match raises by one and that halves every HalfLife, so attempts spread
	// over hours or days add up where no fixed window holds enough of them.
	DecayedCount CorrelationType = "decayed_count"
)

// needsField reports whether the type aggregates a field named by the
// condition's `field`.
func (t CorrelationType) needsField() bool {
	switch t {
	case ValueCount, ValueSum, ValueAvg, ValuePercentile:
		return true
	}
	return false
}

// Correlation is a parsed Sigma correlation rule: a meta-rule over the
// matches of other rules (detection rules or correlations).
type Correlation struct {
	Meta

	Type CorrelationType
	// Rules are the referenced rules, in order (the order matters for
	// temporal_ordered), as written: an id or a name.
	Rules []RuleRef
	// GroupBy are the fields (or alias names) whose values scope the
	// aggregation.
	GroupBy []string
	// Aliases maps an alias name to the field it stands for in the events of
	// each referenced rule, by that rule's name.
	Aliases  map[string]map[string]string
	Timespan time.Duration
	// HalfLife is how fast a decayed_count score fades (vigil extension).
	HalfLife  time.Duration
	Condition CorrelationCondition
	// Generate: the referenced rules also raise their own alerts.
	Generate bool
	// Targets are the resolved Rules, parallel to them; Set.Link fills it.
	Targets []Target

	File string
	Line int
	Pos  struct{ Timespan, Aliases, HalfLife Pos }
}

// RuleRef is one entry of a correlation's `rules`.
type RuleRef struct {
	Ref string
	Pos Pos
}

// CorrelationCondition is the condition of a correlation: optional bounds,
// all of which must hold (a range is two of them), and the field(s) that the
// value_* types aggregate.
type CorrelationCondition struct {
	GT, GTE, LT, LTE, EQ, NEQ *float64
	// Field holds one field, or several for value_count (their values
	// together make one value).
	Field []string
	Pos   Pos
}

// IsZero reports whether no bound is set.
func (c *CorrelationCondition) IsZero() bool {
	return c.GT == nil && c.GTE == nil && c.LT == nil && c.LTE == nil && c.EQ == nil && c.NEQ == nil
}

// Holds reports whether v satisfies every bound.
func (c *CorrelationCondition) Holds(v float64) bool {
	return (c.GT == nil || v > *c.GT) && (c.GTE == nil || v >= *c.GTE) &&
		(c.LT == nil || v < *c.LT) && (c.LTE == nil || v <= *c.LTE) &&
		(c.EQ == nil || v == *c.EQ) && (c.NEQ == nil || v != *c.NEQ)
}

// LowerOnly reports whether the condition only bounds from below (gt,
// gte): it can only become true as a window fills, so it can be decided as
// soon as an event arrives. Any other condition is decided when the window
// closes.
func (c *CorrelationCondition) LowerOnly() bool {
	return (c.GT != nil || c.GTE != nil) && c.LT == nil && c.LTE == nil && c.EQ == nil && c.NEQ == nil
}

func (c *CorrelationCondition) String() string {
	var parts []string
	add := func(op string, v *float64) {
		if v != nil {
			parts = append(parts, op+" "+strconv.FormatFloat(*v, 'g', -1, 64))
		}
	}
	add("gt", c.GT)
	add("gte", c.GTE)
	add("lt", c.LT)
	add("lte", c.LTE)
	add("eq", c.EQ)
	add("neq", c.NEQ)
	return strings.Join(parts, " and ")
}

// isCorrelationDoc reports whether a rule document is a correlation.
func isCorrelationDoc(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "correlation" {
			return true
		}
	}
	return false
}

// docName returns the `name` of a rule document and where it is.
func docName(root *yaml.Node) (string, Pos) {
	if root.Kind != yaml.MappingNode {
		return "", Pos{}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		if k != nil && v != nil && k.Value == "name" && v.Kind == yaml.ScalarNode {
			return v.Value, pos(v)
		}
	}
	return "", Pos{}
}

// docTitle is the title of a rule document, "" when it has none.
func docTitle(root *yaml.Node) string {
	if root.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		if k != nil && v != nil && k.Value == "title" && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

func parseCorrelation(file string, root *yaml.Node) (*Correlation, *posError) {
	kvs, err := pairs(root, "a correlation document")
	if err != nil {
		return nil, err
	}
	c := &Correlation{File: file, Line: root.Line}
	m := c.Meta.keys()
	var body, bodyKey *yaml.Node
	if err := m.parse(kvs, func(k, v *yaml.Node) (err *posError) {
		switch k.Value {
		case "generate":
			c.Generate, err = boolean(k, v)
		case "correlation":
			body, bodyKey = v, k
		case "detection", "logsource":
			err = errAt(pos(k), "a correlation rule cannot have %q: put the detection in a rule of its own and refer to it", k.Value)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if c.Title == "" {
		return nil, errAt(pos(root), "correlation rule has no title")
	}
	if err := c.parseBody(bodyKey, body); err != nil {
		return nil, err
	}
	if c.ID == "" {
		c.ID = DerivedID(file, c.Title)
	}
	return c, nil
}

func boolean(k, v *yaml.Node) (bool, *posError) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(v.Value))
		if err == nil {
			return b, nil
		}
	}
	return false, errAt(pos(v), "%q must be true or false", k.Value)
}

func (c *Correlation) parseBody(key, v *yaml.Node) *posError {
	kvs, err := pairs(v, "correlation")
	if err != nil {
		return err
	}
	var cond, aliases *yaml.Node
	var seen = map[string]bool{}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		seen[k.Value] = true
		var err *posError
		switch k.Value {
		case "type":
			var t string
			if t, err = text(k, v); err == nil {
				c.Type = CorrelationType(t)
				switch c.Type {
				case EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueAvg, ValuePercentile, DecayedCount:
				default:
					err = errAt(pos(v), "unknown correlation type %q (want event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile or decayed_count)", t)
				}
			}
		case "rules":
			err = c.parseRules(k, v)
		case "group-by":
			c.GroupBy, err = textList(k, v)
			if err == nil {
				err = unique(v, c.GroupBy, "group-by")
			}
		case "timespan":
			c.Pos.Timespan = pos(v)
			var s string
			if s, err = text(k, v); err == nil {
				var perr error
				if c.Timespan, perr = ParseTimespan(s); perr != nil {
					err = errAt(pos(v), "timespan: %v", perr)
				}
			}
		case "half-life":
			c.Pos.HalfLife = pos(v)
			var s string
			if s, err = text(k, v); err == nil {
				var perr error
				if c.HalfLife, perr = ParseTimespan(s); perr != nil {
					err = errAt(pos(v), "half-life: %v", perr)
				}
			}
		case "condition":
			cond = v
		case "aliases":
			aliases = v
			c.Pos.Aliases = pos(k)
		case "generate":
			// Accepted inside the section too, as some tools write it there.
			c.Generate, err = boolean(k, v)
		default:
			err = errAt(pos(k), "unknown key %q in correlation (want type, rules, group-by, timespan, half-life, condition, aliases)", k.Value)
		}
		if err != nil {
			return err
		}
	}
	required := []string{"type", "rules", "timespan"}
	if c.Type == DecayedCount {
		required = []string{"type", "rules", "half-life"}
	} else if seen["half-life"] {
		return errAt(c.Pos.HalfLife, "half-life is only for decayed_count correlations")
	}
	for _, req := range required {
		if !seen[req] {
			return errAt(pos(key), "correlation has no %q", req)
		}
	}

	// The specification calls group-by mandatory but describes it as
	// optional ("optionally defines"): without it, all matches form one
	// group.
	if cond != nil {
		if err := c.parseCondition(cond); err != nil {
			return err
		}
	}
	switch {
	case c.Type == DecayedCount:
		if err := c.checkDecayed(key, cond); err != nil {
			return err
		}
	case c.Type == EventCount || c.Type.needsField():
		if cond == nil {
			return errAt(pos(key), "%s correlation has no condition", c.Type)
		}
		if c.Condition.IsZero() {
			return errAt(pos(cond), "condition has no bound (want gt, gte, lt, lte, eq or neq)")
		}
		if c.Type.needsField() && len(c.Condition.Field) == 0 {
			return errAt(pos(cond), "%s condition has no field", c.Type)
		}
		if !c.Type.needsField() && len(c.Condition.Field) > 0 {
			return errAt(pos(cond), "%s condition cannot have a field", c.Type)
		}
		if c.Type != ValueCount && len(c.Condition.Field) > 1 {
			return errAt(pos(cond), "%s aggregates one field, not %d", c.Type, len(c.Condition.Field))
		}
	case c.Type == TemporalOrdered && cond != nil:
		return errAt(pos(cond), "a condition on temporal_ordered is not supported: every rule must match, in order")
	case c.Type == Temporal && cond != nil && len(c.Condition.Field) > 0:
		return errAt(pos(cond), "temporal condition cannot have a field")
	}
	if c.Type == TemporalOrdered && len(c.Rules) < 2 {
		return errAt(pos(key), "temporal_ordered needs at least two rules")
	}
	if aliases != nil {
		if err := c.parseAliases(aliases); err != nil {
			return err
		}
	}
	return nil
}

// decayedForget is how many half-lives a decayed_count group is kept
// without a match when no timespan is written: by then a score has
// fallen to under a thousandth of what it was.
const decayedForget = 10

// checkDecayed checks a decayed_count correlation: a lower bound on the
// score (it only grows with matches, so it is judged as each arrives), at
// most one field (distinct values instead of matches), and a timespan —
// how long an idle group is remembered — that defaults to ten half-lives.
func (c *Correlation) checkDecayed(key, cond *yaml.Node) *posError {
	if cond == nil {
		return errAt(pos(key), "decayed_count correlation has no condition")
	}
	if !c.Condition.LowerOnly() {
		return errAt(pos(cond), "decayed_count condition takes gt or gte only (the score is judged as it grows)")
	}
	if len(c.Condition.Field) > 1 {
		return errAt(pos(cond), "decayed_count counts the distinct values of one field, not %d", len(c.Condition.Field))
	}
	if c.Timespan == 0 {
		c.Timespan = decayedForget * c.HalfLife
	}
	if c.Timespan < c.HalfLife {
		return errAt(c.Pos.Timespan, "timespan %v is shorter than the half-life %v: groups would be forgotten before their score fades", c.Timespan, c.HalfLife)
	}
	return nil
}

func unique(n *yaml.Node, list []string, what string) *posError {
	seen := map[string]bool{}
	for i, s := range list {
		if seen[s] {
			p := pos(n)
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				p = pos(n.Content[i])
			}
			return errAt(p, "%s lists %q twice", what, s)
		}
		seen[s] = true
	}
	return nil
}

func (c *Correlation) parseRules(k, v *yaml.Node) *posError {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		items = v.Content
	default:
		return errAt(pos(v), "%q must be a list of rule ids or names", k.Value)
	}
	seen := map[string]bool{}
	for _, it := range items {
		it = deref(it)
		if it == nil || it.Kind != yaml.ScalarNode || it.Tag == "!!null" || it.Value == "" {
			return errAt(pos(v), "%q must be a list of rule ids or names", k.Value)
		}
		if seen[it.Value] {
			return errAt(pos(it), "rule %q is listed twice", it.Value)
		}
		seen[it.Value] = true
		c.Rules = append(c.Rules, RuleRef{Ref: it.Value, Pos: pos(it)})
	}
	if len(c.Rules) == 0 {
		return errAt(pos(v), "correlation refers to no rule")
	}
	return nil
}

func (c *Correlation) parseCondition(v *yaml.Node) *posError {
	kvs, err := pairs(v, "condition")
	if err != nil {
		return err
	}
	cc := &c.Condition
	cc.Pos = pos(v)
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		var dst **float64
		switch k.Value {
		case "gt":
			dst = &cc.GT
		case "gte":
			dst = &cc.GTE
		case "lt":
			dst = &cc.LT
		case "lte":
			dst = &cc.LTE
		case "eq":
			dst = &cc.EQ
		case "neq":
			dst = &cc.NEQ
		case "field":
			f, err := textList(k, v)
			if err != nil {
				return err
			}
			for _, s := range f {
				if s == "" {
					return errAt(pos(v), "condition field is empty")
				}
			}
			cc.Field = f
			continue
		default:
			return errAt(pos(k), "unknown condition operator %q (want gt, gte, lt, lte, eq, neq or field)", k.Value)
		}
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") {
			return errAt(pos(v), "condition %s: %q is not a number", k.Value, v.Value)
		}
		n, perr := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
		if perr != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return errAt(pos(v), "condition %s: %q is not a finite number", k.Value, v.Value)
		}
		*dst = &n
	}
	return nil
}

func (c *Correlation) parseAliases(v *yaml.Node) *posError {
	kvs, err := pairs(v, "aliases")
	if err != nil {
		return err
	}
	c.Aliases = make(map[string]map[string]string, len(kvs))
	for _, kv := range kvs {
		alias, m := kv[0], kv[1]
		inner, err := pairs(m, "alias "+alias.Value)
		if err != nil {
			return err
		}
		fields := make(map[string]string, len(inner))
		for _, kv := range inner {
			f, err := text(kv[0], kv[1])
			if err != nil {
				return err
			}
			if f == "" {
				return errAt(pos(kv[1]), "alias %q: field for rule %q is empty", alias.Value, kv[0].Value)
			}
			fields[kv[0].Value] = f
		}
		c.Aliases[alias.Value] = fields
	}
	return nil
}

// ParseTimespan parses a Sigma timespan: a whole number and one unit, s, m,
// h or d (lower case), e.g. 90m. A week (w) is accepted as well.
func ParseTimespan(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("%q: want a number and a unit (s, m, h, d), e.g. 5m", s)
	}
	num, unit := s[:len(s)-1], s[len(s)-1]
	var u time.Duration
	switch unit {
	case 's':
		u = time.Second
	case 'm':
		u = time.Minute
	case 'h':
		u = time.Hour
	case 'd':
		u = 24 * time.Hour
	case 'w':
		u = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("%q: unknown unit %q (want s, m, h or d)", s, unit)
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q: want a positive whole number before the unit", s)
	}
	if time.Duration(n) > math.MaxInt64/u {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return time.Duration(n) * u, nil
}
