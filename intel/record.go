package intel

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// rec is how a Set keeps one indicator: about a quarter of an Indicator's
// size, with what matching reads (kind, value, validity) in one place so
// that a lookup touches one record. The feed-wide fields live once per
// distinct combination in a meta. The Indicator that matches hand out is
// built from the record the first time it matches and kept in cached, so
// each indicator allocates once in its life, never on every lookup.
type rec struct {
	value  string
	until  int64 // ValidUntil in Unix µs (times are kept to the µs, in UTC)
	first  int64 // FirstSeen, LastSeen in Unix µs
	last   int64
	meta   *meta
	cached atomic.Pointer[Indicator]
	conf   int32
	kind   kindNo
	flags  uint8
}

const (
	recRevoked  = 1 << iota
	recHasUntil // until is set (it may be 0 µs: the epoch)
	recHasFirst // first is set (a zero FirstSeen stays zero)
	recHasLast
)

// kindNo is a Kind as a small number, for the records.
type kindNo uint8

var kinds = [...]Kind{"", KindIP, KindCIDR, KindDomain, KindURL, KindMD5, KindSHA1, KindSHA256, KindEmail, KindUserAgent}

func kind8(k Kind) kindNo {
	for i, kk := range kinds {
		if i > 0 && kk == k {
			return kindNo(i)
		}
	}
	return 0
}

// meta is what indicators of a feed usually share.
type meta struct {
	threatType, threat, feed, tlp, description, ref string
	tags                                            []string
}

func (m *meta) key() string {
	return strings.Join(append([]string{m.threatType, m.threat, m.tlp, m.description, m.ref}, m.tags...), "\x00")
}

// live is Indicator.Live on the record, at now in Unix µs.
func (r *rec) live(now int64) bool {
	return r.flags&recRevoked == 0 && (r.flags&recHasUntil == 0 || now < r.until)
}

// indicator is the record as an Indicator, built once.
func (r *rec) indicator() *Indicator {
	if ind := r.cached.Load(); ind != nil {
		return ind
	}
	m := r.meta
	ind := &Indicator{
		Kind: kinds[r.kind], Value: r.value, ThreatType: m.threatType, Threat: m.threat,
		Confidence: int(r.conf), Feed: m.feed, Revoked: r.flags&recRevoked != 0,
		TLP: m.tlp, Description: m.description, Ref: m.ref, Tags: m.tags,
	}
	if r.flags&recHasFirst != 0 {
		ind.FirstSeen = time.UnixMicro(r.first).UTC()
	}
	if r.flags&recHasLast != 0 {
		ind.LastSeen = time.UnixMicro(r.last).UTC()
	}
	if r.flags&recHasUntil != 0 {
		ind.ValidUntil = time.UnixMicro(r.until).UTC()
	}
	if r.cached.CompareAndSwap(nil, ind) {
		return ind
	}
	return r.cached.Load()
}

// appendLive appends r's indicator if it is live at now.
func appendLive(dst []*Indicator, r *rec, now int64) []*Indicator {
	if r.live(now) {
		dst = append(dst, r.indicator())
	}
	return dst
}

// recorder converts a feed's indicators to records, sharing metas.
type recorder struct {
	feed  string
	metas map[string]*meta
	last  *meta
}

func (c *recorder) record(r *rec, ind *Indicator, value string) {
	m := c.last
	if m == nil || m.threatType != ind.ThreatType || m.threat != ind.Threat || m.tlp != ind.TLP ||
		m.description != ind.Description || m.ref != ind.Ref || !slices.Equal(m.tags, ind.Tags) {
		// Not the same as the previous indicator's (the usual case in a feed).
		nm := meta{threatType: ind.ThreatType, threat: ind.Threat, feed: c.feed, tlp: ind.TLP,
			description: ind.Description, ref: ind.Ref, tags: ind.Tags}
		key := nm.key()
		if shared, ok := c.metas[key]; ok {
			m = shared
		} else {
			nm.tags = slices.Clone(nm.tags) // the caller's slice stays the caller's
			m = &nm
			c.metas[key] = m
		}
		c.last = m
	}
	r.value, r.meta, r.conf, r.kind = value, m, int32(ind.Confidence), kind8(ind.Kind)
	if ind.Revoked {
		r.flags |= recRevoked
	}
	if !ind.ValidUntil.IsZero() {
		r.flags |= recHasUntil
		r.until = ind.ValidUntil.UnixMicro()
	}
	if !ind.FirstSeen.IsZero() {
		r.flags |= recHasFirst
		r.first = ind.FirstSeen.UnixMicro()
	}
	if !ind.LastSeen.IsZero() {
		r.flags |= recHasLast
		r.last = ind.LastSeen.UnixMicro()
	}
}
