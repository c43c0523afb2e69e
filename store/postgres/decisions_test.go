package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// TestDecisionStreamConcurrentCreates: decisions made by several
// processes at once while a bouncer polls reach the bouncer each once.
// The stream's seqs come from a sequence; without the decisions' lock a
// poll could read a head above a seq not yet committed and never tell of
// that decision.
func TestDecisionStreamConcurrentCreates(t *testing.T) {
	db := openTest(t, Options{})
	const writers, each = 4, 25
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := db.CreateDecision(ctx, store.Decision{Workspace: "acme", Kind: store.DecisionIP,
					Value: fmt.Sprintf("192.0.%d.%d", w, i), Reason: "test", CreatedBy: "cli", Created: now, Expires: now.Add(time.Hour)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	told := map[string]int{}
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
		}
		d, err := db.DecisionStream(ctx, "acme", "fw", false, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range d.New {
			told[x.Value]++
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(told) != writers*each {
		t.Errorf("the bouncer was told of %d decisions, want %d", len(told), writers*each)
	}
	for v, n := range told {
		if n != 1 {
			t.Errorf("told of %s %d times", v, n)
		}
	}
}
