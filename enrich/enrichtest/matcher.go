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

// Matcher is a map-backed intel.Matcher.
type Matcher struct {
	Values map[intel.Kind]map[string]*intel.Indicator
	Addrs  map[netip.Addr]*intel.Indicator
	Nets   []*intel.Indicator // KindCIDR
	nets   []netip.Prefix
}

// NewMatcher returns a Matcher of inds.
func NewMatcher(inds ...intel.Indicator) *Matcher {
	m := &Matcher{Values: map[intel.Kind]map[string]*intel.Indicator{}, Addrs: map[netip.Addr]*intel.Indicator{}}
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
		m.Nets = append(m.Nets, ind)
		m.nets = append(m.nets, netip.MustParsePrefix(ind.Value))
	default:
		if m.Values[ind.Kind] == nil {
			m.Values[ind.Kind] = map[string]*intel.Indicator{}
		}
		m.Values[ind.Kind][ind.Value] = ind
	}
}

// MatchIP implements intel.Matcher.
func (m *Matcher) MatchIP(a netip.Addr, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	if ind, ok := m.Addrs[a]; ok && ind.Live(now) {
		dst = append(dst, ind)
	}
	for i, p := range m.nets {
		if p.Contains(a) && m.Nets[i].Live(now) {
			dst = append(dst, m.Nets[i])
		}
	}
	return dst
}

// Match implements intel.Matcher.
func (m *Matcher) Match(k intel.Kind, v string, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
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
