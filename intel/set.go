package intel

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Set is the loaded intelligence that events are matched against: every
// feed's indicators in one immutable index. Matching reads the index
// through an atomic pointer and never waits; Replace and Remove build a
// new index off to the side and publish it whole, so a lookup sees a feed
// either entirely before or entirely after a refresh. The zero Set is
// empty and ready to use.
type Set struct {
	mu  sync.Mutex // serializes writers only
	cur atomic.Pointer[index]
}

// FeedStats is what a Set holds of one feed.
type FeedStats struct {
	Feed   string
	Total  int
	ByKind map[Kind]int
	// Live counts the indicators that match at the time Stats was asked
	// (not revoked, not expired).
	Live   int
	Loaded time.Time
}

// feed is one feed's indicators as last given to Replace.
type feed struct {
	name   string
	recs   []rec
	loaded time.Time
}

// MaxRejected bounds the problems a ReplaceError lists.
const MaxRejected = 20

// ReplaceError reports the indicators Replace refused; the others were
// loaded.
type ReplaceError struct {
	Feed     string
	Rejected int
	First    []error // up to MaxRejected, each naming the index, kind and value
}

func (e *ReplaceError) Error() string {
	return fmt.Sprintf("feed %s: %d indicators refused, first: %v", e.Feed, e.Rejected, errors.Join(e.First...))
}

func (e *ReplaceError) Unwrap() []error { return e.First }

// Replace makes inds the indicators of feed, replacing what the feed had,
// and publishes the result atomically: until it returns, lookups see the
// feed's previous indicators. inds is copied and not changed; values are
// normalized (Normalize), times kept to the microsecond in UTC, and Feed
// set to feed. An indicator whose value is not valid for its kind is
// dropped and reported in a *ReplaceError; the rest are loaded. An empty
// inds leaves the feed known with no indicators.
func (s *Set) Replace(feedName string, inds []Indicator) error {
	var rerr *ReplaceError
	recs := make([]rec, 0, len(inds))
	adviseHugePages(recs)
	c := recorder{feed: feedName, metas: map[string]*meta{}}
	for i := range inds {
		ind := &inds[i]
		v, err := Normalize(ind.Kind, ind.Value)
		if err != nil {
			if rerr == nil {
				rerr = &ReplaceError{Feed: feedName}
			}
			rerr.Rejected++
			if len(rerr.First) < MaxRejected {
				rerr.First = append(rerr.First, fmt.Errorf("indicator %d: %w", i, err))
			}
			continue
		}
		recs = recs[:len(recs)+1]
		c.record(&recs[len(recs)-1], ind, v)
	}
	nf := &feed{name: feedName, recs: slices.Clip(recs), loaded: time.Now()}

	s.mu.Lock()
	defer s.mu.Unlock()
	var feeds []*feed
	if old := s.cur.Load(); old != nil {
		for _, f := range old.feeds {
			if f.name != feedName {
				feeds = append(feeds, f)
			}
		}
	}
	feeds = append(feeds, nf)
	slices.SortFunc(feeds, func(a, b *feed) int { return cmp.Compare(a.name, b.name) })
	s.cur.Store(build(feeds))
	if rerr != nil {
		return rerr
	}
	return nil
}

// Remove drops a feed and its indicators; false if the Set had no such
// feed.
func (s *Set) Remove(feedName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	if old == nil {
		return false
	}
	var feeds []*feed
	found := false
	for _, f := range old.feeds {
		if f.name == feedName {
			found = true
			continue
		}
		feeds = append(feeds, f)
	}
	if found {
		s.cur.Store(build(feeds))
	}
	return found
}

// Feeds lists the feeds the Set holds, by name.
func (s *Set) Feeds() []string {
	idx := s.cur.Load()
	if idx == nil {
		return nil
	}
	names := make([]string, len(idx.feeds))
	for i, f := range idx.feeds {
		names[i] = f.name
	}
	return names
}

// Len is the number of indicators loaded, live or not.
func (s *Set) Len() int {
	idx := s.cur.Load()
	if idx == nil {
		return 0
	}
	n := 0
	for _, f := range idx.feeds {
		n += len(f.recs)
	}
	return n
}

// Stats counts each feed's indicators by kind, and those live at now.
func (s *Set) Stats(now time.Time) []FeedStats {
	idx := s.cur.Load()
	if idx == nil {
		return nil
	}
	out := make([]FeedStats, 0, len(idx.feeds))
	for _, f := range idx.feeds {
		st := FeedStats{Feed: f.name, Total: len(f.recs), ByKind: map[Kind]int{}, Loaded: f.loaded}
		for i := range f.recs {
			st.ByKind[kinds[f.recs[i].kind]]++
			if f.recs[i].live(now.UnixMicro()) {
				st.Live++
			}
		}
		out = append(out, st)
	}
	return out
}

