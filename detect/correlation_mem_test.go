package detect

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestCorrelatorMemoryMillionGroups feeds a million distinct group keys on
// a simulated clock (one per millisecond of event time) and measures the
// heap after GC: the global group cap must hold it under a fixed bound.
func TestCorrelatorMemoryMillionGroups(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a million matches: too slow under -short or -race")
	}
	const (
		keys      = 1_000_000
		maxGroups = 100_000
		capBytes  = 64 << 20 // what 100k groups may hold, with room
	)
	k := newCorr(t, CorrelatorConfig{MaxGroups: maxGroups}, countRule("    gte: 5"))
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	vals := make([]string, 1)
	buf := make([]byte, 0, 32)
	var hits []CorrelationHit
	for i := 0; i < keys; i++ {
		buf = strconv.AppendInt(append(buf[:0], "user-"...), int64(i), 10)
		vals[0] = string(buf)
		at := t0.Add(time.Duration(i) * time.Millisecond) // 1M ms ≈ 17 minutes, longer than the 10m window
		hits = k.Observe(Match{Rule: "id-fail", Workspace: "ws", Time: at, Values: vals,
			Evidence: Evidence{EventID: "01HXYZABCDEFGHJKMNPQRSTVWX", Time: at}}, hits[:0])
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := k.Stats()
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("groups %d evicted %d expired %d; heap grew %.1f MB (%.0f bytes a group)",
		st.Groups, st.Evicted, st.Expired, float64(grown)/(1<<20), float64(grown)/float64(st.Groups))
	if st.Groups > maxGroups {
		t.Fatalf("%d groups tracked, cap %d", st.Groups, maxGroups)
	}
	if st.Evicted+st.Expired+uint64(st.Groups) != keys {
		t.Fatalf("groups %d + evicted %d + expired %d != %d keys", st.Groups, st.Evicted, st.Expired, keys)
	}
	if st.Evicted == 0 {
		t.Fatal("the cap never evicted: the test does not exercise it")
	}
	if grown > capBytes {
		t.Fatalf("heap grew %d bytes for %d groups, over the %d cap", grown, st.Groups, capBytes)
	}
	runtime.KeepAlive(k)
}
