package analysis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/store"
)

// memStates keeps the correlator state as the store would.
type memStates struct {
	mu    sync.Mutex
	data  []byte
	saves int
}

func (m *memStates) CorrelationState(context.Context) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data, 0, nil
}

// CorrelationJournal: memStates keeps no journal (the stage gives it no
// batches to journal but the store's).
func (m *memStates) CorrelationJournal(context.Context, int64) ([]store.JournalEntry, error) {
	return nil, nil
}

func (m *memStates) SaveCorrelationState(_ context.Context, data []byte, _ int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data, m.saves = append([]byte(nil), data...), m.saves+1
	return nil
}

// runOnce runs a stage over one batch of carol's failed logons at the
// given minutes past 03:00 and returns the correlation signals stored.
func runOnce(t *testing.T, states CorrelationStates, minutes ...int) int {
	t.Helper()
	var lines []string
	for _, m := range minutes {
		lines = append(lines, fmt.Sprintf(`{"EventID":4625,"Channel":"Security","Computer":"dc1","TargetUserName":"carol","TimeCreated":"2026-01-02T03:0%d:00Z"}`, m))
	}
	b := openBus(t)
	if err := b.Publish(context.Background(), batchOf("windows", lines...)); err != nil {
		t.Fatal(err)
	}
	st := newCountingStore()
	// Compiled for each run, as a restarted process does.
	rs := correlatedRules(t, bruteForceRules, detect.CorrelatorConfig{})
	cfg := StageConfig{Bus: b, Store: st, Rules: func() *Rules { return rs }, Workers: 1}
	if states != nil {
		cfg.CorrelationStates = states
	}
	stop := startStage(t, NewStage(cfg))
	// The batch in the store, not only off the bus: the bus reads no lag
	// before the stage's consumer has fetched anything.
	if !waitUntil(20*time.Second, 10*time.Millisecond, func() bool {
		lag, err := b.Lag(context.Background())
		return err == nil && lag == 0 && st.committed() > 0
	}) {
		t.Fatal("the batch was not committed")
	}
	stop()
	_, signals := st.correlationSignals()
	return signals
}

// TestStageCorrelationAcrossRestart: two failures before a restart and one
// after reach the threshold of three once, when the stage keeps its
// windows in the store; without them (the control) nothing fires.
func TestStageCorrelationAcrossRestart(t *testing.T) {
	if n := runOnce(t, nil, 0, 1); n != 0 {
		t.Fatalf("two failures raised %d correlation signals", n)
	}
	if n := runOnce(t, nil, 2); n != 0 {
		t.Fatalf("control: one failure after a forgetful restart raised %d", n)
	}

	states := &memStates{}
	if n := runOnce(t, states, 0, 1); n != 0 {
		t.Fatalf("two failures raised %d correlation signals", n)
	}
	if states.saves == 0 || len(states.data) == 0 {
		t.Fatal("the stage did not save its windows when it stopped")
	}
	if n := runOnce(t, states, 2); n != 3 {
		t.Fatalf("third failure after the restart: %d correlation signals, want one alert's 3 (one a contributing event)", n)
	}
	// The hit emptied the window, and that state was saved too: one
	// more failure after another restart does not fire again.
	if n := runOnce(t, states, 3); n != 0 {
		t.Fatalf("a fourth failure after another restart raised %d", n)
	}
}

// committed counts the batches of records (not of correlation signals)
// the store holds.
func (c *countingStore) committed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.batches {
		if b.Source != CorrelationSource {
			n++
		}
	}
	return n
}
