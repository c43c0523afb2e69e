package main

import (
	"fmt"
	"net/netip"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/assets"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/enrich/travel"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/feed"
)

// geoIPEmbedded names the built-in country database in --geoip and the
// geoip-databases setting.
const geoIPEmbedded = "embedded"

// openGeoIP opens the GeoIP databases named (in order of precedence);
// "embedded" is the built-in country database. None: nil.
func openGeoIP(paths []string) (*geoip.Enricher, error) {
	var dbs []*geoip.Database
	for _, p := range paths {
		var db *geoip.Database
		var err error
		if p == geoIPEmbedded {
			db, err = geoip.Default()
		} else {
			db, err = geoip.Open(p)
		}
		if err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
	}
	if len(dbs) == 0 {
		return nil, nil
	}
	return geoip.New(dbs...), nil
}

// newTravel returns the impossible-travel enricher, placing addresses with
// geo when there is one (else with the country the source gave).
func newTravel(geo *geoip.Enricher) *travel.Enricher {
	o := travel.Options{}
	if geo != nil {
		o.Locate = func(a netip.Addr) (string, float64, float64, bool) {
			r := geo.Locate(a)
			return r.Country, r.Lat, r.Lon, r.HasLocation
		}
	}
	return travel.New(o)
}

// loadScanIntel loads `vigil scan --intel` files (FILE or FORMAT:FILE,
// the format guessed when not named, as `vigil intel import` does) into
// one set, each file a feed named for its base name.
func loadScanIntel(files []string, problem func(intel.Problem)) (*intel.Set, int, error) {
	set := &intel.Set{}
	n, err := feed.LoadFiles(intelFormats(), set, files, 0, func(file string, p intel.Problem) {
		p.Where = file + ": " + p.Where
		problem(p)
	})
	return set, n, err
}

// scanEnrichment builds `vigil scan`'s enrichment chain from its flags,
// with more (the baselines) last. The impossible-travel enricher is always
// in it (it needs no flag: the sign-in sources name the country
// themselves; --geoip places the others).
func scanEnrichment(intelFiles, geoFiles []string, assetsFile string, problem func(intel.Problem), more ...enrich.Enricher) (*enrich.Chain, int, error) {
	var es []enrich.Enricher
	n := 0
	if len(intelFiles) > 0 {
		set, loaded, err := loadScanIntel(intelFiles, problem)
		if err != nil {
			return nil, 0, err
		}
		n = loaded
		es = append(es, indicators.New(set))
	}
	geo, err := openGeoIP(geoFiles)
	if err != nil {
		return nil, 0, fmt.Errorf("--geoip: %w", err)
	}
	if geo != nil {
		es = append(es, geo)
	}
	es = append(es, newTravel(geo))
	if assetsFile != "" {
		inv, err := assets.Load(assetsFile)
		if err != nil {
			return nil, 0, fmt.Errorf("--assets: %w", err)
		}
		es = append(es, assets.New(inv))
	}
	for _, m := range more {
		if m != nil {
			es = append(es, m)
		}
	}
	return enrich.NewChain(es...), n, nil
}
