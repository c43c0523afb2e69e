// Package enrich is the step between decode and match that adds context to
// an event: where its addresses are (GeoIP, AS), what intelligence knows of
// its observables (indicators), and which of the workspace's assets it
// touches. Every enricher has the same shape (Enricher), lives in its own
// package (enrich/geoip, enrich/indicators, enrich/assets) and writes its
// results twice: into the event's common fields, under ECS-like names that
// rules read like any field, and into a Result from which the alert's
// origin, assets and threat-intelligence alerts are built.
package enrich

import (
	"net/netip"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/intel"
)

// Enricher adds one kind of context to events. One Enricher is shared by
// every worker: Enrich must be safe for concurrent use (per-worker state,
// such as a cache, goes in the Result: Scratch, SetScratch).
type Enricher interface {
	// Fields names the common fields (ECS names) it may fill, so that the
	// step knows whether any rule reads them.
	Fields() []string
	// Enrich fills ev's fields and out from what ev holds. It leaves a
	// field the source set itself as it is.
	Enrich(ev *event.Event, out *Result)
}

// Detector is an Enricher whose findings are detections in themselves
// (intelligence matches raise alerts): the step runs it on every event,
// where other enrichers run only for events that rules read their fields
// on or that raised a signal.
type Detector interface {
	Enricher
	Detects()
}

// Learner is an Enricher that learns from events (behavioural baselines):
// it must see every event it Wants, whether or not a rule reads its fields
// and whether or not the event raised a signal, or its models would learn
// only from the events that alerted. The chain runs it, with the
// enrichers before it (whose fields it may read: a country, a network),
// before matching on the events it wants, and skips it on the others:
// Wants is its whole cost on an event it does not want.
type Learner interface {
	Enricher
	Wants(ev *event.Event) bool
}

// Geo is what is known of one address.
type Geo struct {
	IP          netip.Addr
	Scope       string // a Scope constant
	Country     string // ISO 3166-1 alpha-2
	CountryName string
	City        string
	Lat, Lon    float64
	HasLocation bool
	ASN         uint32
	ASOrg       string
}

// Scopes of an address. Only public addresses are looked up in GeoIP.
const (
	ScopePublic        = "public"
	ScopePrivate       = "private"       // RFC 1918, IPv6 unique local
	ScopeLoopback      = "loopback"      // 127/8, ::1
	ScopeLinkLocal     = "link_local"    // 169.254/16, fe80::/10
	ScopeCGNAT         = "cgnat"         // 100.64/10 (RFC 6598)
	ScopeDocumentation = "documentation" // TEST-NETs, 2001:db8::/32
	ScopeMulticast     = "multicast"
	ScopeReserved      = "reserved" // unspecified, 0/8, 240/4, broadcast, benchmarking
)

// Locator places an address without an event: the GeoIP enricher.
type Locator interface {
	Geo(a netip.Addr) Geo
}

// Match is an intelligence match on one of the event's observables.
type Match struct {
	Indicator *intel.Indicator // shared: never changed
	Field     string           // the event field the value was found in
	Value     string           // the event's value (an address inside a CIDR, a subdomain)
}

// Asset is an inventory entry the event touches.
type Asset struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // host, network, account, database, cloud_resource
	Criticality string   `json:"criticality,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	Environment string   `json:"environment,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Field       string   `json:"field,omitempty"` // the event field that matched
}

// Anomaly is what a behavioural baseline found new or rare on an event:
// Value, never (or rarely) seen for Entity in Model.
type Anomaly struct {
	Model  string
	Entity string // may alias the event's buffers: copy what outlives the event
	Value  string // idem
	Kind   string // "first_seen" or "rare"
	Seen   int    // times Value was seen before (rare)
}

// Result is what the enrichers found on one event. The step reuses it from
// event to event (Reset); what outlives the event must be copied.
type Result struct {
	// Now is the time indicators' validity is judged at.
	Now         time.Time
	Source      Geo
	Destination Geo
	Matches     []Match
	Assets      []Asset
	Anomalies   []Anomaly
	// scratch holds per-worker state of enrichers (a cache, buffers): a
	// few entries, found by a scan cheaper than a map's hashing.
	scratch []scratchEntry
}

type scratchEntry struct {
	e Enricher
	v any
}

// Scratch returns e's per-worker state in r, nil before SetScratch.
func (r *Result) Scratch(e Enricher) any {
	for i := range r.scratch {
		if r.scratch[i].e == e {
			return r.scratch[i].v
		}
	}
	return nil
}

