package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

// openBus opens an embedded bus in a new directory, closed when the test
// ends.
func openBus(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// startStage runs stage until stop is called; stop fails the test if Run
// did.
func startStage(t *testing.T, stage *Stage) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stage.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// waitUntil polls cond every interval until it holds, and reports whether
// it did before timeout.
func waitUntil(timeout, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
	return true
}
