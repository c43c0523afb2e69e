package enrich

import (
	"testing"

	"github.com/vigil-sec/vigil/event"
)

type plain struct{ fields []string }

func (p plain) Fields() []string                { return p.fields }
func (p plain) Enrich(*event.Event, *Result)    {}
func (l *learner) Fields() []string             { return []string{"baseline.first_seen"} }
func (l *learner) Enrich(*event.Event, *Result) { l.ran++ }
func (l *learner) Wants(ev *event.Event) bool   { return ev.Logsource.Category == "database" }

type learner struct{ ran int }

func TestChainLearners(t *testing.T) {
	geo := plain{[]string{"source.geo.country_iso_code"}}
	l := &learner{}
	c := NewChain(geo, l)
	if c.Learners() != 1 || c.Len() != 2 {
		t.Fatalf("learners %d, len %d", c.Learners(), c.Len())
	}
	// A rule reading the learner's field alone does not make the chain
	// eager: the learner runs on the events it wants anyway.
	if c.Reads(event.NewDict("baseline.first_seen")) {
		t.Error("a learner's field made the chain eager")
	}
	if !c.Reads(event.NewDict("source.geo.country_iso_code")) {
		t.Error("a GeoIP field did not make the chain eager")
	}
	if !c.Learns(&event.Event{Logsource: event.Logsource{Category: "database"}}) || c.Learns(&event.Event{Logsource: event.Logsource{Category: "webserver"}}) {
		t.Error("Learns does not follow the learner's Wants")
	}
	s := c.Signatures()
	if s.Learners() != 0 || s.Len() != 1 || s != c.Signatures() {
		t.Errorf("Signatures: %d learners, %d enrichers, stable %v", s.Learners(), s.Len(), s == c.Signatures())
	}
	s.Enrich(&event.Event{}, &Result{})
	if l.ran != 0 {
		t.Error("the learner ran in the signatures chain")
	}
	if n := NewChain(geo); n.Signatures() != n {
		t.Error("a chain without learners is not its own signatures chain")
	}
}
