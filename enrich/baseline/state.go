package baseline

import (
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// entry is what a model knows of one value of one entity. Times are Unix
// nanoseconds of event time.
type entry struct {
	// entity and value are the map keys (copies, never the event's
	// buffers): what a flush writes.
	entity, value string
	count         int64
	// delta is what this worker counted since its last save: what the
	// save adds to the store's count, which other workers add to too.
	delta       int64
	first, last int64
	dirty       bool // changed since the store last saw it
}

// export is what a save writes of e, which then counts from nothing:
// the observations since the last save, or a volume model's largest
// amount (Max), which the store keeps when it is the larger.
func (s *state) export(e *entry) Entry {
	x := Entry{Entity: e.entity, Value: e.value, Count: e.delta, First: fromNanos(e.first), Last: fromNanos(e.last)}
	if s.m.Volume {
		x.Count, x.Max = e.count, true
	}
	e.delta = 0
	return x
}

type entityState struct {
	name   string
	values map[string]*entry
	total  int64 // observations of the entity, over the values held
}

// state is one model's memory in one workspace, guarded by mu: workers
// observe concurrently, and a flush copies what changed.
type state struct {
	mu sync.Mutex
	m  *compiled
	// started is the time of the earliest observation: the learning
	// period runs from it to latest (the latest event time seen), so that
	// learning follows the events' clock, a scan of old logs included.
	started, latest int64
	startedDirty    bool
	entities        map[string]*entityState
	n               int          // values held
	persist         bool         // a store keeps the model: track changes
	dirty           []*entry     // entries changed since the last flush
	evicted         []Entry      // changed entries evicted before a flush
	rev             int64        // the store's revision of the model last read
	loaded          bool         // read from the store once
	maxValues       int          // cap of values held in the model
	maxPerEntity    int          // cap of values held for one entity
	evictions       int64        // values evicted, for Status
	buf             []evictOrder // eviction scratch
	foldE, foldV    []byte       // case-folding scratch
}

type evictOrder struct {
	entity, value string
	last          int64
}

func newState(m *compiled, maxValues, maxPerEntity int, persist bool) *state {
	return &state{m: m, entities: map[string]*entityState{}, maxValues: maxValues, maxPerEntity: maxPerEntity, persist: persist}
}

// learning reports whether the model is still learning: it flags nothing
// until it has seen period's worth of events.
func (s *state) learning(period int64) bool {
	return s.started == 0 || s.latest-s.started < period
}

// clock moves the model's time to t and says whether it is learning.
func (s *state) clock(t, period int64) bool {
	if s.started == 0 || t < s.started {
		s.started, s.startedDirty = t, true
	}
	if t > s.latest {
		s.latest = t
	}
	return s.learning(period)
}

// peakKey is the one value a volume model keeps for an entity: its
// largest amount, in count.
const peakKey = "peak"

// observeVolume records amount for entity at t and says whether it is
// more than VolumeFactor times the entity's largest amount within window
// (and at least floor), with that largest; never while learning, nor
// for an entity seen for the first time. The largest then includes it.
func (s *state) observeVolume(entity string, amount, floor, t, period, window int64) (flag bool, peak int64, learning bool) {
	learning = s.clock(t, period)
	ent := s.entities[entity]
	var e *entry
	if ent != nil {
		e = ent.values[peakKey]
	}
	if e != nil && t-e.last > window {
		e.count = 0 // nothing within the window: learnt afresh
	}
	if !learning && e != nil && e.count > 0 && amount >= floor && amount > VolumeFactor*e.count {
		flag, peak = true, e.count
	}
	if ent == nil {
		entity = strings.Clone(entity)
		ent = &entityState{name: entity, values: map[string]*entry{}}
		s.entities[entity] = ent
	}
	if e == nil {
		e = &entry{entity: ent.name, value: peakKey, first: t, last: t}
		ent.values[peakKey] = e
		s.n++
	}
	e.count = max(e.count, amount)
	ent.total++
	e.first, e.last = min(e.first, t), max(e.last, t)
	if s.persist && !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
	if s.n > s.maxValues {
		s.evictModel()
	}
	return flag, peak, learning
}

// observe records value for entity at t and says what it was: a
// first_seen (never seen for a known entity, or not within window) or a
// rare value (seen, fewer than the model's Rare times), judged before the
// observation is counted; kind "" when neither, or while learning (for
// period from the first observation).
func (s *state) observe(entity, value string, t, period, window int64) (kind string, seen int64, learning bool) {
	if s.m.Fold {
		// Views of scratch buffers, valid under the lock: a key is copied
		// when it is inserted.
		entity, value = lowerInto(&s.foldE, entity), lowerInto(&s.foldV, value)
	}
	learning = s.clock(t, period)
	ent := s.entities[entity]
	var e *entry
	if ent != nil {
		e = ent.values[value]
	}
	// An entity seen for the first time has nothing to compare with:
	// its first value is learnt, not flagged.
	if !learning && ent != nil {
		switch {
		case e == nil || t-e.last > window:
			kind = KindFirstSeen
		case s.m.Rare > 0 && e.count < int64(s.m.Rare) && ent.total >= RareMinTotal:
			kind, seen = KindRare, e.count
		}
	}
	if ent == nil {
		entity = strings.Clone(entity)
		ent = &entityState{name: entity, values: map[string]*entry{}}
		s.entities[entity] = ent
	}
	if e == nil {
		value = strings.Clone(value)
		e = &entry{entity: ent.name, value: value, first: t, last: t}
		ent.values[value] = e
		s.n++
	} else if t-e.last > window {
		// Not seen within the window: counted afresh, as the store does
		// (the save's purge drops it there first).
		e.count, e.delta = 0, 0
	}
	e.count++
	e.delta++
	ent.total++
	e.first, e.last = min(e.first, t), max(e.last, t)
	if s.persist && !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
	if len(ent.values) > s.maxPerEntity {
		s.evictEntity(ent)
	}
	if s.n > s.maxValues {
		s.evictModel()
	}
	return kind, seen, learning
}

// put adds an entry loaded from the store, most recently seen first,
// within the caps; it is not dirty.
func (s *state) put(en Entry) {
	entity, value := en.Entity, en.Value
	if s.m.Fold {
		entity, value = strings.ToLower(entity), strings.ToLower(value)
	}
	ent := s.entities[entity]
	if ent == nil {
		if s.n >= s.maxValues {
			return
		}
		ent = &entityState{name: entity, values: map[string]*entry{}}
		s.entities[entity] = ent
	}
	if len(ent.values) >= s.maxPerEntity || s.n >= s.maxValues {
		return
	}
	if e := ent.values[value]; e != nil {
		e.count += en.Count // two spellings folded into one
		ent.total += en.Count
		return
	}
	ent.values[value] = &entry{entity: ent.name, value: value, count: en.Count, first: en.First.UnixNano(), last: en.Last.UnixNano()}
	ent.total += en.Count
	s.n++
}

// merge takes in what the store holds of a value, all workers' learning
// saved: the count becomes the store's plus what this worker counted
// since its last save (a volume model's: the larger largest). A value
// new to this worker is added within the caps, as put does.
func (s *state) merge(en Entry) {
	entity, value := en.Entity, en.Value
	if s.m.Fold {
		entity, value = strings.ToLower(entity), strings.ToLower(value)
	}
	s.latest = max(s.latest, en.Last.UnixNano())
	ent := s.entities[entity]
	var e *entry
	if ent != nil {
		e = ent.values[value]
	}
	if e == nil {
		s.put(en)
		return
	}
	if s.m.Volume {
		e.count = max(e.count, en.Count)
	} else {
		n := en.Count + e.delta
		ent.total += n - e.count
		e.count = n
	}
	e.first, e.last = min(e.first, en.First.UnixNano()), max(e.last, en.Last.UnixNano())
}

// evictEntity drops the least recently seen tenth of an entity's values.
func (s *state) evictEntity(ent *entityState) {
	s.buf = s.buf[:0]
	for v, e := range ent.values {
		s.buf = append(s.buf, evictOrder{ent.name, v, e.last})
	}
	s.evict(max(1, len(ent.values)/10))
}

// evictModel drops the least recently seen tenth of the model's values:
// eviction in batches keeps its cost (a sort) a small share of each
// insertion's.
func (s *state) evictModel() {
	s.buf = s.buf[:0]
	for en, ent := range s.entities {
		for v, e := range ent.values {
			s.buf = append(s.buf, evictOrder{en, v, e.last})
		}
	}
	s.evict(max(1, s.n/10))
}

func (s *state) evict(k int) {
	slices.SortFunc(s.buf, func(a, b evictOrder) int {
		switch {
		case a.last < b.last:
			return -1
		case a.last > b.last:
			return 1
		}
		return 0
	})
	for _, o := range s.buf[:min(k, len(s.buf))] {
		ent := s.entities[o.entity]
		e := ent.values[o.value]
		if e.dirty {
			// Not saved yet: the store keeps it (a value seen again after
			// its eviction is then still known after a restart).
			s.evicted = append(s.evicted, s.export(e))
			e.dirty = false
		}
		delete(ent.values, o.value)
		ent.total -= e.count
		s.n--
		s.evictions++
		if len(ent.values) == 0 {
			delete(s.entities, o.entity)
		}
	}
	clear(s.buf)
	s.buf = s.buf[:0]
}

// changes takes the entries changed since the last call, marking them
// clean.
func (s *state) changes() (started int64, startedDirty bool, out []Entry) {
	out = append(out, s.evicted...)
	s.evicted = nil
	for _, e := range s.dirty {
		if e.dirty { // not evicted (and listed above) since
			e.dirty = false
			out = append(out, s.export(e))
		}
	}
	clear(s.dirty) // let evicted entries go
	s.dirty = s.dirty[:0]
	started, startedDirty = s.started, s.startedDirty
	s.startedDirty = false
	return started, startedDirty, out
}

// lowerInto returns s lowercased, s itself when it is lowercase ASCII,
// else a view of buf (valid until buf's next use): a Windows path or an
// account name in capitals costs no allocation to look up.
func lowerInto(buf *[]byte, s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			break
		}
	}
	if i == len(s) {
		return s
	}
	for j := i; j < len(s); j++ {
		if s[j] >= 0x80 {
			return strings.ToLower(s) // Unicode: rare, allocates
		}
	}
	b := append((*buf)[:0], s...)
	for j := i; j < len(b); j++ {
		if c := b[j]; c >= 'A' && c <= 'Z' {
			b[j] = c + ('a' - 'A')
		}
	}
	*buf = b
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// lowerIfNeeded lowercases s, without allocating when it is lowercase.
func lowerIfNeeded(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
