package geoip

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/event"
)

// Enricher fills the geo and AS fields of an event's source and
// destination addresses from its databases, the first database that knows
// a part giving it. The database list is swapped atomically on reload:
// lookups in flight finish on the old list.
type Enricher struct {
	dbs   atomic.Pointer[databases]
	gen   atomic.Uint64
	seed  maphash.Seed
	fails atomic.Int64
}

type databases struct {
	list []*Database
	gen  uint64
}

// New returns an Enricher over dbs (in order of precedence).
func New(dbs ...*Database) *Enricher {
	e := &Enricher{seed: maphash.MakeSeed()}
	e.swap(dbs)
	return e
}

func (e *Enricher) swap(dbs []*Database) {
	gen := e.gen.Add(1)
	for _, db := range dbs {
		db.info.generation = gen
	}
	e.dbs.Store(&databases{list: dbs, gen: gen})
}

// Databases describes the databases in use.
func (e *Enricher) Databases() []Info {
	cur := e.dbs.Load()
	out := make([]Info, len(cur.list))
	for i, db := range cur.list {
		out[i] = db.info
	}
	return out
}

// Errors counts the lookups that failed on a malformed record.
func (e *Enricher) Errors() int64 { return e.fails.Load() }

var fields = []string{
	"source.geo.country_iso_code", "source.geo.country_name", "source.geo.city_name", "source.geo.location",
	"source.as.number", "source.as.organization.name",
	"destination.geo.country_iso_code", "destination.geo.country_name", "destination.geo.city_name", "destination.geo.location",
	"destination.as.number", "destination.as.organization.name",
}

// Fields implements enrich.Enricher.
func (e *Enricher) Fields() []string { return fields }

// side is where one address's results go.
type side struct {
	ip                                               int
	country, countryName, city, location, asn, asOrg int
}

var (
	source      = side{event.SourceIP, event.SourceGeoCountryISOCode, event.SourceGeoCountryName, event.SourceGeoCityName, event.SourceGeoLocation, event.SourceASNumber, event.SourceASOrganizationName}
	destination = side{event.DestinationIP, event.DestinationGeoCountryISOCode, event.DestinationGeoCountryName, event.DestinationGeoCityName, event.DestinationGeoLocation, event.DestinationASNumber, event.DestinationASOrganizationName}
)

// Enrich implements enrich.Enricher.
func (e *Enricher) Enrich(ev *event.Event, out *enrich.Result) {
	dbs := e.dbs.Load()
	c := e.cache(out)
	e.side(ev, source, &out.Source, dbs, c)
	e.side(ev, destination, &out.Destination, dbs, c)
}

