// Package enrichtest holds a small intel.Matcher for tests of the
// enrichment step, standing in for the real indicator set: exact values in
// maps, CIDR ranges in a list, domains matched with their parents.
package enrichtest

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// Matcher is a map-backed intel.Matcher: one map per CIDR prefix length,
// so a lookup costs a map probe per length in use.
type Matcher struct {
	Values map[intel.Kind]map[string]*intel.Indicator
	Addrs  map[netip.Addr]*intel.Indicator
	nets   map[int]map[netip.Prefix]*intel.Indicator
	bits   []int
}

// NewMatcher returns a Matcher of inds.
func NewMatcher(inds ...intel.Indicator) *Matcher {
	m := &Matcher{Values: map[intel.Kind]map[string]*intel.Indicator{}, Addrs: map[netip.Addr]*intel.Indicator{},
		nets: map[int]map[netip.Prefix]*intel.Indicator{}}
	for i := range inds {
		m.Add(&inds[i])
	}
	return m
}

// Add adds one indicator.
func (m *Matcher) Add(ind *intel.Indicator) {
	switch ind.Kind {
	case intel.KindIP:
		m.Addrs[netip.MustParseAddr(ind.Value)] = ind
	case intel.KindCIDR:
		p := netip.MustParsePrefix(ind.Value).Masked()
		if m.nets[p.Bits()] == nil {
			m.nets[p.Bits()] = map[netip.Prefix]*intel.Indicator{}
			m.bits = append(m.bits, p.Bits())
		}
		m.nets[p.Bits()][p] = ind
	default:
		if m.Values[ind.Kind] == nil {
			m.Values[ind.Kind] = map[string]*intel.Indicator{}
		}
		v, err := intel.Normalize(ind.Kind, ind.Value)
		if err != nil {
			panic(err)
		}
		m.Values[ind.Kind][v] = ind
	}
}

// MatchIP implements intel.Matcher.
func (m *Matcher) MatchIP(a netip.Addr, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	if ind, ok := m.Addrs[a]; ok && ind.Live(now) {
		dst = append(dst, ind)
	}
	for _, bits := range m.bits {
		if bits > a.BitLen() {
			continue
		}
		p, _ := a.Prefix(bits)
		if ind, ok := m.nets[bits][p]; ok && ind.Live(now) {
			dst = append(dst, ind)
		}
	}
	return dst
}

// Match implements intel.Matcher: v is normalized first, as the real
// set does (hashes in either case, domains and e-mail domains lowercased).
func (m *Matcher) Match(k intel.Kind, v string, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	v, err := intel.Normalize(k, v)
	if err != nil {
		return dst
	}
	vs := m.Values[k]
	for {
		if ind, ok := vs[v]; ok && ind.Live(now) {
			dst = append(dst, ind)
		}
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
