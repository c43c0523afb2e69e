package alert

import (
	"testing"
	"time"
)

func TestAlertKeepsFirstOriginAndGathersIndicators(t *testing.T) {
	now := time.Now()
	ref := func(v, feed string) IndicatorRef {
		return IndicatorRef{Kind: "ip", Value: v, Feed: feed, ThreatType: "scanner"}
	}
	first := &Origin{IP: "203.0.113.7", Country: "NL", Indicators: []IndicatorRef{ref("203.0.113.7", "a")}}
	s := Signal{Workspace: "w", Rule: RuleRef{ID: "r"}, Evidence: Evidence{Time: now}, Origin: first}
	a := New("1", s, now)
	// The alert owns its copy: the signal's slice is not aliased.
	first.Indicators[0].Value = "changed"
	if a.Origin.Indicators[0].Value != "203.0.113.7" {
		t.Fatal("alert aliases the signal's indicators")
	}
	first.Indicators[0].Value = "203.0.113.7"
	s.Origin = &Origin{IP: "198.51.100.1", Country: "US", Indicators: []IndicatorRef{ref("203.0.113.7", "a"), ref("203.0.113.0/24", "b")}}
	a.Add(s, now)
	a.Add(Signal{Evidence: Evidence{Time: now}}, now) // no origin: nothing changes
	if a.Origin.Country != "NL" || a.Origin.IP != "203.0.113.7" {
		t.Fatalf("origin = %+v, want the first signal's", a.Origin)
	}
	if len(a.Origin.Indicators) != 2 || a.Origin.Indicators[1].Value != "203.0.113.0/24" {
		t.Fatalf("indicators = %+v, want the two distinct ones", a.Origin.Indicators)
	}
}
