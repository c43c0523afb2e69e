package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
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
	b, err := bus.Open(ctx, bus.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
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
	stage := NewStage(StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs }, RetryDelay: 100 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- stage.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _, _ := st.snapshot()
		if n == batches {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d batches committed", n, batches)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Acknowledged: the bus holds nothing more.
	for {
		lag, err := b.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus lag %d after every batch was committed", lag)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n, events, signals := st.snapshot()
	if n != batches || events != batches*per || signals != batches {
		t.Fatalf("committed %d batches, %d events, %d signals; want %d, %d, %d", n, events, signals, batches, batches*per, batches)
	}
	if st.commits < 2 {
		t.Fatalf("the failed commit was not retried (%d commits)", st.commits)
	}
}