func (e *Enricher) side(ev *event.Event, s side, g *enrich.Geo, dbs *databases, c *cache) {
	v := ev.Common[s.ip]
	if v == "" {
		return
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return // "-", a host name: nothing to locate
	}
	a = a.Unmap().WithZone("")
	g.IP, g.Scope = a, enrich.Scope(a)
	if g.Scope != enrich.ScopePublic {
		return
	}
	rec := e.lookup(a, dbs, c)
	g.Country, g.CountryName, g.City = rec.Country, rec.CountryName, rec.City
	g.Lat, g.Lon, g.HasLocation, g.ASN, g.ASOrg = rec.Lat, rec.Lon, rec.HasLocation, rec.ASN, rec.ASOrg
	set := func(id int, v string) {
		if v != "" && ev.Common[id] == "" {
			ev.Common[id] = v
		}
	}
	set(s.country, rec.Country)
	set(s.countryName, rec.CountryName)
	set(s.city, rec.City)
	if rec.HasLocation && ev.Common[s.location] == "" {
		ev.Common[s.location] = strconv.FormatFloat(rec.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(rec.Lon, 'f', -1, 64)
	}
	if rec.ASN != 0 && ev.Common[s.asn] == "" {
		ev.Common[s.asn] = strconv.FormatUint(uint64(rec.ASN), 10)
	}
	set(s.asOrg, rec.ASOrg)
}

// lookup merges the databases' records of a, through the worker's cache.
func (e *Enricher) lookup(a netip.Addr, dbs *databases, c *cache) Record {
	slot := &c.slots[maphash.Comparable(e.seed, a)&(cacheSize-1)]
	if slot.gen == dbs.gen && slot.addr == a {
		return slot.rec
	}
	var rec Record
	for _, db := range dbs.list {
		r, ok, err := db.Lookup(a)
		if err != nil {
			e.fails.Add(1)
			continue
		}
		if !ok {
			continue
		}
		merge(&rec, r)
	}
	*slot = cacheSlot{addr: a, gen: dbs.gen, rec: rec}
	return slot.rec
}

// Locate merges the databases' records of a, without the per-worker
// cache: for enrichers that look up a few addresses of their own (the
// travel enricher, on successful sign-ins only).
func (e *Enricher) Locate(a netip.Addr) Record {
	var rec Record
	for _, db := range e.dbs.Load().list {
		r, ok, err := db.Lookup(a)
		if err != nil {
			e.fails.Add(1)
			continue
		}
		if ok {
			merge(&rec, r)
		}
	}
	return rec
}

// Geo places a as the enrichment step does an event's address: its scope,
// and for a public address what the databases know of it. It serves
// signals that name an address but have no event of their own
// (correlations: enrich.Chain.Locate).
func (e *Enricher) Geo(a netip.Addr) enrich.Geo {
	a = a.Unmap().WithZone("")
	g := enrich.Geo{IP: a, Scope: enrich.Scope(a)}
	if g.Scope != enrich.ScopePublic {
		return g
	}
	r := e.Locate(a)
	g.Country, g.CountryName, g.City = r.Country, r.CountryName, r.City
	g.Lat, g.Lon, g.HasLocation = r.Lat, r.Lon, r.HasLocation
	g.ASN, g.ASOrg = r.ASN, r.ASOrg
	return g
}

// merge fills the parts of dst that are unknown from r.
func merge(dst *Record, r Record) {
	if dst.Country == "" {
		dst.Country, dst.CountryName = r.Country, r.CountryName
	} else if dst.CountryName == "" && r.Country == dst.Country {
		dst.CountryName = r.CountryName
	}
	if dst.City == "" {
		dst.City = r.City
	}
	if !dst.HasLocation && r.HasLocation {
		dst.Lat, dst.Lon, dst.HasLocation = r.Lat, r.Lon, true
	}
	if dst.ASN == 0 {
		dst.ASN, dst.ASOrg = r.ASN, r.ASOrg
	}
}

// A small direct-mapped cache per worker: attackers, scanners and the
// busiest peers repeat, and a hit costs a hash and a compare where a
// lookup walks the tree and decodes a record.
const cacheSize = 1024

type cache struct{ slots [cacheSize]cacheSlot }

type cacheSlot struct {
	addr netip.Addr
	gen  uint64
	rec  Record
}

func (e *Enricher) cache(out *enrich.Result) *cache {
	if c, ok := out.Scratch(e).(*cache); ok {
		return c
	}
	c := &cache{}
	out.SetScratch(e, c)
	return c
}

// Follow reloads the databases opened from files when a file changes
// (size or modification time), checking every interval until ctx ends. A
// file that fails to load is logged and the database in use is kept.
func (e *Enricher) Follow(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := e.Reload(); err != nil {
			log.Warn("geoip database not reloaded", "err", err)
		} else if n > 0 {
			for _, i := range e.Databases() {
				log.Info("geoip database in use", "path", i.Path, "type", i.Type, "built", i.Built)
			}
		}
	}
}

// Reload re-opens the file databases that changed on disk and swaps the
// new list in; it returns how many were reloaded. A database that fails
// to open keeps its old copy and is named in the error.
func (e *Enricher) Reload() (int, error) {
	cur := e.dbs.Load()
	next := make([]*Database, len(cur.list))
	copy(next, cur.list)
	n := 0
	var errs []error
	for i, db := range cur.list {
		if db.info.embeddedCopy {
			continue
		}
		st, err := os.Stat(db.info.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Size() == db.info.size && st.ModTime().Equal(db.info.modTime) {
			continue
		}
		fresh, err := Open(db.info.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[i] = fresh
		n++
	}
	if n > 0 {
		e.swap(next)
	}
	return n, errors.Join(errs...)
}
