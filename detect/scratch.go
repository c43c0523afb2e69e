package detect

import "github.com/vigil-sec/vigil/event"

// scratch is one Match call's working state, pooled so that matching does
// not allocate. Generation counters make it clean for the next event
// without clearing it.
type scratch struct {
	gen     uint32
	atomGen []uint32
	atomVal []bool
	// Lowered values by slot: field slots (Dict ids), then the common
	// fields, then the raw record.
	lowGen []uint32
	low    []string
	arena  []byte
	tmp    []byte
	// hay is every value of the event lowered and joined by NULs, for
	// keyword searches; built once per event when first needed.
	hay        []byte
	hayTextGen uint32
	hayGen     uint32
	hayFlt     bigrams
	// Bigram filters of long lowered values, by slot.
	fltGen []uint32
	flt    []bigrams

	// The fast path (fastpath.go): marks true when they are valid for this
	// event; literal atoms marked, by atom; |all values satisfied, by
	// fastVal, and their count by atom; candidate rules, by rule.
	marks   bool
	markGen []uint32
	marked  []int32
	valGen  []uint32
	cntGen  []uint32
	cnt     []int32
	ruleGen []uint32
	cands   []int32
	hits    []acHit
	// jobs are the values scanField leaves to flushField; lanes the hits
	// of each lane of scanLanes.
	jobs  []dfaJob
	lanes [lanes][]acHit
}

func (e *Engine) newScratch() *scratch {
	slots := len(e.fields) + event.NumCommon + 1
	return &scratch{
		atomGen: make([]uint32, len(e.atoms)),
		atomVal: make([]bool, len(e.atoms)),
		lowGen:  make([]uint32, slots),
		low:     make([]string, slots),
		fltGen:  make([]uint32, slots),
		flt:     make([]bigrams, slots),
		markGen: make([]uint32, len(e.atoms)),
		valGen:  make([]uint32, len(e.fast.vals)),
		cntGen:  make([]uint32, len(e.atoms)),
		cnt:     make([]int32, len(e.atoms)),
		ruleGen: make([]uint32, len(e.rules)),
	}
}

// next starts a new event.
func (sc *scratch) next() {
	sc.gen++
	if sc.gen == 0 { // wrapped: clear once every 2^32 events
		clear(sc.atomGen)
		clear(sc.lowGen)
		clear(sc.fltGen)
		clear(sc.markGen)
		clear(sc.valGen)
		clear(sc.cntGen)
		clear(sc.ruleGen)
		sc.hayGen, sc.hayTextGen = 0, 0
		sc.gen = 1
	}
	sc.arena = sc.arena[:0]
}

// lower returns s in lower case, computed once per event and slot.
func (sc *scratch) lower(slot int32, s string) string {
	if sc.lowGen[slot] == sc.gen {
		return sc.low[slot]
	}
	l := s
	if needsLower(s) {
		start := len(sc.arena)
		if cap(sc.arena)-start < len(s)+8 {
			// Grow to a fresh array: views handed out earlier keep the old
			// one alive and unchanged.
			sc.arena = make([]byte, 0, 2*cap(sc.arena)+len(s)+64)
			start = 0
		}
		sc.arena = appendLower(sc.arena, s)
		l = bytesString(sc.arena[start:])
	}
	sc.lowGen[slot] = sc.gen
	sc.low[slot] = l
	return l
}

// haystack returns the bigram filter of the event's values, lowered and
// joined by NULs: its own fields (every value), its common fields and its
// raw record. For ASCII events the filter is built straight from the
// values, and the joined text (hayText) is only written out when a literal
// gets past the filter.
func (sc *scratch) haystack(ev *event.Event) *bigrams {
	if sc.hayGen == sc.gen {
		return &sc.hayFlt
	}
	f := &sc.hayFlt
	clear(f[:])
	prev, ascii := byte(0), true
	for _, id := range ev.Fields.IDs() {
		ev.Fields.Each(id, func(v string) bool {
			prev, ascii = f.addFolded(v, prev)
			prev = f.add("\x00", prev)
			return ascii
		})
		if !ascii {
			break
		}
	}
	for i := 0; ascii && i < len(ev.Common); i++ {
		if v := ev.Common[i]; v != "" {
			prev, ascii = f.addFolded(v, prev)
			prev = f.add("\x00", prev)
		}
	}
	if ascii {
		_, ascii = f.addFolded(bytesString(ev.Raw), prev)
	}
	sc.hayGen = sc.gen
	if !ascii {
		f.build(sc.hayText(ev))
	}
	return f
}

// hayText returns the event's values lowered and joined by NULs, built
// once per event.
func (sc *scratch) hayText(ev *event.Event) string {
	if sc.hayTextGen == sc.gen {
		return bytesString(sc.hay)
	}
	h := sc.hay[:0]
	for _, id := range ev.Fields.IDs() {
		ev.Fields.Each(id, func(v string) bool {
			h = append(appendLower(h, v), 0)
			return true
		})
	}
	for _, v := range ev.Common {
		if v != "" {
			h = append(appendLower(h, v), 0)
		}
	}
	h = appendLower(h, bytesString(ev.Raw))
	sc.hay, sc.hayTextGen = h, sc.gen
	return bytesString(h)
}

// filter returns the bigram filter of slot's lowered value low, built once
// per event.
func (sc *scratch) filter(slot int32, low string) *bigrams {
	f := &sc.flt[slot]
	if sc.fltGen[slot] != sc.gen {
		f.build(low)
		sc.fltGen[slot] = sc.gen
	}
	return f
}

// lowerTmp returns v lowered in a buffer reused by the next call.
func (sc *scratch) lowerTmp(v string) string {
	sc.tmp = appendLower(sc.tmp[:0], v)
	return bytesString(sc.tmp)
}
