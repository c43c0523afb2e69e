package intel

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"slices"
)

// index is one published state of a Set: immutable once built. Exact
// values live in two open-addressing hash tables (addresses; strings of
// every other kind) and CIDR ranges in sorted elementary intervals, one
// array per address family. Every part points at the feeds' records, so
// each indicator is stored once.
type index struct {
	feeds []*feed
	ips4  ip4Table
	ips   ipTable // IPv6 addresses
	strs  strTable
	v4    ranges
	v6    ranges
	// blocks4 has a bit for every IPv4 /24 that holds a listed address or
	// part of a listed range: most addresses events carry are in none, and
	// one read of this 2 MiB bitmap answers them. nil for small sets.
	blocks4 []uint64
	// blocks6 is the same for IPv6, a bit for a hash of each /32 that holds
	// a listed address or part of a listed range (a 256 KiB bitmap, so that
	// it stays in cache): an unlisted address skips the hash table and the
	// ranges' search unless its /32 shares a bit with a listed one. nil
	// for small sets and for sets with an IPv6 range wider than a /20.
	blocks6 []uint64
	// domainLabels has bit n set when a listed domain has n labels (n ≥ 63
	// at bit 63): a domain looked up is tried only with the suffixes of a
	// length something is listed at, each try being a likely cache miss.
	domainLabels uint64
	// strKinds has bit n set when strs holds a value of kindNo n: a kind
	// no feed lists is not looked up at all.
	strKinds uint16
	hashes   hashFilter
}

// labelBit is the domainLabels bit of a domain of n labels.
func labelBit(n int) uint64 { return 1 << min(n, 63) }

// countLabels counts the labels of a normalized domain.
func countLabels(b []byte) int {
	n := 1
	for _, c := range b {
		if c == '.' {
			n++
		}
	}
	return n
}

// blocks4Min is the IPv4 entries from which a set keeps blocks4, and the
// IPv6 entries from which it keeps blocks6.
const blocks4Min = 4096

// blocks6Bits is the bits of blocks6's index; blocks6Widest the widest
// IPv6 range it takes (marking one bit for each /32 the range spans).
const (
	blocks6Bits   = 21
	blocks6Widest = 20
)

// block6 is the blocks6 bit of a /32 (the address's top 32 bits).
func block6(top uint32) uint32 {
	return uint32(uint64(top)*0x9e3779b97f4a7c15>>32) >> (32 - blocks6Bits)
}

// listed6 reports whether a (an IPv6 address as a number) may be listed.
func (idx *index) listed6(a u128) bool {
	if idx.blocks6 == nil {
		return true
	}
	b := block6(uint32(a.hi >> 32))
	return idx.blocks6[b>>6]&(1<<(b&63)) != 0
}

func (idx *index) markBlocks6(first, last uint32) {
	for t := first; ; t++ {
		b := block6(t)
		idx.blocks6[b>>6] |= 1 << (b & 63)
		if t == last {
			return
		}
	}
}

// listed4 reports whether v (an IPv4 address) may be listed.
func (idx *index) listed4(v uint32) bool {
	if idx.blocks4 == nil {
		return true
	}
	b := v >> 8
	return idx.blocks4[b>>6]&(1<<(b&63)) != 0
}

func (idx *index) markBlocks4(first, last uint32) {
	for b := first >> 8; ; b++ {
		idx.blocks4[b>>6] |= 1 << (b & 63)
		if b == last>>8 {
			return
		}
	}
}

