package main

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Each workspace's chain of `vigil serve` follows its own accounts'
// sign-ins: the same account in two workspaces is two accounts.
func TestServeTravelPerWorkspace(t *testing.T) {
	e, err := newServeEnrichment(&Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(ws, country string, at time.Time) *event.Event {
		ev := &event.Event{Time: at, Workspace: ws}
		ev.Common[event.EventCategory] = "authentication"
		ev.Common[event.EventOutcome] = "success"
		ev.Common[event.UserName] = "bob@contoso.example"
		ev.Common[event.SourceIP] = "203.0.113.9"
		ev.Common[event.SourceGeoCountryISOCode] = country
		return ev
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var r enrich.Result
	e.chain("acme").Detect(signIn("acme", "FR", t0), &r)
	other := signIn("globex", "JP", t0.Add(time.Hour))
	e.chain("globex").Detect(other, &r)
	if v := other.Common[event.TravelSpeedKmh]; v != "" {
		t.Fatalf("another workspace's sign-in was compared: speed %s", v)
	}
	again := signIn("acme", "JP", t0.Add(time.Hour))
	e.chain("acme").Detect(again, &r)
	if again.Common[event.TravelSpeedKmh] == "" || again.Common[event.TravelPreviousCountry] != "FR" {
		t.Fatalf("acme's second sign-in: speed %q, previous country %q", again.Common[event.TravelSpeedKmh], again.Common[event.TravelPreviousCountry])
	}
}