// MatchIP appends the live indicators a is, or falls within: exact
// addresses and every CIDR range holding it, of every feed. An
// IPv4-mapped IPv6 address is looked up as IPv4.
func (s *Set) MatchIP(a netip.Addr, now time.Time, dst []*Indicator) []*Indicator {
	idx := s.cur.Load()
	if idx == nil || !a.IsValid() {
		return dst
	}
	a = a.Unmap()
	key, t := keyOf(a), now.UnixMicro()
	if a.Is4() {
		if !idx.listed4(uint32(key.lo)) {
			return dst
		}
		dst = idx.ips4.lookup(uint32(key.lo), t, dst)
		return idx.v4.lookup(u128{0, key.lo & 0xffffffff}, t, dst)
	}
	if !idx.listed6(key) {
		return dst
	}
	dst = idx.ips.lookup(key, t, dst)
	return idx.v6.lookup(key, t, dst)
}

// lookupBufSize is the longest value Match normalizes in a buffer on the
// stack; a longer one (a URL with a long query) uses a pooled buffer.
const lookupBufSize = 512

var longBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Match appends the live indicators of kind k that value falls under. The
// value is normalized as Normalize does (a value that is not valid for the
// kind matches nothing): a domain matches its own indicators and those of
// each parent domain ("a.b.evil.com" matches "evil.com"); ip and cidr
// parse the value as an address and match as MatchIP, except that a
// cidr value with a prefix length matches the ranges holding all of it;
// the other kinds match exactly.
func (s *Set) Match(k Kind, value string, now time.Time, dst []*Indicator) []*Indicator {
	idx := s.cur.Load()
	if idx == nil {
		return dst
	}
	switch k {
	case KindIP:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return dst
		}
		return s.MatchIP(a, now, dst)
	case KindCIDR:
		return s.matchPrefix(value, now, dst)
	}
	kn := kind8(k)
	if idx.strKinds&(1<<kn) == 0 || idx.hashes.skip(kn, value) {
		return dst // no indicator of the kind, or not this hash
	}
	if k == KindUserAgent {
		return idx.strs.lookup(k, value, now.UnixMicro(), dst)
	}
	t := now.UnixMicro()
	if len(value) < lookupBufSize-8 {
		var buf [lookupBufSize]byte
		b, err := appendNormal(buf[:0], k, value)
		if err != nil {
			return dst
		}
		return idx.matchNormal(k, b, t, dst)
	}
	bp := longBufs.Get().(*[]byte)
	b, err := appendNormal((*bp)[:0], k, value)
	if err == nil {
		dst = idx.matchNormal(k, b, t, dst)
	}
	*bp = b[:0]
	longBufs.Put(bp)
	return dst
}

// matchNormal looks up a normalized string value; a domain is looked up
// with every suffix that starts a label, down to the second-level domain
// (a top-level domain alone is never indexed).
func (idx *index) matchNormal(k Kind, b []byte, t int64, dst []*Indicator) []*Indicator {
	if k != KindDomain {
		return idx.strs.lookupBytes(k, b, t, dst)
	}
	n := countLabels(b)
	for i := 0; ; n-- {
		if idx.domainLabels&labelBit(n) != 0 {
			dst = idx.strs.lookupBytes(KindDomain, b[i:], t, dst)
		}
		j := indexDot(b[i:])
		if j < 0 {
			break
		}
		i += j + 1
		if indexDot(b[i:]) < 0 {
			break
		}
	}
	return dst
}

func indexDot(b []byte) int {
	for i, c := range b {
		if c == '.' {
			return i
		}
	}
	return -1
}

// matchPrefix finds the indicators covering a whole prefix: its first
// address's matches, less those narrower than the prefix. It allocates;
// it serves lookups by hand, not the event path.
func (s *Set) matchPrefix(value string, now time.Time, dst []*Indicator) []*Indicator {
	p, err := parseCIDR(value)
	if err != nil {
		return dst
	}
	n := len(dst)
	dst = s.MatchIP(p.Addr(), now, dst)
	kept := dst[:n]
	for _, ind := range dst[n:] {
		q, err := parseCIDR(ind.Value)
		if err == nil && q.Bits() <= p.Bits() {
			kept = append(kept, ind)
		}
	}
	return kept
}