func build(feeds []*feed) *index {
	idx := &index{feeds: feeds}
	var nIP4, nIP, nStr, nHash int
	countIP := func(a netip.Addr) {
		if a.Is4() {
			nIP4++
		} else {
			nIP++
		}
	}
	var r4, r6 []rangeItem
	for _, f := range feeds {
		for i := range f.recs {
			r := &f.recs[i]
			switch kinds[r.kind] {
			case KindIP:
				if a, err := netip.ParseAddr(r.value); err == nil {
					countIP(a)
				}
			case KindCIDR:
				p, err := netip.ParsePrefix(r.value)
				if err != nil {
					continue // Replace normalized it; cannot happen
				}
				if p.IsSingleIP() {
					countIP(p.Addr())
					continue
				}
				first, last := rangeOf(p)
				if p.Addr().Is4() {
					r4 = append(r4, rangeItem{first, last, r})
				} else {
					r6 = append(r6, rangeItem{first, last, r})
				}
			default:
				nStr++
				if hashLen(r.kind) > 0 {
					nHash++
				}
			}
		}
	}
	idx.hashes = newHashFilter(nHash)
	idx.ips4.init(nIP4)
	idx.ips.init(nIP)
	idx.strs.init(nStr)
	if nIP4+len(r4) >= blocks4Min {
		idx.blocks4 = make([]uint64, 1<<24/64)
		adviseHugePages(idx.blocks4)
		for _, it := range r4 {
			idx.markBlocks4(uint32(it.first.lo), uint32(it.last.lo))
		}
	}
	if nIP+len(r6) >= blocks4Min {
		idx.blocks6 = make([]uint64, 1<<blocks6Bits/64)
		for _, it := range r6 {
			first, last := uint32(it.first.hi>>32), uint32(it.last.hi>>32)
			if last-first >= 1<<(32-blocks6Widest) {
				idx.blocks6 = nil // too wide to mark: no filter
				break
			}
			idx.markBlocks6(first, last)
		}
	}
	for _, f := range feeds {
		for i := range f.recs {
			r := &f.recs[i]
			switch kinds[r.kind] {
			case KindIP:
				if a, err := netip.ParseAddr(r.value); err == nil {
					idx.insertIP(a, r)
				}
			case KindCIDR:
				if p, err := netip.ParsePrefix(r.value); err == nil && p.IsSingleIP() {
					idx.insertIP(p.Addr(), r)
				}
			case KindDomain:
				idx.domainLabels |= labelBit(countLabels([]byte(r.value)))
				idx.strKinds |= 1 << r.kind
				idx.strs.insert(r)
			default:
				idx.strKinds |= 1 << r.kind
				idx.hashes.add(r.kind, r.value)
				idx.strs.insert(r)
			}
		}
	}
	idx.v4 = buildRanges(r4, u128{0, 0xffffffff}, 32)
	idx.v6 = buildRanges(r6, u128{^uint64(0), ^uint64(0)}, 128)
	return idx
}

func (idx *index) insertIP(a netip.Addr, r *rec) {
	k := keyOf(a)
	if !a.Is4() {
		idx.ips.insert(k, r)
		if idx.blocks6 != nil {
			top := uint32(k.hi >> 32)
			idx.markBlocks6(top, top)
		}
		return
	}
	v := uint32(k.lo)
	idx.ips4.insert(v, r)
	if idx.blocks4 != nil {
		idx.markBlocks4(v, v)
	}
}

// u128 is an address as a number: IPv6 directly, IPv4 in its mapped form
// (in the hash table) or as its 32 bits (in the ranges).
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

// shr is a shifted right by n bits.
func (a u128) shr(n uint) u128 {
	switch {
	case n == 0:
		return a
	case n >= 128:
		return u128{}
	case n >= 64:
		return u128{0, a.hi >> (n - 64)}
	}
	return u128{a.hi >> n, a.lo>>n | a.hi<<(64-n)}
}

// rangeOf is the first and last address of p as numbers; IPv4 ones in
// the low 32 bits.
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

// ipTable maps an address to its records, the key in the slot so that a
// miss reads one slot and a hit one slot and one record. Further records
// of the same address (the same value in several feeds) are in dups.
// Records are shared between published indexes, so an index never writes
// to one.
type ipTable struct {
	slots []ipSlot
	mask  uint64
	n     int
	dups  [][]*rec
}

type ipSlot struct {
	key u128
	r   *rec
	dup uint32 // 0, or 1 + the index in dups
}

// appendDup adds r to the further records of the slot whose dup is *d.
func appendDup(dups [][]*rec, d *uint32, r *rec) [][]*rec {
	if *d == 0 {
		dups = append(dups, nil)
		*d = uint32(len(dups))
	}
	dups[*d-1] = append(dups[*d-1], r)
	return dups
}

func appendSlot(dst []*Indicator, r *rec, dup uint32, dups [][]*rec, now int64) []*Indicator {
	dst = appendLive(dst, r, now)
	if dup != 0 {
		for _, r := range dups[dup-1] {
			dst = appendLive(dst, r, now)
		}
	}
	return dst
}

func (t *ipTable) init(n int) {
	size := tableSize(n)
	t.slots = make([]ipSlot, size)
	adviseHugePages(t.slots)
	t.mask = uint64(size - 1)
}

func (t *ipTable) insert(k u128, r *rec) {
	t.n++
	for i := mix(k) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			s.key, s.r = k, r
			return
		}
		if s.key == k {
			t.dups = appendDup(t.dups, &s.dup, r)
			return
		}
	}
}

func (t *ipTable) lookup(k u128, now int64, dst []*Indicator) []*Indicator {
	if t.n == 0 {
		return dst
	}
	for i := mix(k) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			return dst
		}
		if s.key == k {
			return appendSlot(dst, s.r, s.dup, t.dups, now)
		}
	}
}

