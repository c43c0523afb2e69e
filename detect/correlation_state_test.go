package detect

import (
	"strings"
	"testing"
	"time"
)

// restart snapshots f's correlator and restores the state into a fresh one
// compiled from docs: what a restarted vigil does.
func restart(t *testing.T, f *feeder, cfg CorrelatorConfig, docs ...string) (restored, dropped int) {
	t.Helper()
	data, err := f.k.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	f.k = newCorr(t, cfg, docs...)
	restored, dropped, err = f.k.Restore(data)
	if err != nil {
		t.Fatal(err)
	}
	return restored, dropped
}

// TestCorrelationStateAcrossRestart: a threshold reached across a restart
// fires once, with the evidence from before it; without the state it
// would not fire (the control).
func TestCorrelationStateAcrossRestart(t *testing.T) {
	doc := countRule("    gte: 3")
	u := map[string]string{"User": "alice"}

	control := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, doc)}
	control.send("id-fail", 0, u)
	control.send("id-fail", time.Minute, u)
	control.k = newCorr(t, CorrelatorConfig{}, doc) // a restart that forgets
	if control.send("id-fail", 2*time.Minute, u) != 0 {
		t.Fatal("control: a fresh correlator hit on one match")
	}

	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, doc)}
	f.send("id-fail", 0, u)
	f.send("id-fail", time.Minute, u)
	f.send("id-fail", time.Minute, map[string]string{"User": "bob"})
	if r, d := restart(t, f, CorrelatorConfig{}, doc); r != 2 || d != 0 {
		t.Fatalf("restored %d groups, dropped %d; want 2, 0", r, d)
	}
	if st := f.k.Stats(); st.Groups != 2 {
		t.Fatalf("groups after restore = %d", st.Groups)
	}
	if f.send("id-fail", 2*time.Minute, u) != 1 {
		t.Fatal("the third failure after the restart did not hit")
	}
	if h := f.hits[0]; h.Events != 3 || len(h.Evidence) != 3 || h.Evidence[0].Line != 1 || !h.First.Equal(t0) {
		t.Fatalf("hit %+v: want the three failures, the first from before the restart", h)
	}
	if f.send("id-fail", 3*time.Minute, u) != 0 {
		t.Fatal("a fourth failure hit again: the hit fired twice")
	}
	// The watermark came across too: a match later than the lateness
	// allows is still dropped.
	if f.send("id-fail", -time.Hour, u) != 0 || f.k.Stats().Late != 1 {
		t.Fatalf("late match after restore: stats %+v", f.k.Stats())
	}
}

// TestCorrelationStateClosingWindowAndOrder: a closing window (lt) and an
// ordered chain carry over, and expire on event time as before.
func TestCorrelationStateClosingWindowAndOrder(t *testing.T) {
	low := countRule("    lt: 2")
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, low)}
	f.send("id-fail", 0, map[string]string{"User": "alice"})
	restart(t, f, CorrelatorConfig{}, low)
	// A match of another user 11 minutes on closes alice's window: one
	// failure, fewer than 2, hits.
	if f.send("id-fail", 11*time.Minute, map[string]string{"User": "bob"}) != 1 || f.hits[0].Group[0].Value != "alice" {
		t.Fatalf("hits %+v: alice's window did not close after the restart", f.hits)
	}

	ord := temporalDocs("temporal_ordered")
	h := map[string]string{"Host": "h1"}
	g := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, ord)}
	g.send("id-a", 0, h)
	g.send("id-b", time.Minute, h)
	restart(t, g, CorrelatorConfig{}, ord)
	if g.send("id-c", 2*time.Minute, h) != 1 || len(g.hits[0].Evidence) != 3 {
		t.Fatalf("ordered chain across the restart: %+v", g.hits)
	}
}

// TestCorrelationStateShapeChanged: a correlation whose timespan changed
// starts empty; the state of a correlation that is gone is dropped; a
// correlator in use refuses a restore; garbage is refused.
func TestCorrelationStateShapeChanged(t *testing.T) {
	u := map[string]string{"User": "alice"}
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, countRule("    gte: 2"))}
	f.send("id-fail", 0, u)
	longer := strings.Replace(countRule("    gte: 2"), "timespan: 10m", "timespan: 1h", 1)
	if r, d := restart(t, f, CorrelatorConfig{}, longer); r != 0 || d != 1 {
		t.Fatalf("changed timespan: restored %d, dropped %d", r, d)
	}
	if f.send("id-fail", time.Minute, u) != 0 {
		t.Fatal("a window of the old shape counted")
	}
	if _, _, err := f.k.Restore(nil); err == nil {
		t.Fatal("restore into a correlator in use")
	}
	k := newCorr(t, CorrelatorConfig{}, longer)
	if _, _, err := k.Restore([]byte("not gob")); err == nil {
		t.Fatal("garbage restored")
	}
}

// TestCorrelationStateGroupCap: a restore keeps to MaxGroups.
func TestCorrelationStateGroupCap(t *testing.T) {
	doc := countRule("    gte: 5")
	f := &feeder{t: t, k: newCorr(t, CorrelatorConfig{}, doc)}
	for _, u := range []string{"a", "b", "c", "d"} {
		f.send("id-fail", 0, map[string]string{"User": u})
	}
	r, d := restart(t, f, CorrelatorConfig{MaxGroups: 3}, doc)
	if r != 3 || d != 1 || f.k.Stats().Groups != 3 {
		t.Fatalf("restored %d, dropped %d, groups %d; want 3, 1, 3", r, d, f.k.Stats().Groups)
	}
}
