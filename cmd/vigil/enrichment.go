package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/assets"
	"github.com/vigil-sec/vigil/enrich/geoip"
	"github.com/vigil-sec/vigil/enrich/indicators"
	"github.com/vigil-sec/vigil/intel"
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

// readIntelFile reads one intelligence file into indicators, reporting
// each line it cannot read. Plain lists only for now: one IP, CIDR range,
// domain, URL, hash or e-mail address a line, `#` and `;` comments.
// Integration point: the feed parsers of intel/list, intel/stix and
// intel/misp (intel.Parser) plug in here by the file's content.
func readIntelFile(path string, problem func(intel.Problem)) ([]intel.Indicator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--intel: %w", err)
	}
	defer f.Close()
	feed := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var out []intel.Indicator
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		v := strings.TrimSpace(line)
		if v == "" {
			continue
		}
		if f := strings.Fields(v); len(f) > 1 {
			v = f[0] // "1.2.3.0/24 SBL123": the value, then remarks
		}
		ind, ok := plainIndicator(v)
		if !ok {
			problem(intel.Problem{Where: fmt.Sprintf("%s:%d", path, n), Reason: fmt.Sprintf("%q is not an address, range, domain, URL, hash or e-mail address", v)})
			continue
		}
		ind.Feed, ind.ThreatType, ind.Confidence = feed, intel.ThreatUnknown, 50
		out = append(out, ind)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("--intel %s: %w", path, err)
	}
	return out, nil
}

// plainIndicator tells a plain list value's kind and normalizes it.
func plainIndicator(v string) (intel.Indicator, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return intel.Indicator{Kind: intel.KindIP, Value: a.Unmap().String()}, true
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		p = p.Masked()
		if p.IsSingleIP() {
			return intel.Indicator{Kind: intel.KindIP, Value: p.Addr().String()}, true
		}
		return intel.Indicator{Kind: intel.KindCIDR, Value: p.String()}, true
	}
	if strings.Contains(v, "://") {
		return intel.Indicator{Kind: intel.KindURL, Value: v}, true
	}
	low := strings.ToLower(v)
	if isHex(low) {
		switch len(low) {
		case 32:
			return intel.Indicator{Kind: intel.KindMD5, Value: low}, true
		case 40:
			return intel.Indicator{Kind: intel.KindSHA1, Value: low}, true
		case 64:
			return intel.Indicator{Kind: intel.KindSHA256, Value: low}, true
		}
	}
	if at := strings.IndexByte(low, '@'); at > 0 && strings.IndexByte(low[at+1:], '.') > 0 {
		return intel.Indicator{Kind: intel.KindEmail, Value: low}, true
	}
	if strings.IndexByte(low, '.') > 0 && !strings.ContainsAny(low, " /\\:@") {
		return intel.Indicator{Kind: intel.KindDomain, Value: strings.TrimSuffix(low, ".")}, true
	}
	return intel.Indicator{}, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(s) > 0
}

// scanIntel is the matcher `vigil scan` loads its --intel files into: maps
// for exact values, one map per prefix length for ranges. Integration
// point: the indicator set of package intel replaces it.
type scanIntel struct {
	addrs  map[netip.Addr][]*intel.Indicator
	nets   map[int]map[netip.Prefix][]*intel.Indicator
	values map[intel.Kind]map[string][]*intel.Indicator
}

func newScanIntel(inds []intel.Indicator) *scanIntel {
	m := &scanIntel{addrs: map[netip.Addr][]*intel.Indicator{}, nets: map[int]map[netip.Prefix][]*intel.Indicator{}, values: map[intel.Kind]map[string][]*intel.Indicator{}}
	for i := range inds {
		ind := &inds[i]
		switch ind.Kind {
		case intel.KindIP:
			a := netip.MustParseAddr(ind.Value)
			m.addrs[a] = append(m.addrs[a], ind)
		case intel.KindCIDR:
			p := netip.MustParsePrefix(ind.Value)
			if m.nets[p.Bits()] == nil {
				m.nets[p.Bits()] = map[netip.Prefix][]*intel.Indicator{}
			}
			m.nets[p.Bits()][p] = append(m.nets[p.Bits()][p], ind)
		default:
			if m.values[ind.Kind] == nil {
				m.values[ind.Kind] = map[string][]*intel.Indicator{}
			}
			m.values[ind.Kind][ind.Value] = append(m.values[ind.Kind][ind.Value], ind)
		}
	}
	return m
}

func live(dst []*intel.Indicator, inds []*intel.Indicator, now time.Time) []*intel.Indicator {
	for _, ind := range inds {
		if ind.Live(now) {
			dst = append(dst, ind)
		}
	}
	return dst
}

func (m *scanIntel) MatchIP(a netip.Addr, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	dst = live(dst, m.addrs[a], now)
	for bits, nets := range m.nets {
		if bits > a.BitLen() {
			continue
		}
		if p, err := a.Prefix(bits); err == nil {
			dst = live(dst, nets[p], now)
		}
	}
	return dst
}

func (m *scanIntel) Match(k intel.Kind, v string, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	vs := m.values[k]
	if vs == nil {
		return dst
	}
	for {
		dst = live(dst, vs[v], now)
		if k != intel.KindDomain {
			return dst
		}
		_, parent, ok := strings.Cut(v, ".")
		if !ok {
			return dst
		}
		v = parent
	}
}

// scanEnrichment builds `vigil scan`'s enrichment chain from its flags;
// nil when none is given.
func scanEnrichment(intelFiles, geoFiles []string, assetsFile string, problem func(intel.Problem)) (*enrich.Chain, int, error) {
	var es []enrich.Enricher
	n := 0
	if len(intelFiles) > 0 {
		var all []intel.Indicator
		for _, p := range intelFiles {
			inds, err := readIntelFile(p, problem)
			if err != nil {
				return nil, 0, err
			}
			all = append(all, inds...)
		}
		n = len(all)
		es = append(es, indicators.New(newScanIntel(all)))
	}
	geo, err := openGeoIP(geoFiles)
	if err != nil {
		return nil, 0, fmt.Errorf("--geoip: %w", err)
	}
	if geo != nil {
		es = append(es, geo)
	}
	if assetsFile != "" {
		inv, err := assets.Load(assetsFile)
		if err != nil {
			return nil, 0, fmt.Errorf("--assets: %w", err)
		}
		es = append(es, assets.New(inv))
	}
	if len(es) == 0 {
		return nil, 0, nil
	}
	return enrich.NewChain(es...), n, nil
}
