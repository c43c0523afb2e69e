// Package travel is the impossible-travel enricher: it keeps, per account,
// the place and time of its last successful sign-in, and on the next one
// writes how far the account moved and how fast it would have had to
// travel (vigil.travel.distance_km, vigil.travel.speed_kmh) with the
// previous sign-in's country, address and time. Rules decide what speed is
// impossible (content/rules/entra_impossible_travel.yml).
//
// A sign-in is an event of category authentication with outcome success
// and a user name: Entra ID sign-ins, AWS console logins, and any other
// source whose decoder says so. Its place is, in order: coordinates from
// the GeoIP databases, coordinates the source gave (source.geo.location),
// or the centre of the country (from GeoIP or the source) when only the
// country is known. An account seen from an address nobody can place is
// left as it was.
//
// The enricher is stateful and must see every sign-in, not only those that
// raise a signal: it is an enrich.Detector, which the enrichment step runs
// on every event. Memory is bounded: past Options.MaxAccounts, the account
// seen longest ago is forgotten.
package travel

import (
	"container/list"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/country"
	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Locate places a public address: its country (ISO 3166-1 alpha-2) and,
// when known, its coordinates. The GeoIP enricher's Locate, adapted.
type Locate func(netip.Addr) (country string, lat, lon float64, hasLocation bool)

// Options configure an Enricher.
type Options struct {
	// Locate places addresses; nil: only what the source gave is used.
	Locate Locate
	// MaxAccounts bounds the accounts remembered (DefaultMaxAccounts when
	// 0).
	MaxAccounts int
	// MinInterval is the shortest time between two sign-ins a speed is
	// computed over (DefaultMinInterval when 0): sign-ins seconds apart
	// from two places would otherwise give an infinite speed.
	MinInterval time.Duration
}

// Defaults.
const (
	DefaultMaxAccounts = 100_000
	DefaultMinInterval = time.Minute
)

// Enricher computes travel between successive sign-ins. It is safe for
// concurrent use.
type Enricher struct {
	locate Locate
	max    int
	minIv  time.Duration

	mu    sync.Mutex
	byKey map[string]*list.Element // of *sighting
	order list.List                // most recently stored first
}

// sighting is one account's last successful sign-in.
type sighting struct {
	key      string
	at       time.Time
	lat, lon float64
	country  string
	ip       string
}

// New returns an Enricher.
func New(o Options) *Enricher {
	e := &Enricher{locate: o.Locate, max: o.MaxAccounts, minIv: o.MinInterval, byKey: map[string]*list.Element{}}
	if e.max <= 0 {
		e.max = DefaultMaxAccounts
	}
	if e.minIv <= 0 {
		e.minIv = DefaultMinInterval
	}
	return e
}

var fields = []string{
	"vigil.travel.distance_km", "vigil.travel.speed_kmh", "vigil.travel.previous_country",
	"vigil.travel.previous_ip", "vigil.travel.previous_time",
}

// Fields implements enrich.Enricher.
func (e *Enricher) Fields() []string { return fields }

// Detects marks the enricher as one the step runs on every event: its
// state must follow every sign-in.
func (e *Enricher) Detects() {}

// Len returns the number of accounts remembered.
func (e *Enricher) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.byKey)
}

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ev *event.Event, _ *enrich.Result) {
	com := &ev.Common
	if com[event.EventCategory] != "authentication" || com[event.EventOutcome] != "success" || ev.Time.IsZero() {
		return
	}
	acct := com[event.UserName]
	if acct == "" {
		return
	}
	cur, ok := e.place(ev)
	if !ok {
		return
	}
	cur.at = ev.Time
	prev, had := e.swap(strings.ToLower(acct), cur)
	if !had {
		return
	}
	km := distanceKm(prev.lat, prev.lon, cur.lat, cur.lon)
	dt := cur.at.Sub(prev.at).Abs()
	speed := km / max(dt, e.minIv).Hours()
	set := func(id int, v string) {
		if com[id] == "" {
			com[id] = v
		}
	}
	set(event.TravelDistanceKm, strconv.FormatFloat(math.Round(km), 'f', 0, 64))
	set(event.TravelSpeedKmh, strconv.FormatFloat(math.Round(speed), 'f', 0, 64))
	set(event.TravelPreviousCountry, prev.country)
	set(event.TravelPreviousIP, prev.ip)
	set(event.TravelPreviousTime, prev.at.UTC().Format(time.RFC3339))
}

// place locates the event's source: GeoIP coordinates, the source's own,
// then the country's centre.
func (e *Enricher) place(ev *event.Event) (sighting, bool) {
	com := &ev.Common
	s := sighting{country: com[event.SourceGeoCountryISOCode], ip: com[event.SourceIP]}
	if a, err := netip.ParseAddr(s.ip); err == nil && e.locate != nil {
		a = a.Unmap().WithZone("")
		if enrich.Scope(a) == enrich.ScopePublic {
			country, lat, lon, has := e.locate(a)
			if s.country == "" {
				s.country = country
			}
			if has {
				s.lat, s.lon = lat, lon
				return s.owned(), true
			}
		}
	}
	if lat, lon, ok := parseLocation(com[event.SourceGeoLocation]); ok {
		s.lat, s.lon = lat, lon
		return s.owned(), true
	}
	// A country's centre stands for the whole country when the GeoIP
	// databases give no coordinates (the embedded one is country-level):
	// sign-ins in two cities of one country are 0 km apart, and across
	// large neighbouring countries the distance is only roughly right —
	// the rule's thresholds leave room for that.
	lat, lon, ok := country.Centre(s.country)
	if !ok {
		return s, false
	}
	s.lat, s.lon = lat, lon
	return s.owned(), true
}

// owned copies the strings that alias the decoder's buffers: the sighting
// outlives the event.
func (s sighting) owned() sighting {
	s.country, s.ip = strings.ToUpper(strings.Clone(s.country)), strings.Clone(s.ip)
	return s
}

// swap returns the account's previous sighting and stores cur in its place
// unless cur is older (events out of order: the newest sign-in stays the
// reference).
func (e *Enricher) swap(key string, cur sighting) (sighting, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.byKey[key]; ok {
		s := el.Value.(*sighting)
		prev := *s
		if !cur.at.Before(s.at) {
			cur.key = key
			*s = cur
			e.order.MoveToFront(el)
		}
		return prev, true
	}
	cur.key = key
	e.byKey[key] = e.order.PushFront(&cur)
	for len(e.byKey) > e.max {
		old := e.order.Back()
		e.order.Remove(old)
		delete(e.byKey, old.Value.(*sighting).key)
	}
	return sighting{}, false
}

// parseLocation reads "lat,lon".
func parseLocation(s string) (lat, lon float64, ok bool) {
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return 0, 0, false
	}
	return lat, lon, true
}

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0

// distanceKm is the great-circle (haversine) distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