// ip4Table is ipTable for IPv4 addresses, with the address's 32 bits as
// the key: a slot is half an ipTable's, so four share a cache line and the
// table takes half the memory (most listed addresses are IPv4).
type ip4Table struct {
	slots []ip4Slot
	mask  uint64
	n     int
	dups  [][]*rec
}

type ip4Slot struct {
	key uint32
	dup uint32 // 0, or 1 + the index in dups
	r   *rec
}

func (t *ip4Table) init(n int) {
	size := tableSize(n)
	t.slots = make([]ip4Slot, size)
	adviseHugePages(t.slots)
	t.mask = uint64(size - 1)
}

func (t *ip4Table) insert(k uint32, r *rec) {
	t.n++
	for i := mix(u128{0, uint64(k)}) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			s.key, s.r = k, r
			return
		}
		if s.key == k {
			t.dups = appendDup(t.dups, &s.dup, r)
			return
		}
	}
}

func (t *ip4Table) lookup(k uint32, now int64, dst []*Indicator) []*Indicator {
	if t.n == 0 {
		return dst
	}
	for i := mix(u128{0, uint64(k)}) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			return dst
		}
		if s.key == k {
			return appendSlot(dst, s.r, s.dup, t.dups, now)
		}
	}
}

// strTable maps (kind, normalized value) to records. A slot holds the
// hash's top 32 bits, checked before anything else is read, and the
// value (its string header, pointing at the record's bytes): a hit then
// reads the value's bytes and the record at once, two independent loads
// the processor overlaps, where reaching the value through the record
// would make them two misses one after the other.
type strTable struct {
	seed  maphash.Seed
	slots []strSlot
	mask  uint64
	n     int
	dups  [][]*rec
}

type strSlot struct {
	v   string // r.value
	r   *rec
	tag uint32
	dup uint32
}

// kindSalt separates the kinds within the one table.
func kindSalt(k kindNo) uint64 { return uint64(k) * 0x9e3779b97f4a7c15 }

func (t *strTable) init(n int) {
	size := tableSize(n)
	t.seed = maphash.MakeSeed()
	t.slots = make([]strSlot, size)
	adviseHugePages(t.slots)
	t.mask = uint64(size - 1)
}

func (t *strTable) insert(r *rec) {
	t.n++
	h := maphash.String(t.seed, r.value) ^ kindSalt(r.kind)
	tag := uint32(h >> 32)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			s.tag, s.r, s.v = tag, r, r.value
			return
		}
		if s.tag == tag && s.v == r.value && s.r.kind == r.kind {
			t.dups = appendDup(t.dups, &s.dup, r)
			return
		}
	}
}

func (t *strTable) lookup(k Kind, v string, now int64, dst []*Indicator) []*Indicator {
	if t.n == 0 {
		return dst
	}
	kn := kind8(k)
	h := maphash.String(t.seed, v) ^ kindSalt(kn)
	tag := uint32(h >> 32)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			return dst
		}
		if s.tag == tag && s.v == v && s.r.kind == kn {
			return appendSlot(dst, s.r, s.dup, t.dups, now)
		}
	}
}

func (t *strTable) lookupBytes(k Kind, v []byte, now int64, dst []*Indicator) []*Indicator {
	if t.n == 0 {
		return dst
	}
	kn := kind8(k)
	h := maphash.Bytes(t.seed, v) ^ kindSalt(kn)
	tag := uint32(h >> 32)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.r == nil {
			return dst
		}
		if s.tag == tag && s.v == string(v) && s.r.kind == kn {
			return appendSlot(dst, s.r, s.dup, t.dups, now)
		}
	}
}

// rangeItem is one CIDR record as the addresses it spans.
type rangeItem struct {
	first, last u128
	r           *rec
}

// ranges cuts a family's address space at every range's first address
// and at the one after its last, into elementary intervals, each with
// every range covering it, so overlapping ranges all match. An interval
// with one range holds it inline (the common case: one read less); more
// are refs[off:off+n]. jump narrows the binary search (only for many
// intervals): the intervals' starts share their top bits (all of them at
// base once shifted right by jumpShift+16), and jump[h] is the first
// interval whose next 16 bits are h or more. Taking the 16 bits after the
// common prefix, not the address's top 16, keeps the buckets small when
// the ranges are all in one part of the space (IPv6 ones in 2000::/3).
type ranges struct {
	ivs []interval
	// starts4 repeats IPv4 intervals' starts, four bytes each, so that the
	// binary search reads one cache line where ivs would take several.
	starts4 []uint32
	// covered has bit i set when interval i holds a range: an address in a
	// gap between ranges is answered from this small bitmap without
	// reading its interval.
	covered   []uint64
	refs      []*rec
	jump      []uint32
	jumpShift uint
	jumpBase  u128
}

type interval struct {
	start u128
	one   *rec
	off   uint32
	n     uint32
}

