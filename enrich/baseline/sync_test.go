package baseline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Two workers of one workspace on one store (memStore, which merges as
// the SQL stores do; workers_test.go runs them on the real stores).
func twoWorkers(t *testing.T, learning time.Duration) (a, b *Enricher, st *memStore) {
	t.Helper()
	st = newMemStore()
	a, _ = New(Config{Workspace: "w", Learning: learning, Store: st})
	b, _ = New(Config{Workspace: "w", Learning: learning, Store: st})
	for _, e := range []*Enricher{a, b} {
		if err := e.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, st
}

func syncAll(t *testing.T, es ...*Enricher) {
	t.Helper()
	for _, e := range es {
		if err := e.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// count is what e's model holds of entity's value (-1: nothing).
func count(e *Enricher, model, entity, value string) int64 {
	for i, m := range e.models {
		if m.Name != model {
			continue
		}
		st := e.states[i]
		st.mu.Lock()
		defer st.mu.Unlock()
		if ent := st.entities[entity]; ent != nil {
			if en := ent.values[value]; en != nil {
				return en.count
			}
		}
	}
	return -1
}

func TestSyncAddsUpTheWorkersCounts(t *testing.T) {
	a, b, st := twoWorkers(t, -1)
	for i := range 3 {
		run(a, login(t0.Add(time.Duration(i)*time.Minute), "db1", "webapp", "10.0.0.5", ""))
	}
	run(b, login(t0.Add(time.Hour), "db1", "webapp", "10.0.0.5", ""))
	syncAll(t, a, b)
	// b read a's three; a has not read b's one yet.
	if ca, cb := count(a, "sql.principal", "db1", "webapp"), count(b, "sql.principal", "db1", "webapp"); ca != 3 || cb != 4 {
		t.Fatalf("after one sync each: a %d, b %d; want 3 and 4", ca, cb)
	}
	// Learning between a's save and its read is its own, on top.
	syncAll(t, a)
	run(a, login(t0.Add(2*time.Hour), "db1", "webapp", "10.0.0.5", ""))
	syncAll(t, b) // nothing new to b: a has not saved it
	if ca, cb := count(a, "sql.principal", "db1", "webapp"), count(b, "sql.principal", "db1", "webapp"); ca != 5 || cb != 4 {
		t.Fatalf("a: %d, b: %d; want 5 and 4", ca, cb)
	}
	syncAll(t, a, b, a)
	for name, e := range map[string]*Enricher{"a": a, "b": b} {
		if n := count(e, "sql.principal", "db1", "webapp"); n != 5 {
			t.Errorf("%s: %d, want 5", name, n)
		}
	}
	if r := st.rows["w/sql.principal"][[2]string{"db1", "webapp"}]; r.Count != 5 || !r.First.Equal(t0) || !r.Last.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("stored %+v, want 5 from %v to 2h later", r.Entry, t0)
	}
	saves := st.saves
	syncAll(t, a, b)
	if st.saves != saves {
		t.Errorf("a sync with nothing learnt saved (%d saves, then %d)", saves, st.saves)
	}
}

// A worker alone on its store reads back nothing of what it saves.
func TestSyncAloneReadsNothingBack(t *testing.T) {
	st := newMemStore()
	e, _ := New(Config{Workspace: "w", Learning: -1, Store: st})
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		run(e, login(t0.Add(time.Duration(i)*time.Hour), "db1", fmt.Sprint("user", i), "10.0.0.5", ""))
		syncAll(t, e)
	}
	if st.saves == 0 || st.read != 0 {
		t.Fatalf("%d saves, %d entries read back; want saves and none read", st.saves, st.read)
	}
	// Another worker's save is read, with the reader's own since.
	o, _ := New(Config{Workspace: "w", Learning: -1, Store: st})
	run(o, login(t0, "db2", "x", "10.0.0.5", ""))
	syncAll(t, o)
	st.read = 0
	run(e, login(t0.Add(4*time.Hour), "db1", "user9", "10.0.0.5", ""))
	syncAll(t, e)
	if st.read == 0 || count(e, "sql.principal", "db2", "x") != 1 {
		t.Fatalf("%d entries read; db2/x %d, want read and 1", st.read, count(e, "sql.principal", "db2", "x"))
	}
}

// The documented limit: a value new to both workers within one sync
// interval is first seen by each. Once both synced, neither flags it.
func TestFirstSeenByEachWorkerWithinOneSync(t *testing.T) {
	a, b, _ := twoWorkers(t, -1)
	run(a, login(t0, "db1", "webapp", "10.0.0.5", ""))
	run(b, login(t0, "db1", "webapp", "10.0.0.5", ""))
	syncAll(t, a, b, a)
	at := t0.Add(time.Hour)
	if k := kinds(run(a, login(at, "db1", "intruder", "10.0.0.5", ""))); k["sql.principal"] != KindFirstSeen {
		t.Fatalf("a: %v, want first_seen", k)
	}
	if k := kinds(run(b, login(at.Add(time.Second), "db1", "intruder", "10.0.0.5", ""))); k["sql.principal"] != KindFirstSeen {
		t.Fatalf("b, before a's save: %v, want first_seen (each worker's own)", k)
	}
	if k := kinds(run(b, login(at.Add(2*time.Second), "db1", "mallory", "10.0.0.5", ""))); k["sql.principal"] != KindFirstSeen {
		t.Fatalf("b: %v, want first_seen", k)
	}
	syncAll(t, a, b, a)
	for name, e := range map[string]*Enricher{"a": a, "b": b} {
		for _, u := range []string{"intruder", "mallory"} {
			if r := run(e, login(at.Add(time.Minute), "db1", u, "10.0.0.5", "")); kinds(r)["sql.principal"] != "" {
				t.Errorf("%s, synced: %s flagged %v", name, u, r.Anomalies)
			}
		}
	}
}

// The learning period runs from the earliest event any worker learnt.
func TestLearningStartsAtTheEarliestWorkersEvent(t *testing.T) {
	a, b, _ := twoWorkers(t, 3*day)
	run(a, login(t0.Add(2*day), "db1", "webapp", "10.0.0.5", ""))
	run(b, login(t0, "db1", "dba", "10.0.0.6", ""))
	syncAll(t, b, a)
	if s := status(a, "sql.principal"); !s.Started.Equal(t0) || !s.Learning {
		t.Fatalf("a after sync: %+v, want learning since %v", s, t0)
	}
	if r := run(a, login(t0.Add(3*day+time.Hour), "db1", "intruder", "10.0.0.5", "")); kinds(r)["sql.principal"] != KindFirstSeen {
		t.Fatalf("three days after b's first event, a: %+v, want first_seen (learnt)", r.Anomalies)
	}
}

// A volume model's largest amount is the largest any worker saw.
func TestSyncKeepsTheLargestAmount(t *testing.T) {
	a, b, _ := twoWorkers(t, -1)
	run(a, query(t0, "webapp", 500))
	run(b, query(t0.Add(time.Minute), "webapp", 2000))
	syncAll(t, a, b, a)
	// 15000 is over ten times a's 500, not b's 2000.
	if r := run(a, query(t0.Add(time.Hour), "webapp", 15000)); len(r.Anomalies) != 0 {
		t.Fatalf("a: %+v, want nothing (under ten times the largest, 2000)", r.Anomalies)
	}
	if n := count(b, "sql.rows_read", "db1/webapp", peakKey); n != 2000 {
		t.Fatalf("b's largest %d, want 2000", n)
	}
	syncAll(t, a, b)
	if n := count(b, "sql.rows_read", "db1/webapp", peakKey); n != 15000 {
		t.Fatalf("b's largest after a's save %d, want 15000", n)
	}
}

// A save that fails keeps its deltas for the next, and the model is not
// read back meanwhile: its count would miss them.
func TestFailedSyncNeitherLosesNorDoubles(t *testing.T) {
	a, b, st := twoWorkers(t, -1)
	webapp := func(e *Enricher, n int) {
		for range n {
			run(e, login(t0, "db1", "webapp", "10.0.0.5", ""))
		}
	}
	webapp(a, 2)
	syncAll(t, a)
	webapp(a, 3)
	webapp(b, 1)
	syncAll(t, b)
	st.fail = true
	if err := a.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Sync = %v, want the store's error", err)
	}
	if n := count(a, "sql.principal", "db1", "webapp"); n != 5 {
		t.Fatalf("after a failed sync: %d, want a's own 5 (b's one not read yet)", n)
	}
	st.fail = false
	webapp(a, 1)
	syncAll(t, a)
	if n, r := count(a, "sql.principal", "db1", "webapp"), st.rows["w/sql.principal"][[2]string{"db1", "webapp"}]; n != 7 || r.Count != 7 {
		t.Fatalf("after the retry: worker %d, store %d; want 7 and 7", n, r.Count)
	}
}

// A value not seen within the window is counted afresh, in the store too:
// the save's purge drops it before adding the new delta.
func TestCountedAfreshAfterTheWindowInTheStore(t *testing.T) {
	a, _, st := twoWorkers(t, -1)
	run(a, login(t0, "db1", "webapp", "10.0.0.5", ""))
	run(a, login(t0.Add(time.Hour), "db1", "webapp", "10.0.0.5", ""))
	syncAll(t, a)
	run(a, login(t0.Add(DefaultWindow+2*time.Hour), "db1", "webapp", "10.0.0.5", ""))
	syncAll(t, a)
	if n, r := count(a, "sql.principal", "db1", "webapp"), st.rows["w/sql.principal"][[2]string{"db1", "webapp"}]; n != 1 || r.Count != 1 {
		t.Fatalf("after the window: worker %d, store %d; want 1 and 1", n, r.Count)
	}
}
