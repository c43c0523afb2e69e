package windows

import (
	"hash/maphash"

	"github.com/vigil-sec/vigil/event"
)

// keyCache remembers the Dict ids of the keys a decoder met, so that the
// twenty-odd keys of a record cost a hash and a compare each rather than a
// lookup in a map of thousands of names. It serves a closed Dict only, and
// forgets everything when the Dict or its size changes.
type keyCache struct {
	dict   *event.Dict
	n      int
	seed   maphash.Seed
	seeded bool
	slots  [keySlots]keySlot
}

const (
	keySlots  = 512
	maxKeyLen = 46
)

type keySlot struct {
	id   int32
	ok   bool
	n    uint8 // len(name); 0: empty slot
	name [maxKeyLen]byte
}

// bind readies the cache for an event bound to dict (nil for none): what it
// remembers of another Dict, or of dict before names were added, goes.
func (kc *keyCache) bind(dict *event.Dict) {
	if dict == nil || dict.Open() {
		kc.dict = nil
		return
	}
	if kc.dict != dict || kc.n != dict.Len() {
		if !kc.seeded {
			kc.seed, kc.seeded = maphash.MakeSeed(), true
		}
		kc.dict, kc.n = dict, dict.Len()
		clear(kc.slots[:])
	}
}

// id is dict.IDBytes(name); dict is the one last bound.
func (kc *keyCache) id(dict *event.Dict, name []byte) (int32, bool) {
	if kc.dict != dict || len(name) == 0 || len(name) > maxKeyLen {
		return dict.IDBytes(name)
	}
	s := &kc.slots[maphash.Bytes(kc.seed, name)%keySlots]
	if int(s.n) == len(name) && string(s.name[:len(name)]) == string(name) {
		return s.id, s.ok
	}
	id, ok := dict.IDBytes(name)
	s.id, s.ok, s.n = id, ok, uint8(len(name))
	copy(s.name[:], name)
	return id, ok
}