func (r *ranges) lookup(a u128, now int64, dst []*Indicator) []*Indicator {
	if len(r.ivs) == 0 {
		return dst
	}
	lo, hi := 0, len(r.ivs)
	if r.jump != nil {
		switch p := a.shr(r.jumpShift + 16); {
		case p.less(r.jumpBase):
			return dst // before every interval
		case r.jumpBase.less(p):
			return r.appendInterval(hi, now, dst) // in the last one
		}
		h := uint32(a.shr(r.jumpShift).lo & 0xffff)
		lo, hi = int(r.jump[h]), int(r.jump[h+1])
	}
	if r.starts4 != nil {
		v := uint32(a.lo)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if r.starts4[m] <= v {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return r.appendInterval(lo, now, dst)
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s := r.ivs[m].start; s.hi < a.hi || s.hi == a.hi && s.lo <= a.lo {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return r.appendInterval(lo, now, dst)
}

// appendInterval appends the live records of the interval before lo.
func (r *ranges) appendInterval(lo int, now int64, dst []*Indicator) []*Indicator {
	if lo == 0 || r.covered[(lo-1)>>6]&(1<<((lo-1)&63)) == 0 {
		return dst
	}
	iv := &r.ivs[lo-1]
	if iv.n == 1 {
		return appendLive(dst, iv.one, now)
	}
	for _, rc := range r.refs[iv.off : iv.off+iv.n] {
		dst = appendLive(dst, rc, now)
	}
	return dst
}

// buildRanges sweeps the ranges in order of first address (outer before
// inner at a tie). CIDR ranges either nest or are disjoint, so the ranges
// covering the sweep point form a stack. max is the family's last
// address, width its bits.
func buildRanges(items []rangeItem, max u128, width uint) ranges {
	out := ranges{}
	if len(items) == 0 {
		return out
	}
	slices.SortFunc(items, func(a, b rangeItem) int {
		if c := a.first.compare(b.first); c != 0 {
			return c
		}
		return b.last.compare(a.last)
	})
	type group struct {
		last u128
		refs []*rec
	}
	var stack []group
	emit := func(p u128) {
		if n := len(out.ivs); n > 0 && out.ivs[n-1].start == p {
			if prev := out.ivs[n-1]; prev.n != 1 { // one inline took no refs
				out.refs = out.refs[:prev.off]
			}
			out.ivs = out.ivs[:n-1]
		}
		iv := interval{start: p, off: uint32(len(out.refs))}
		for _, g := range stack {
			out.refs = append(out.refs, g.refs...)
		}
		iv.n = uint32(len(out.refs)) - iv.off
		if iv.n == 1 {
			iv.one, iv.off = out.refs[iv.off], 0
			out.refs = out.refs[:len(out.refs)-1]
		}
		out.ivs = append(out.ivs, iv)
	}
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.last != max {
			emit(top.last.addOne())
		}
	}
	// Records of one same range share a group: a range is cut once.
	g := make([]*rec, 0, len(items))
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j].first == items[i].first && items[j].last == items[i].last {
			g = append(g, items[j].r)
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
	out.ivs = slices.Clip(out.ivs)
	out.refs = slices.Clip(out.refs)
	out.covered = make([]uint64, (len(out.ivs)+63)/64)
	for i := range out.ivs {
		if out.ivs[i].n > 0 {
			out.covered[i>>6] |= 1 << (i & 63)
		}
	}
	if width == 32 {
		out.starts4 = make([]uint32, len(out.ivs))
		for i := range out.ivs {
			out.starts4[i] = uint32(out.ivs[i].start.lo)
		}
	}
	if len(out.ivs) < 1024 {
		return out // a few steps more beat a 256 KiB table
	}
	out.buildJump(width)
	return out
}

// buildJump indexes the 16 bits after the prefix every interval's start
// shares (width is the family's: 32 or 128 bits).
func (r *ranges) buildJump(width uint) {
	first, last := r.ivs[0].start, r.ivs[len(r.ivs)-1].start
	common := uint(bits.LeadingZeros64(first.hi ^ last.hi))
	if common == 64 {
		common += uint(bits.LeadingZeros64(first.lo ^ last.lo))
	}
	common -= 128 - width // leading zeros above the family's width
	shift := uint(0)
	if width-common > 16 {
		shift = width - common - 16
	}
	r.jumpShift, r.jumpBase = shift, first.shr(shift+16)
	r.jump = make([]uint32, 1<<16+1)
	k := 0
	for h := range r.jump {
		for k < len(r.ivs) && uint32(r.ivs[k].start.shr(shift).lo&0xffff) < uint32(h) {
			k++
		}
		r.jump[h] = uint32(k)
	}
}
