package feed

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

// Linear is a Set that compares a value with every indicator: right, and
// enough for a lookup from the command line or a test, but not for
// matching events at line rate, which is intel.Set's job.
type Linear struct {
	mu    sync.RWMutex
	feeds map[string][]intel.Indicator
}

// NewLinear returns an empty Linear.
func NewLinear() *Linear { return &Linear{feeds: map[string][]intel.Indicator{}} }

// Replace swaps a feed's indicators.
func (l *Linear) Replace(feed string, inds []intel.Indicator) {
	cp := append([]intel.Indicator(nil), inds...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(cp) == 0 {
		delete(l.feeds, feed)
		return
	}
	l.feeds[feed] = cp
}

// MatchIP appends the live indicators of address a and of the ranges
// holding it.
func (l *Linear) MatchIP(a netip.Addr, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	a = a.Unmap()
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, inds := range l.feeds {
		for i := range inds {
			in := &inds[i]
			if !in.Live(now) {
				continue
			}
			switch in.Kind {
			case intel.KindIP:
				if b, err := netip.ParseAddr(in.Value); err == nil && b.Unmap() == a {
					dst = append(dst, in)
				}
			case intel.KindCIDR:
				if p, err := netip.ParsePrefix(in.Value); err == nil && p.Contains(a) {
					dst = append(dst, in)
				}
			}
		}
	}
	return dst
}

// Match appends the live indicators of a value of kind k: a domain also
// matches the indicators of its parent domains; an address or range, those
// MatchIP gives.
func (l *Linear) Match(k intel.Kind, value string, now time.Time, dst []*intel.Indicator) []*intel.Indicator {
	switch k {
	case intel.KindIP:
		if a, err := netip.ParseAddr(value); err == nil {
			return l.MatchIP(a, now, dst)
		}
		return dst
	case intel.KindCIDR:
		if p, err := netip.ParsePrefix(value); err == nil && p.IsSingleIP() {
			return l.MatchIP(p.Addr(), now, dst)
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, inds := range l.feeds {
		for i := range inds {
			in := &inds[i]
			if in.Kind != k || !in.Live(now) {
				continue
			}
			if in.Value == value || k == intel.KindDomain && strings.HasSuffix(value, "."+in.Value) {
				dst = append(dst, in)
			}
		}
	}
	return dst
}
