package intel

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// index is one published state of a Set: immutable once built. Exact
// values live in two open-addressing hash tables (addresses; strings of
// every other kind) and CIDR ranges in sorted elementary intervals, one
// array per address family. Every part refers to the feeds' indicators by
// pointer, so the indicators themselves are stored once.
type index struct {
	feeds []*feed
	ips   ipTable
	strs  strTable
	v4    ranges4
	v6    ranges6
}

func build(feeds []*feed) *index {
	idx := &index{feeds: feeds}
	var nIP, nStr int
	var r4, r6 []rangeItem
	for _, f := range feeds {
		for i := range f.inds {
			ind := &f.inds[i]
			switch ind.Kind {
			case KindIP:
				nIP++
			case KindCIDR:
				p, err := netip.ParsePrefix(ind.Value)
				if err != nil {
					continue // Replace normalized it; cannot happen
				}
				if p.IsSingleIP() {
					nIP++
					continue
				}
				first, last := rangeOf(p)
				if p.Addr().Is4() {
					r4 = append(r4, rangeItem{first, last, ind})
				} else {
					r6 = append(r6, rangeItem{first, last, ind})
				}
			default:
				nStr++
			}
		}
	}
	idx.ips.init(nIP)
	idx.strs.init(nStr)
	for _, f := range feeds {
		for i := range f.inds {
			ind := &f.inds[i]
			switch ind.Kind {
			case KindIP:
				if a, err := netip.ParseAddr(ind.Value); err == nil {
					idx.ips.insert(keyOf(a), ind)
				}
			case KindCIDR:
				if p, err := netip.ParsePrefix(ind.Value); err == nil && p.IsSingleIP() {
					idx.ips.insert(keyOf(p.Addr()), ind)
				}
			default:
				idx.strs.insert(ind)
			}
		}
	}
	idx.v4 = buildRanges4(r4)
	idx.v6.starts, idx.v6.offs, idx.v6.refs = buildRanges(r6, u128{^uint64(0), ^uint64(0)})
	return idx
}

// u128 is an address as a number: IPv6 directly, IPv4 in its mapped form.
type u128 struct{ hi, lo uint64 }

func keyOf(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) compare(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) addOne() u128 {
	lo, carry := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + carry, lo}
}

// rangeOf is the first and last address of p as numbers; IPv4 ones in
// the low 32 bits, so that the IPv4 index can keep them in uint32.
func rangeOf(p netip.Prefix) (first, last u128) {
	first = keyOf(p.Addr())
	hostBits := p.Addr().BitLen() - p.Bits()
	if p.Addr().Is4() {
		first = u128{0, first.lo & 0xffffffff}
	}
	last = first
	switch {
	case hostBits >= 128:
		last = u128{^uint64(0), ^uint64(0)}
	case hostBits >= 64:
		last.lo = ^uint64(0)
		last.hi |= 1<<(hostBits-64) - 1
	default:
		last.lo |= 1<<hostBits - 1
	}
	return first, last
}

// mix spreads an address over 64 bits (a fixed finalizer: the tables are
// built from feeds, not from what is looked up, and stay at most half full).
func mix(k u128) uint64 {
	h := k.hi ^ bits.RotateLeft64(k.lo*0x9e3779b97f4a7c15, 31)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func tableSize(n int) int {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return size
}

// ipTable maps an address to its indicators. A slot holds 32 bits of the
// hash (checked before the key is read) and the index of the first
// indicator +1; indicators of the same address are chained by next.
type ipTable struct {
	slots []uint64
	keys  []u128
	refs  []*Indicator
	next  []uint32
	mask  uint64
}

func (t *ipTable) init(n int) {
	size := tableSize(n)
	t.slots = make([]uint64, size)
	t.mask = uint64(size - 1)
	t.keys = make([]u128, 0, n)
	t.refs = make([]*Indicator, 0, n)
	t.next = make([]uint32, 0, n)
}

func (t *ipTable) insert(k u128, ind *Indicator) {
	h := mix(k)
	tag := h >> 32
	r := uint32(len(t.refs))
	t.keys = append(t.keys, k)
	t.refs = append(t.refs, ind)
	t.next = append(t.next, 0)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = tag<<32 | uint64(r+1)
			return
		}
		if s>>32 == tag {
			if head := uint32(s) - 1; t.keys[head] == k {
				t.next[r] = t.next[head]
				t.next[head] = r + 1
				return
			}
		}
	}
}

func (t *ipTable) lookup(k u128, now time.Time, dst []*Indicator) []*Indicator {
	if len(t.refs) == 0 {
		return dst
	}
	h := mix(k)
	tag := h >> 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return dst
		}
		if s>>32 != tag {
			continue
		}
		r := uint32(s) - 1
		if t.keys[r] != k {
			continue
		}
		for {
			if ind := t.refs[r]; ind.Live(now) {
				dst = append(dst, ind)
			}
			if t.next[r] == 0 {
				return dst
			}
			r = t.next[r] - 1
		}
	}
}

// strTable maps (kind, normalized value) to indicators, as ipTable does;
// the key is read from the indicator itself.
type strTable struct {
	seed  maphash.Seed
	slots []uint64
	refs  []*Indicator
	next  []uint32
	mask  uint64
}

// kindSalt separates the kinds within the one table.
func kindSalt(k Kind) uint64 {
	switch k {
	case KindDomain:
		return 0x1d8e4e27c47d124f
	case KindURL:
		return 0x2b7e151628aed2a6
	case KindMD5:
		return 0x3c6ef372fe94f82b
	case KindSHA1:
		return 0x4a7484aa6ea6e483
	case KindSHA256:
		return 0x5be0cd19137e2179
	case KindEmail:
		return 0x6a09e667f3bcc908
	case KindUserAgent:
		return 0x7137449123ef65cd
	}
	return 0
}

