package analysis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// flakyStore fails its first commit and records what it kept after that.
type flakyStore struct {
	mu      sync.Mutex
	fails   int
	commits int
	batches map[event.ID]int // batch id -> times committed
	events  int
	signals int
}

func (f *flakyStore) Commit(_ context.Context, bs []*store.Batch) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits++
	if f.fails > 0 {
		f.fails--
		return 0, errors.New("disk on fire")
	}
	n := 0
	for _, b := range bs {
		if f.batches[b.ID] == 0 {
			n++
			f.events += len(b.Events)
			f.signals += len(b.Signals)
		}
		f.batches[b.ID]++
	}
	return n, nil
}

func (f *flakyStore) snapshot() (int, int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches), f.events, f.signals
}

// TestStageAcksOnlyCommittedBatches runs the stage on the real embedded bus
// with a store whose first commit fails: the failed batches come back and
// everything is committed; nothing stays unacknowledged on the bus.
func TestStageAcksOnlyCommittedBatches(t *testing.T) {
	ctx := context.Background()
	b := openBus(t)
	const batches, per = 12, 20
	for i := 0; i < batches; i++ {
		var lines []string
		for j := 0; j < per; j++ {
			id := 4624
			if j == 0 {
				id = 1102
			}
			lines = append(lines, fmt.Sprintf(`{"EventID":%d,"Channel":"Security","Computer":"h%d"}`, id, i))
		}
		if err := b.Publish(ctx, batchOf("windows", lines...)); err != nil {
			t.Fatal(err)
		}
	}
	st := &flakyStore{fails: 1, batches: map[event.ID]int{}}
	rs := testRulesSet(t)
	if _, ok := (&Stage{}).LastLag("w", "s"); ok {
		t.Fatal("a lag before any commit")
	}
	stage := NewStage(StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs }, RetryDelay: 100 * time.Millisecond})
	stop := startStage(t, stage)
	if !waitUntil(30*time.Second, 20*time.Millisecond, func() bool { n, _, _ := st.snapshot(); return n == batches }) {
		n, _, _ := st.snapshot()
		t.Fatalf("only %d of %d batches committed", n, batches)
	}
	// Acknowledged: the bus holds nothing more.
	var lag uint64
	acked := waitUntil(30*time.Second, 20*time.Millisecond, func() bool {
		var err error
		if lag, err = b.Lag(ctx); err != nil {
			t.Fatal(err)
		}
		return lag == 0
	})
	if !acked {
		t.Fatalf("bus lag %d after every batch was committed", lag)
	}
	stop()
	// The source's last batch waited from its receipt to its commit.
	since := time.Since(batchOf("windows").Received)
	if lag, ok := stage.LastLag("w", "s"); !ok || lag > since || lag < since-time.Minute {
		t.Errorf("LastLag = %v, %v; want about %v", lag, ok, since)
	}
	n, events, signals := st.snapshot()
	if n != batches || events != batches*per || signals != batches {
		t.Fatalf("committed %d batches, %d events, %d signals; want %d, %d, %d", n, events, signals, batches, batches*per, batches)
	}
	if st.commits < 2 {
		t.Fatalf("the failed commit was not retried (%d commits)", st.commits)
	}
}

// TestStageReportsDrainedBacklog: once the stage has worked off a backlog
// and finds the bus empty, it calls Drained once (so that the server can
// give back what the backlog held); idle fetches after that, and a few
// batches it keeps up with, do not call it again.
func TestStageReportsDrainedBacklog(t *testing.T) {
	ctx := context.Background()
	b := openBus(t)
	const batches = 12
	for i := 0; i < batches; i++ {
		if err := b.Publish(ctx, batchOf("windows", fmt.Sprintf(`{"EventID":4624,"Channel":"Security","Computer":"h%d"}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	st := &flakyStore{batches: map[event.ID]int{}}
	rs := testRulesSet(t)
	var mu sync.Mutex
	drained, committedThen := 0, 0
	stop := startStage(t, NewStage(StageConfig{
		Bus: b, Store: st, Rules: func() *Rules { return rs }, BacklogBatches: 5,
		Drained: func() {
			n, _, _ := st.snapshot()
			mu.Lock()
			drained, committedThen = drained+1, n
			mu.Unlock()
		},
	}))
	defer stop()
	count := func() int { mu.Lock(); defer mu.Unlock(); return drained }
	if !waitUntil(30*time.Second, 20*time.Millisecond, func() bool { return count() > 0 }) {
		n, _, _ := st.snapshot()
		t.Fatalf("Drained not called (%d of %d batches committed)", n, batches)
	}
	// Two more batches, fewer than BacklogBatches: the stage keeps up,
	// which is no backlog.
	for i := 0; i < 2; i++ {
		if err := b.Publish(ctx, batchOf("windows", `{"EventID":4624,"Channel":"Security","Computer":"late"}`)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2500 * time.Millisecond) // two more idle fetches
	mu.Lock()
	defer mu.Unlock()
	if n, _, _ := st.snapshot(); n != batches+2 {
		t.Errorf("%d batches committed, want %d", n, batches+2)
	}
	if drained != 1 || committedThen != batches {
		t.Errorf("Drained called %d times, the first with %d of %d batches committed; want once, after all", drained, committedThen, batches)
	}
}
