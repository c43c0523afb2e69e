package detect

import "unsafe"

// An event's short field values are scanned by their sets' dfas four at a
// time (scanLanes): a pass over one value is a chain of loads that each
// wait on the last, and the big tables (TargetObject's, Image's: megabytes)
// miss the cache on most steps of a long literal; four chains in one loop
// keep four misses in flight. A lane that finishes its value takes the next
// one waiting, so values of unequal length do not leave lanes idle until
// every value is done.
const lanes = 4

// idleDelta and idleClass make the automaton of an idle lane: every byte
// goes from row 0 to row 0 and ends nothing, so the lane steps with the
// others, on some busy lane's bytes, at the price of a load that hits.
var (
	idleDelta = [1]uint32{}
	idleClass [256]uint8
)

// scanLanes scans every job's value with its set's dfa, anchored as
// scanAnchored does, and marks what each satisfies. The values must be
// ASCII and at least one byte long.
func (e *Engine) scanLanes(jobs []dfaJob, sc *scratch) {
	var (
		d   [lanes]unsafe.Pointer // the lane's table
		cls [lanes]*[256]uint8
		b   [lanes]unsafe.Pointer // the lane's value
		st  [lanes]uint32
		pos [lanes]int // bytes of the value done
		n   [lanes]int // its length
		job [lanes]int // index in jobs; -1 idle
	)
	next := 0
	// take gives lane l the next job waiting, or makes it idle.
	take := func(l int) {
		if next >= len(jobs) {
			job[l], st[l] = -1, 0
			d[l], cls[l] = unsafe.Pointer(&idleDelta), &idleClass
			return
		}
		j := &jobs[next]
		a := j.ls.dfa
		job[l] = next
		next++
		d[l], cls[l] = unsafe.Pointer(unsafe.SliceData(a.delta)), &a.class
		b[l], pos[l], n[l] = unsafe.Pointer(unsafe.StringData(j.v)), 0, len(j.v)
		hits := sc.lanes[l][:0]
		x := a.delta[a.begin]
		if x&1 != 0 {
			hits = append(hits, acHit{row: x >> 1, end: 0})
		}
		sc.lanes[l] = hits
		st[l] = x >> 1
	}
	for l := range lanes {
		take(l)
	}
	for {
		// Step every lane over as many bytes as the busy lane nearest its
		// end has left; idle lanes read that lane's bytes.
		m, busy := 0, -1
		for l := range lanes {
			if job[l] >= 0 && (busy < 0 || n[l]-pos[l] < m) {
				m, busy = n[l]-pos[l], l
			}
		}
		if busy < 0 {
			return
		}
		for l := range lanes {
			if job[l] < 0 {
				b[l], pos[l] = b[busy], pos[busy]
			}
		}
		d0, d1, d2, d3 := d[0], d[1], d[2], d[3]
		c0, c1, c2, c3 := cls[0], cls[1], cls[2], cls[3]
		p0, p1, p2, p3 := unsafe.Add(b[0], pos[0]), unsafe.Add(b[1], pos[1]), unsafe.Add(b[2], pos[2]), unsafe.Add(b[3], pos[3])
		s0, s1, s2, s3 := st[0], st[1], st[2], st[3]
		for k := 0; k < m; k++ {
			x0 := *(*uint32)(unsafe.Add(d0, uintptr(s0+uint32(c0[*(*byte)(unsafe.Add(p0, k))]))*4))
			x1 := *(*uint32)(unsafe.Add(d1, uintptr(s1+uint32(c1[*(*byte)(unsafe.Add(p1, k))]))*4))
			x2 := *(*uint32)(unsafe.Add(d2, uintptr(s2+uint32(c2[*(*byte)(unsafe.Add(p2, k))]))*4))
			x3 := *(*uint32)(unsafe.Add(d3, uintptr(s3+uint32(c3[*(*byte)(unsafe.Add(p3, k))]))*4))
			s0, s1, s2, s3 = x0>>1, x1>>1, x2>>1, x3>>1
			if (x0|x1|x2|x3)&1 != 0 {
				for l, x := range [lanes]uint32{x0, x1, x2, x3} {
					if x&1 != 0 {
						sc.lanes[l] = append(sc.lanes[l], acHit{row: x >> 1, end: int32(pos[l] + k + 1)})
					}
				}
			}
		}
		st = [lanes]uint32{s0, s1, s2, s3}
		for l := range lanes {
			if job[l] < 0 {
				continue
			}
			if pos[l] += m; pos[l] < n[l] {
				continue
			}
			ls := jobs[job[l]].ls
			a := ls.dfa
			hits := sc.lanes[l]
			if x := a.delta[st[l]+a.end]; x&1 != 0 {
				hits = append(hits, acHit{row: x >> 1, end: int32(n[l] + 1)})
			}
			e.markHits(ls, hits, sc)
			sc.lanes[l] = hits[:0]
			take(l)
		}
	}
}
