package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// TestJournalVisibleInSeqOrder: with several processes committing
// correlation input at once, a reader never sees a journal entry appear
// below one it has already read. Without the journal lock a sequence's
// numbers commit out of order, and a detect stage that saved its state up
// to the highest seq it had read would skip the late, lower one for ever.
func TestJournalVisibleInSeqOrder(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	// The commits' transactions take a while between taking their seq
	// and committing (the writes of a thousand-event block), which is
	// when an unordered journal shows gaps.
	const writers, each = 4, 15
	group := event.NewID()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				evs := make([]store.StoredEvent, 0, 1000)
				for k := range 1000 {
					evs = append(evs, storetest.Event("acme", "ssh", storetest.T0.Add(time.Duration(w*each*1000+i*1000+k)*time.Millisecond), "h", "u", "10.0.0.1"))
				}
				b := storetest.Batch("acme", "ssh", evs...)
				b.Correlation, b.CorrelationGroup = []byte{byte(w), byte(i)}, group
				if _, err := db.Commit(cctx, []*store.Batch{b}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last int64
	seen := 0
	for reading := true; reading; {
		select {
		case <-done:
			reading = false // one more read, after every commit
		default:
		}
		j, err := db.CorrelationJournal(cctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range j {
			if e.Seq <= last {
				continue
			}
			last = e.Seq
			seen++
		}
		// Every entry read before must still be there, and nothing new
		// below the highest: the count of entries up to last is seen.
		n := 0
		for _, e := range j {
			if e.Seq <= last {
				n++
			}
		}
		if n != seen {
			t.Fatalf("an entry appeared below seq %d after it was read: %d entries up to it, %d read in order", last, n, seen)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if seen != writers*each {
		t.Fatalf("read %d journal entries, want %d", seen, writers*each)
	}
}
