package analysis

import (
	"strings"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

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
