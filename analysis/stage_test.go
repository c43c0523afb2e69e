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