func (t *strTable) init(n int) {
	size := tableSize(n)
	t.seed = maphash.MakeSeed()
	t.slots = make([]uint64, size)
	t.mask = uint64(size - 1)
	t.refs = make([]*Indicator, 0, n)
	t.next = make([]uint32, 0, n)
}

func (t *strTable) insert(ind *Indicator) {
	h := maphash.String(t.seed, ind.Value) ^ kindSalt(ind.Kind)
	tag := h >> 32
	r := uint32(len(t.refs))
	t.refs = append(t.refs, ind)
	t.next = append(t.next, 0)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = tag<<32 | uint64(r+1)
			return
		}
		if s>>32 == tag {
			if head := t.refs[uint32(s)-1]; head.Kind == ind.Kind && head.Value == ind.Value {
				hr := uint32(s) - 1
				t.next[r] = t.next[hr]
				t.next[hr] = r + 1
				return
			}
		}
	}
}

func (t *strTable) lookup(k Kind, v string, now time.Time, dst []*Indicator) []*Indicator {
	if len(t.refs) == 0 {
		return dst
	}
	return t.walk(maphash.String(t.seed, v)^kindSalt(k), k, v, now, dst)
}

func (t *strTable) lookupBytes(k Kind, v []byte, now time.Time, dst []*Indicator) []*Indicator {
	if len(t.refs) == 0 {
		return dst
	}
	h := maphash.Bytes(t.seed, v) ^ kindSalt(k)
	tag := h >> 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return dst
		}
		if s>>32 != tag {
			continue
		}
		r := uint32(s) - 1
		if head := t.refs[r]; head.Kind != k || head.Value != string(v) {
			continue
		}
		return t.chain(r, now, dst)
	}
}

func (t *strTable) walk(h uint64, k Kind, v string, now time.Time, dst []*Indicator) []*Indicator {
	tag := h >> 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return dst
		}
		if s>>32 != tag {
			continue
		}
		r := uint32(s) - 1
		if head := t.refs[r]; head.Kind != k || head.Value != v {
			continue
		}
		return t.chain(r, now, dst)
	}
}

func (t *strTable) chain(r uint32, now time.Time, dst []*Indicator) []*Indicator {
	for {
		if ind := t.refs[r]; ind.Live(now) {
			dst = append(dst, ind)
		}
		if t.next[r] == 0 {
			return dst
		}
		r = t.next[r] - 1
	}
}

// rangeItem is one CIDR indicator as the addresses it spans.
type rangeItem struct {
	first, last u128
	ind         *Indicator
}

// ranges4 and ranges6 cut the address space at every range's first
// address and the one after its last into elementary intervals; interval
// i starts at starts[i] and its indicators are refs[offs[i]:offs[i+1]] —
// every range covering it, so overlapping ranges all match.
type ranges4 struct {
	starts []uint32
	offs   []uint32
	refs   []*Indicator
}

type ranges6 struct {
	starts []u128
	offs   []uint32
	refs   []*Indicator
}

func buildRanges4(items []rangeItem) ranges4 {
	starts, offs, refs := buildRanges(items, u128{0, 0xffffffff})
	r := ranges4{starts: make([]uint32, len(starts)), offs: offs, refs: refs}
	for i, s := range starts {
		r.starts[i] = uint32(s.lo)
	}
	return r
}

func (r *ranges4) lookup(a uint32, now time.Time, dst []*Indicator) []*Indicator {
	lo, hi := 0, len(r.starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.starts[m] <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return dst
	}
	for _, ind := range r.refs[r.offs[lo-1]:r.offs[lo]] {
		if ind.Live(now) {
			dst = append(dst, ind)
		}
	}
	return dst
}

func (r *ranges6) lookup(a u128, now time.Time, dst []*Indicator) []*Indicator {
	lo, hi := 0, len(r.starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s := r.starts[m]; s.hi < a.hi || s.hi == a.hi && s.lo <= a.lo {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return dst
	}
	for _, ind := range r.refs[r.offs[lo-1]:r.offs[lo]] {
		if ind.Live(now) {
			dst = append(dst, ind)
		}
	}
	return dst
}

// buildRanges sweeps the ranges in order of first address (outer before
// inner at a tie). CIDR ranges either nest or are disjoint, so the ranges
// covering the sweep point form a stack. max is the family's last address.
func buildRanges(items []rangeItem, max u128) (starts []u128, offs []uint32, refs []*Indicator) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	slices.SortFunc(items, func(a, b rangeItem) int {
		if c := a.first.compare(b.first); c != 0 {
			return c
		}
		return b.last.compare(a.last)
	})
	type group struct {
		last u128
		refs []*Indicator
	}
	var stack []group
	emit := func(p u128) {
		if n := len(starts); n > 0 && starts[n-1] == p {
			refs = refs[:offs[n-1]]
		} else {
			starts = append(starts, p)
			offs = append(offs, uint32(len(refs)))
		}
		for _, g := range stack {
			refs = append(refs, g.refs...)
		}
	}
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.last != max {
			emit(top.last.addOne())
		}
	}
	// Indicators of one same range share a group: a range is cut once.
	g := make([]*Indicator, 0, len(items))
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j].first == items[i].first && items[j].last == items[i].last {
			g = append(g, items[j].ind)
			j++
		}
		for len(stack) > 0 && stack[len(stack)-1].last.less(items[i].first) {
			pop()
		}
		stack = append(stack, group{items[i].last, g[len(g)-(j-i):]})
		emit(items[i].first)
		i = j
	}
	for len(stack) > 0 {
		pop()
	}
	offs = append(offs, uint32(len(refs)))
	return starts, offs, refs
}
