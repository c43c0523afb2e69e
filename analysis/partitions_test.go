package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

const testPartitions = 4

// partitionedStage commits groups as Stage.commit does in partitioned
// mode: the matches are journalled by partition, nothing is correlated.
func partitionedStage(t *testing.T, db stateStore, rs *Rules) *Stage {
	t.Helper()
	return NewStage(StageConfig{Store: db, Rules: func() *Rules { return rs }, CorrelationPartitions: testPartitions})
}

func commitPartitioned(t *testing.T, s *Stage, db stateStore, rs *Rules, lines ...string) {
	t.Helper()
	res := NewProcessor(rs).Process(batchOf("windows", lines...), tenant.Source{})
	group := []processed{{res: res, rules: rs}}
	s.journalPartitions(group)
	if len(res.Batch.CorrelationParts) == 0 {
		t.Fatal("no partition input journalled")
	}
	if n, err := db.Commit(context.Background(), []*store.Batch{res.Batch}); err != nil || n != 1 {
		t.Fatalf("commit: %d, %v", n, err)
	}
}

// worker is one detect worker's partition owner, driven by hand.
func worker(s *Stage, db stateStore, owner string, ttl time.Duration) *partitioner {
	return &partitioner{s: s, owned: map[int]*partition{}, cfg: PartitionConfig{States: db, Owner: owner,
		Partitions: testPartitions, LeaseTTL: ttl, Poll: time.Millisecond, SaveEvery: time.Hour}}
}

func (pt *partitioner) round() {
	pt.balance(context.Background())
	for _, p := range pt.sorted() {
		pt.correlate(context.Background(), p)
	}
}

// TestPartitionTakeoverExactCounts: worker 1 owns every partition, feeds
// two of carol's failures and saves, then feeds a third (which raises the
// alert, committed or not) and dies without saving; once its leases
// expire, worker 2 takes the partitions, loads the saved states and feeds
// the journal after them: one alert of three events, never two.
func TestPartitionTakeoverExactCounts(t *testing.T) {
	for _, committed := range []bool{false, true} {
		t.Run(map[bool]string{false: "alert lost with the worker", true: "alert committed before the kill"}[committed], func(t *testing.T) {
			db := teststore.Open[stateStore](t)
			rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
			stage := partitionedStage(t, db, rs)
			const ttl = 300 * time.Millisecond
			w1 := worker(NewStage(StageConfig{Store: db, Rules: func() *Rules { return rs }}), db, "w1", ttl)
			if err := db.SetCorrelationPartitions(context.Background(), testPartitions); err != nil {
				t.Fatal(err)
			}
			commitPartitioned(t, stage, db, rs, carolFailure(0), failure("bob", 0))
			commitPartitioned(t, stage, db, rs, carolFailure(1))
			w1.round()
			if len(w1.owned) != testPartitions {
				t.Fatalf("the only worker owns %d partitions, want all %d", len(w1.owned), testPartitions)
			}
			for _, p := range w1.owned {
				if err := w1.save(p); err != nil {
					t.Fatal(err)
				}
			}
			commitPartitioned(t, stage, db, rs, carolFailure(2))
			if committed {
				w1.round()
				if got := correlationAlerts(t, db); len(got) != 1 || got[0] != 3 {
					t.Fatalf("worker 1's alerts %v, want one of 3", got)
				}
			}
			// w1 is killed: no save, no release.
			w2 := worker(NewStage(StageConfig{Store: db, Rules: func() *Rules { return rs }}), db, "w2", ttl)
			w2.round()
			if len(w2.owned) != 0 {
				t.Fatalf("worker 2 took %d partitions whose leases had not expired", len(w2.owned))
			}
			time.Sleep(ttl + 100*time.Millisecond)
			w2.round()
			if len(w2.owned) != testPartitions {
				t.Fatalf("worker 2 owns %d partitions after worker 1's leases expired, want %d", len(w2.owned), testPartitions)
			}
			if got := correlationAlerts(t, db); len(got) != 1 || got[0] != 3 {
				t.Fatalf("correlation alerts' counts %v, want one alert of 3 events", got)
			}
			// The window was emptied by the hit: two more do not fire.
			commitPartitioned(t, stage, db, rs, carolFailure(3), carolFailure(4))
			w2.round()
			if got := correlationAlerts(t, db); len(got) != 1 || got[0] != 3 {
				t.Fatalf("after two more failures, alerts %v, want still one of 3", got)
			}
		})
	}
}

// TestPartitionsShared: a second worker gets half the partitions, handed
// over one a round with their states.
func TestPartitionsShared(t *testing.T) {
	db := teststore.Open[stateStore](t)
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	mk := func(o string) *partitioner {
		return worker(NewStage(StageConfig{Store: db, Rules: func() *Rules { return rs }}), db, o, time.Minute)
	}
	w1, w2 := mk("w1"), mk("w2")
	w1.round()
	for range 6 {
		w2.round()
		w1.round()
	}
	if len(w1.owned) != testPartitions/2 || len(w2.owned) != testPartitions/2 {
		t.Fatalf("owned %d and %d, want %d each", len(w1.owned), len(w2.owned), testPartitions/2)
	}
	for q := range w1.owned {
		if _, both := w2.owned[q]; both {
			t.Fatalf("partition %d owned by both", q)
		}
	}
}

