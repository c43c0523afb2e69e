package travel

import (
	"math"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/country"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func signIn(user, ip, country string, at time.Time) *event.Event {
	ev := &event.Event{Time: at}
	ev.Common[event.EventCategory] = "authentication"
	ev.Common[event.EventOutcome] = "success"
	ev.Common[event.UserName] = user
	ev.Common[event.SourceIP] = ip
	ev.Common[event.SourceGeoCountryISOCode] = country
	return ev
}

func num(t *testing.T, ev *event.Event, id int) float64 {
	t.Helper()
	v := ev.Common[id]
	if v == "" {
		t.Fatalf("%s not set", event.CommonName(id))
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", event.CommonName(id), v, err)
	}
	return f
}

func TestDistanceKm(t *testing.T) {
	// Paris–New York is about 5,840 km on the great circle.
	d := distanceKm(48.8566, 2.3522, 40.7128, -74.0060)
	if math.Abs(d-5837) > 30 {
		t.Fatalf("Paris–New York = %.0f km", d)
	}
	if d := distanceKm(10, 20, 10, 20); d != 0 {
		t.Fatalf("same point = %v", d)
	}
}

// Two sign-ins of one account from France then Russia an hour apart (the
// source's own country, no GeoIP) give the centres' distance over an hour.
func TestCentroidTravel(t *testing.T) {
	e := New(Options{})
	var r enrich.Result
	first := signIn("Bob@Contoso.example", "198.51.100.7", "FR", t0)
	e.Enrich(first, &r)
	if first.Common[event.TravelSpeedKmh] != "" {
		t.Fatalf("first sign-in got a speed: %q", first.Common[event.TravelSpeedKmh])
	}
	second := signIn("bob@contoso.example", "203.0.113.9", "RU", t0.Add(time.Hour))
	e.Enrich(second, &r)
	frLat, frLon, _ := country.Centre("FR")
	ruLat, ruLon, _ := country.Centre("RU")
	want := distanceKm(frLat, frLon, ruLat, ruLon)
	if got := num(t, second, event.TravelDistanceKm); math.Abs(got-want) > 1 {
		t.Fatalf("distance %v, want %v", got, want)
	}
	if got := num(t, second, event.TravelSpeedKmh); math.Abs(got-want) > 1 {
		t.Fatalf("speed %v km/h over one hour, want %v", got, want)
	}
	if c := second.Common[event.TravelPreviousCountry]; c != "FR" {
		t.Fatalf("previous country %q", c)
	}
	if ip := second.Common[event.TravelPreviousIP]; ip != "198.51.100.7" {
		t.Fatalf("previous ip %q", ip)
	}
	if ts := second.Common[event.TravelPreviousTime]; ts != "2026-12-01T10:00:00Z" {
		t.Fatalf("previous time %q", ts)
	}
}

// GeoIP coordinates win over the country's centre; an address it cannot
// place falls back to the country the source gave.
func TestLocatePrecedence(t *testing.T) {
	paris := netip.MustParseAddr("192.0.2.1") // documentation: not public
	lyon := netip.MustParseAddr("8.8.4.4")
	e := New(Options{Locate: func(a netip.Addr) (string, float64, float64, bool) {
		switch a {
		case lyon:
			return "FR", 45.76, 4.84, true
		case paris:
			t.Errorf("a non-public address was looked up")
		}
		return "", 0, 0, false
	}})
	var r enrich.Result
	e.Enrich(signIn("alice", "8.8.4.4", "", t0), &r)
	ev := signIn("alice", "9.9.9.9", "FR", t0.Add(10*time.Hour))
	e.Enrich(ev, &r)
	frLat, frLon, _ := country.Centre("FR")
	want := distanceKm(45.76, 4.84, frLat, frLon)
	if got := num(t, ev, event.TravelDistanceKm); math.Abs(got-want) > 1 {
		t.Fatalf("distance %v, want %v (Lyon to the centre of France)", got, want)
	}
	e.Enrich(signIn("alice", "192.0.2.1", "FR", t0.Add(11*time.Hour)), &r)
}

// Failed sign-ins, other events and unplaceable addresses change nothing.
func TestOnlySuccessfulPlacedSignIns(t *testing.T) {
	e := New(Options{})
	var r enrich.Result
	failed := signIn("carol", "198.51.100.7", "US", t0)
	failed.Common[event.EventOutcome] = "failure"
	e.Enrich(failed, &r)
	other := signIn("carol", "198.51.100.7", "US", t0)
	other.Common[event.EventCategory] = "iam"
	e.Enrich(other, &r)
	e.Enrich(signIn("carol", "198.51.100.7", "", t0), &r) // nowhere
	if n := e.Len(); n != 0 {
		t.Fatalf("%d accounts remembered, want 0", n)
	}
	e.Enrich(signIn("carol", "198.51.100.7", "US", t0), &r)
	ev := signIn("carol", "198.51.100.8", "US", t0.Add(time.Second))
	e.Enrich(ev, &r)
	if d := num(t, ev, event.TravelDistanceKm); d != 0 {
		t.Fatalf("same country: %v km", d)
	}
	if s := num(t, ev, event.TravelSpeedKmh); s != 0 {
		t.Fatalf("same country: %v km/h", s)
	}
}

// Sign-ins seconds apart are measured over MinInterval, not divided by ~0;
// an older sign-in arriving late is compared but does not replace the
// newest.
func TestIntervalAndOrder(t *testing.T) {
	e := New(Options{MinInterval: time.Hour})
	var r enrich.Result
	e.Enrich(signIn("dave", "1.1.1.1", "DE", t0), &r)
	ev := signIn("dave", "1.1.1.2", "JP", t0.Add(time.Second))
	e.Enrich(ev, &r)
	d := num(t, ev, event.TravelDistanceKm)
	if s := num(t, ev, event.TravelSpeedKmh); math.Abs(s-d) > 1 {
		t.Fatalf("speed %v over a floor of one hour, want %v", s, d)
	}
	late := signIn("dave", "1.1.1.3", "DE", t0.Add(-time.Hour))
	e.Enrich(late, &r)
	if c := late.Common[event.TravelPreviousCountry]; c != "JP" {
		t.Fatalf("late event compared with %q, want the newest (JP)", c)
	}
	next := signIn("dave", "1.1.1.4", "JP", t0.Add(2*time.Hour))
	e.Enrich(next, &r)
	if c := next.Common[event.TravelPreviousCountry]; c != "JP" {
		t.Fatalf("the late event replaced the newest: previous %q", c)
	}
}

// Memory is bounded: the account seen longest ago goes first.
func TestBounded(t *testing.T) {
	e := New(Options{MaxAccounts: 3})
	var r enrich.Result
	for i, u := range []string{"a", "b", "c", "d"} {
		e.Enrich(signIn(u, "1.1.1.1", "DE", t0.Add(time.Duration(i)*time.Minute)), &r)
	}
	if n := e.Len(); n != 3 {
		t.Fatalf("%d accounts, want 3", n)
	}
	ev := signIn("a", "1.1.1.1", "JP", t0.Add(time.Hour))
	e.Enrich(ev, &r)
	if ev.Common[event.TravelSpeedKmh] != "" {
		t.Fatal("the oldest account was not forgotten")
	}
	ev = signIn("d", "1.1.1.1", "JP", t0.Add(time.Hour))
	e.Enrich(ev, &r)
	if ev.Common[event.TravelSpeedKmh] == "" {
		t.Fatal("a recent account was forgotten")
	}
}
