package windows

import (
	"bytes"
	"encoding/binary"

	"github.com/vigil-sec/vigil/event"
)

// keyInfo is what the decoder needs to know about a field name.
type keyInfo struct {
	id      int32 // the name's Dict id, if keep
	keep    bool  // the Dict holds the name
	capture int8  // the captured slot the name fills, or capNone
	shaped  bool  // at the top level, the key may mean another shape than flat

	// also holds the ids of the other spellings the Dict keeps of a name
	// with spaces (nAlso of them): see otherSpellings.
	nAlso uint8
	also  [2]int32
}

// stored reports whether the Dict keeps the name or one of its other
// spellings.
func (k keyInfo) stored() bool { return k.keep || k.nAlso > 0 }

// lookupKey works out a name's keyInfo; dict may be nil.
func lookupKey(dict *event.Dict, name []byte) keyInfo {
	k := keyInfo{capture: captureIndex(name), shaped: shapeKey(name)}
	if dict != nil {
		k.id, k.keep = dict.IDBytes(name)
		if bytes.IndexByte(name, ' ') >= 0 {
			k.otherSpellings(dict, name)
		}
	}
	return k
}

// otherSpellings notes the ids of the names rule authors write for a field
// whose name has spaces: Windows Defender's "Threat Name" is ThreatName in
// Sigma rules, and "Feature Name" is Feature_Name. Both spellings are kept
// (when the Dict keeps them), so either reaches the value.
func (k *keyInfo) otherSpellings(dict *event.Dict, name []byte) {
	var buf [2 * maxKeyLen]byte
	b := buf[:0]
	for _, c := range name {
		if c != ' ' {
			b = append(b, c)
		}
	}
	n := len(b)
	for _, c := range name {
		if c == ' ' {
			c = '_'
		}
		b = append(b, c)
	}
	joined, under := b[:n], b[n:]
	for _, n := range [2][]byte{joined, under} {
		if id, ok := dict.IDBytes(n); ok {
			k.also[k.nAlso] = id
			k.nAlso++
		}
	}
}

// keyCache remembers the keyInfo of the keys a decoder met, so that the
// twenty-odd keys of a record cost a few word compares each rather than a
// lookup in a map of thousands of names and a switch over the captured
// names. It serves a closed Dict only, and forgets everything when the
// Dict or its size changes.
//
// The hash is not seeded: keys that collide on purpose only make the cache
// miss, and a miss costs what a lookup without the cache does.
type keyCache struct {
	dict  *event.Dict
	n     int
	slots [keySlots]keySlot

	// order holds, by position, the slots of the last flat record's keys
	// (index+1; 0 for none): records of a source mostly repeat their keys
	// in the same order.
	order [maxOrder]uint16

	// spare holds the keyInfo of a name the cache does not keep, for
	// info to point to.
	spare keyInfo
}

const (
	keySlots  = 1 << keyBits
	keyBits   = 9
	maxKeyLen = 46
	maxOrder  = 64
)

type keySlot struct {
	lo, hi uint64 // keyWords of the name
	info   keyInfo
	n      uint8 // len(name); 0: empty slot
	name   [maxKeyLen]byte
}

// bind readies the cache for an event bound to dict (nil for none): what it
// remembers of another Dict, or of dict before names were added, goes.
func (kc *keyCache) bind(dict *event.Dict) {
	if dict == nil || dict.Open() {
		kc.dict = nil
		return
	}
	if kc.dict != dict || kc.n != dict.Len() {
		kc.dict, kc.n = dict, dict.Len()
		clear(kc.slots[:])
		clear(kc.order[:])
	}
}

// info is lookupKey(dict, name); dict is the one last bound. The keyInfo
// is the cache's own, valid until the next lookup: handing out a pointer
// rather than a copy keeps the decoder's hot loop from copying it.
func (kc *keyCache) info(dict *event.Dict, name []byte) *keyInfo {
	k, _ := kc.infoAt(dict, name)
	return k
}

// infoAt is info that also returns the slot the name is kept in, or -1.
func (kc *keyCache) infoAt(dict *event.Dict, name []byte) (*keyInfo, int) {
	if kc.dict != dict || dict == nil || len(name) == 0 || len(name) > maxKeyLen {
		kc.spare = lookupKey(dict, name)
		return &kc.spare, -1
	}
	lo, hi := keyWords(name)
	h := keyHash(lo, hi, len(name))
	s := &kc.slots[h]
	if int(s.n) == len(name) && s.lo == lo && s.hi == hi &&
		(len(name) <= 16 || string(s.name[8:len(name)-8]) == string(name[8:len(name)-8])) {
		return &s.info, int(h)
	}
	s.lo, s.hi, s.n, s.info = lo, hi, uint8(len(name)), lookupKey(dict, name)
	copy(s.name[:], name)
	return &s.info, int(h)
}

// expected returns the name and keyInfo of the key the last flat record
// had at position i, if that is known for the Dict bound.
func (kc *keyCache) expected(i int) ([]byte, *keyInfo, bool) {
	if kc.dict == nil || i >= maxOrder || kc.order[i] == 0 {
		return nil, nil, false
	}
	s := &kc.slots[kc.order[i]-1]
	return s.name[:s.n], &s.info, s.n > 0
}

// learn notes that the key at position i of a flat record is the name in
// slot (-1 for none). Only names the scanner's KeyIf can compare are
// noted: those with no byte that would need escaping.
func (kc *keyCache) learn(i, slot int, name []byte) {
	if i >= maxOrder {
		return
	}
	kc.order[i] = 0
	if slot >= 0 && plainKey(name) {
		kc.order[i] = uint16(slot + 1)
	}
}

// plainKey reports whether name, written as it is, is a JSON string's
// text.
func plainKey(name []byte) bool {
	for _, c := range name {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// keyWords packs a name into two words that tell names of the same length
// up to 16 bytes apart: its first and last eight bytes, which overlap or
// meet. Longer names also need their middle compared.
func keyWords(b []byte) (lo, hi uint64) {
	switch n := len(b); {
	case n >= 8:
		return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32, 0
	}
	for _, c := range b {
		lo = lo<<8 | uint64(c)
	}
	return lo, 0
}

func keyHash(lo, hi uint64, n int) uint {
	h := (lo ^ hi*0x9e3779b97f4a7c15 ^ uint64(n)) * 0xff51afd7ed558ccd
	return uint(h >> (64 - keyBits))
}