// SetScratch keeps v as e's per-worker state.
func (r *Result) SetScratch(e Enricher, v any) {
	for i := range r.scratch {
		if r.scratch[i].e == e {
			r.scratch[i].v = v
			return
		}
	}
	r.scratch = append(r.scratch, scratchEntry{e, v})
}

// Reset clears r for the next event, keeping its storage.
func (r *Result) Reset(now time.Time) {
	r.Now = now
	r.Source, r.Destination = Geo{}, Geo{}
	r.Matches = r.Matches[:0]
	r.Assets = r.Assets[:0]
	r.Anomalies = r.Anomalies[:0]
}

// Found reports whether any enricher found something.
func (r *Result) Found() bool {
	return r.Source.IP.IsValid() || r.Destination.IP.IsValid() || len(r.Matches) > 0 || len(r.Assets) > 0 || len(r.Anomalies) > 0
}

// Chain is a workspace's enrichers, in order.
type Chain struct {
	all       []Enricher
	detectors []Enricher
	others    []Enricher
	learners  []Learner
	fields    []string
	// eager are the fields of the enrichers other than learners and
	// detectors: a rule reading one of them makes the whole chain run on
	// every event (detectors run on every event anyway).
	eager []string
	// signatures is the chain without its learners (Signatures).
	signatures *Chain
}

// NewChain returns the chain of es; nil enrichers are left out.
func NewChain(es ...Enricher) *Chain {
	c := &Chain{}
	for _, e := range es {
		if e == nil {
			continue
		}
		c.all = append(c.all, e)
		_, learner := e.(Learner)
		if _, ok := e.(Detector); ok {
			c.detectors = append(c.detectors, e)
		} else {
			c.others = append(c.others, e)
			if !learner {
				c.eager = append(c.eager, e.Fields()...)
			}
		}
		c.fields = append(c.fields, e.Fields()...)
		if learner {
			c.learners = append(c.learners, e.(Learner))
		}
	}
	c.signatures = c
	if len(c.learners) > 0 {
		var rest []Enricher
		for _, e := range c.all {
			if _, ok := e.(Learner); !ok {
				rest = append(rest, e)
			}
		}
		c.signatures = NewChain(rest...)
	}
	return c
}

// Signatures returns the chain without its learners: what a workspace
// whose tier runs signature rules only (free) is enriched by. It is made
// once with the chain: the same value on every call.
func (c *Chain) Signatures() *Chain {
	if c == nil {
		return nil
	}
	return c.signatures
}

// Learners returns the number of learners in the chain.
func (c *Chain) Learners() int {
	if c == nil {
		return 0
	}
	return len(c.learners)
}

// Learns reports whether a learner of the chain wants ev: then the chain
// runs whole on it before matching (Enrich), so that the learner sees it
// with the fields of the enrichers before it.
func (c *Chain) Learns(ev *event.Event) bool {
	for _, l := range c.learners {
		if l.Wants(ev) {
			return true
		}
	}
	return false
}

// Len returns the number of enrichers.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.all)
}

// Fields lists the fields the chain may fill.
func (c *Chain) Fields() []string { return c.fields }

// Detect runs the detectors (intelligence) on ev.
func (c *Chain) Detect(ev *event.Event, out *Result) {
	for _, e := range c.detectors {
		e.Enrich(ev, out)
	}
}

// Enrich runs the other enrichers (GeoIP, assets) on ev.
func (c *Chain) Enrich(ev *event.Event, out *Result) {
	for _, e := range c.others {
		e.Enrich(ev, out)
	}
}

// Reads reports whether d, the Dict of the fields rules read, names any
// field the chain's enrichers other than detectors and learners fill: then
// the whole chain runs before matching, on every event; otherwise only the
// detectors do (their fields are always there), and the others run for
// events that raised a signal (their alert's origin and assets) or that a
// learner wants. A learner's own fields do not count: it runs on every
// event it wants anyway, and only those can carry its fields.
func (c *Chain) Reads(d *event.Dict) bool {
	if c == nil || d == nil {
		return false
	}
	for _, f := range c.eager {
		if _, ok := d.ID(f); ok {
			return true
		}
	}
	return false
}

// Locate places a with the chain's first Locator (GeoIP); without one, only
// the address and its scope are known. A nil chain knows no Locator.
func (c *Chain) Locate(a netip.Addr) Geo {
	if c != nil {
		for _, e := range c.all {
			if l, ok := e.(Locator); ok {
				return l.Geo(a)
			}
		}
	}
	a = a.Unmap().WithZone("")
	return Geo{IP: a, Scope: Scope(a)}
}
