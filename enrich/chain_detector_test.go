package enrich

import (
	"testing"

	"github.com/vigil-sec/vigil/event"
)

type fakeEnricher struct{ fields []string }

func (f fakeEnricher) Fields() []string             { return f.fields }
func (f fakeEnricher) Enrich(*event.Event, *Result) {}

type fakeDetector struct{ fakeEnricher }

func (fakeDetector) Detects() {}

// Rules reading a detector's field need no eager chain (detectors run on
// every event); reading another enricher's field does.
func TestChainReads(t *testing.T) {
	c := NewChain(fakeDetector{fakeEnricher{[]string{"vigil.travel.speed_kmh"}}}, fakeEnricher{[]string{"source.geo.country_iso_code"}})
	if c.Reads(event.NewDict("vigil.travel.speed_kmh", "user.name")) {
		t.Error("a detector's field made the whole chain eager")
	}
	if !c.Reads(event.NewDict("source.geo.country_iso_code")) {
		t.Error("a GeoIP field did not make the chain eager")
	}
	if got := len(c.Fields()); got != 2 {
		t.Errorf("Fields lists %d, want both enrichers' (2)", got)
	}
}