// TestCorrelationMovesBetweenOneStageAndPartitions: a deployment moved
// from one detect stage to partitioned workers, and back, keeps the open
// windows: carol's two failures before the move and one after make one
// alert of three; dave's two under the partitions and one after the move
// back, another. Control: workers that do not read the single stage's
// state (none kept) raise nothing on carol's third failure.
func TestCorrelationMovesBetweenOneStageAndPartitions(t *testing.T) {
	for _, carry := range []bool{true, false} {
		t.Run(map[bool]string{true: "state carried", false: "control"}[carry], func(t *testing.T) {
			ctx := context.Background()
			db := teststore.Open[stateStore](t)
			one := newJournalRun(t, db)
			if out := one.group([]string{carolFailure(0), carolFailure(1)}); len(out) != 0 {
				t.Fatalf("two failures set off %d correlation batches", len(out))
			}
			one.s.saveCorrelations() // the single stage stops
			if !carry {
				db = teststore.Open[stateStore](t) // the workers find no state: a new store
			}

			rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
			stage := partitionedStage(t, db, rs)
			w := worker(NewStage(StageConfig{Store: db, CorrelationStates: db, Rules: func() *Rules { return rs }}), db, "w1", time.Minute)
			if err := db.SetCorrelationPartitions(ctx, testPartitions); err != nil {
				t.Fatal(err)
			}
			commitPartitioned(t, stage, db, rs, carolFailure(2))
			w.round()
			got := correlationAlerts(t, db)
			if !carry {
				if len(got) != 0 {
					t.Fatalf("control: alerts %v from one failure", got)
				}
				return
			}
			if len(got) != 1 || got[0] != 3 {
				t.Fatalf("after the move to partitions, correlation alerts %v, want one of 3", got)
			}
			commitPartitioned(t, stage, db, rs, failure("dave", 3), failure("dave", 4))
			w.round()
			w.stop() // the workers stop: the partitions' states are saved

			back := newJournalRun(t, db)
			out := back.group([]string{failure("dave", 5)})
			if len(out) != 1 {
				t.Fatalf("dave's third failure after the move back set off %d correlation batches, want 1", len(out))
			}
			back.commit(out)
			if got := correlationAlerts(t, db); len(got) != 2 || got[0] != 3 || got[1] != 3 {
				t.Fatalf("correlation alerts %v, want two of 3", got)
			}
			// carol's window was emptied by its hit under the partitions:
			// the single stage did not take it back full.
			if out := back.group([]string{carolFailure(6)}); len(out) != 0 {
				t.Fatalf("one more failure of carol's set off %d batches", len(out))
			}
		})
	}
}

// TestPartitionCountChanges: workers started with another partition count
// than the store's, once the old ones stopped, change it and carry the old
// partitions' windows over: carol's two failures under four partitions and
// one under six make one alert of three. While a worker of the new count
// runs, one of the old count cannot change it back.
func TestPartitionCountChanges(t *testing.T) {
	ctx := context.Background()
	db := teststore.Open[stateStore](t)
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	with := func(parts int) *Stage {
		return NewStage(StageConfig{Store: db, CorrelationStates: db, Rules: func() *Rules { return rs }, CorrelationPartitions: parts})
	}
	owner := func(s *Stage, name string, parts int) *partitioner {
		return &partitioner{s: s, owned: map[int]*partition{}, cfg: PartitionConfig{States: db, Owner: name,
			Partitions: parts, LeaseTTL: 300 * time.Millisecond, Poll: time.Millisecond, SaveEvery: time.Hour}}
	}

	four := with(4)
	w1 := owner(four, "w1", 4)
	if err := four.agreePartitions(ctx, w1.cfg); err != nil {
		t.Fatal(err)
	}
	commitPartitioned(t, four, db, rs, carolFailure(0), carolFailure(1))
	w1.round()
	w1.stop()

	six := with(6)
	w2 := owner(six, "w2", 6)
	if err := six.agreePartitions(ctx, w2.cfg); err != nil {
		t.Fatalf("six partitions after four stopped cleanly: %v", err)
	}
	commitPartitioned(t, six, db, rs, carolFailure(2))
	w2.round()
	if got := correlationAlerts(t, db); len(got) != 1 || got[0] != 3 {
		t.Fatalf("after the count changed, correlation alerts %v, want one of 3", got)
	}

	// w2 runs: a worker of four partitions is refused.
	w3 := owner(with(4), "w3", 4)
	w3.cfg.LeaseTTL = 50 * time.Millisecond
	if err := w3.s.agreePartitions(ctx, w3.cfg); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("four partitions while a worker of six runs: %v, want a conflict", err)
	}
	if err := db.SetCorrelationPartitions(ctx, 6); err != nil {
		t.Fatalf("the refused change left the count: %v", err)
	}

	// w2 is killed with a committed match it never fed: once its leases
	// ran out, the count still cannot change — that match is in no saved
	// state.
	commitPartitioned(t, six, db, rs, failure("dave", 4))
	time.Sleep(400 * time.Millisecond)
	w4 := owner(with(8), "w4", 8)
	w4.cfg.LeaseTTL = 50 * time.Millisecond
	if err := w4.s.agreePartitions(ctx, w4.cfg); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "journalled matches") {
		t.Fatalf("eight partitions with an unsaved journal entry: %v, want a conflict naming it", err)
	}
}
