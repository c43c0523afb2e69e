package intel

import "math/bits"

// The file hashes an event carries are almost never listed, and with a
// large feed each lookup of the string table is a cache miss after the
// hash has been lowercased and checked. hashFilter answers most of them
// first: a bitmap with a bit for a fingerprint of each listed hash, read
// straight from the value as written (either case). A clear bit means
// not listed; a set one sends the lookup on to the table.
type hashFilter struct {
	bits  []uint64 // nil: no filter (a small set)
	shift uint     // 64 less the log2 of the bitmap's size in bits
}

// hashFilterMin is the listed hashes from which a set keeps a filter;
// hashFilterPerHash the bits it gives each (about 1 in 16 unlisted hashes
// then reaches the table), up to hashFilterMaxLog bits in all (16 MiB).
const (
	hashFilterMin     = 4096
	hashFilterPerHash = 16
	hashFilterMaxLog  = 27
)

func newHashFilter(n int) hashFilter {
	if n < hashFilterMin {
		return hashFilter{}
	}
	log := min(bits.Len(uint(n*hashFilterPerHash-1)), hashFilterMaxLog)
	f := hashFilter{bits: make([]uint64, 1<<log/64), shift: uint(64 - log)}
	adviseHugePages(f.bits)
	return f
}

// add marks a listed hash, v in its normal form.
func (f *hashFilter) add(k kindNo, v string) {
	if x, ok := hashPrint(k, v); ok && f.bits != nil {
		b := x >> f.shift
		f.bits[b>>6] |= 1 << (b & 63)
	}
}

// skip reports that no hash of kind k listed is v (as an event writes
// it); false when it may be, or when v is not a hash of the kind.
func (f *hashFilter) skip(k kindNo, v string) bool {
	if f.bits == nil {
		return false
	}
	x, ok := hashPrint(k, v)
	if !ok {
		return false
	}
	b := x >> f.shift
	return f.bits[b>>6]&(1<<(b&63)) == 0
}

// hexDigits is the hexadecimal digits of a hash of kind k; 0 for a kind
// that is no hash.
func hexDigits(k Kind) int {
	switch k {
	case KindMD5:
		return 32
	case KindSHA1:
		return 40
	case KindSHA256:
		return 64
	}
	return 0
}

// hashDigits is hexDigits by kindNo, for the lookups.
var hashDigits = func() (t [len(kinds)]int) {
	for i, k := range kinds {
		t[i] = hexDigits(k)
	}
	return t
}()

// hashLen is hexDigits of a kindNo.
func hashLen(k kindNo) int { return hashDigits[k] }

// hashPrint is the fingerprint of hash v of kind k, the same for either
// case: its first and last 16 digits as numbers, mixed. Both ends count,
// so that feeds of short numbers written out with leading zeros spread
// too. ok is false when v is not a hash of the kind.
func hashPrint(k kindNo, v string) (uint64, bool) {
	n := hashLen(k)
	if n == 0 || len(v) != n {
		return 0, false
	}
	first, ok1 := hex64(v[:16])
	last, ok2 := hex64(v[n-16:])
	if !ok1 || !ok2 {
		return 0, false
	}
	return (first ^ bits.RotateLeft64(last, 31) ^ kindSalt(k)) * 0x9e3779b97f4a7c15, true
}

// hex64 reads 16 hexadecimal digits of either case.
func hex64(s string) (uint64, bool) {
	var x uint64
	bad := byte(0)
	for i := range 16 {
		d := hexVal[s[i]]
		bad |= d
		x = x<<4 | uint64(d&0xf)
	}
	return x, bad&0x80 == 0
}

// hexVal is a digit's value; 0x80 for a byte that is not one.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()
