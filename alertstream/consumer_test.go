package alertstream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// raise commits one batch whose signal starts (or grows) the alert of
// rule about host.
func raise(t *testing.T, db streamStore, ws, rule, host string) {
	t.Helper()
	e := store.StoredEvent{ID: event.NewID(), Workspace: ws, Source: "s", Format: "json", Time: t0, Received: t0,
		Raw: []byte(`{"host":"` + host + `"}`)}
	ents := []alert.Entity{{Type: alert.EntityHost, Value: host}}
	b := &store.Batch{ID: event.NewID(), Workspace: ws, Source: "s", Format: "json", Received: t0,
		Events: []store.StoredEvent{e},
		Signals: []alert.Signal{{Workspace: ws, Type: "signature", Rule: alert.RuleRef{ID: rule, Title: rule},
			Severity: alert.High, Entities: ents, DedupKey: alert.DedupKey(ws, rule, ents),
			Evidence: alert.Evidence{EventID: e.ID.String(), Time: t0}}}}
	if _, err := db.Commit(context.Background(), []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
}

// recorder is a handler that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	got  []store.AlertChange
	fail int // calls to refuse first
}

func (r *recorder) handle(_ context.Context, cs []store.AlertChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("downstream unavailable")
	}
	r.got = append(r.got, cs...)
	return nil
}

func (r *recorder) wait(t *testing.T, n int) []store.AlertChange {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]store.AlertChange(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("handler got fewer than %d changes in time", n)
	return nil
}

// streamStore is what these tests need of a store: commits and the
// alert stream. It is the suite's store (SQLite, or PostgreSQL with
// VIGIL_TEST_STORE=postgres: internal/teststore).
type streamStore interface {
	Commit(ctx context.Context, batches []*store.Batch) (int, error)
	Stream
}

// TestConsumerResumesAfterRestart: changes reach the handler once, in
// order, woken by the commit's signal (the poll is an hour); after the
// store and the subscriber restart, delivery resumes after the cursor.
func TestConsumerResumesAfterRestart(t *testing.T) {
	db, reopen := teststore.Reopenable[streamStore](t)
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sub := Alerts("incidents", db, rec.handle)
	sub.Poll, sub.Batch = time.Hour, 2
	go func() { done <- sub.Run(ctx) }()

	raise(t, db, "acme", "r1", "h1")
	raise(t, db, "beta", "r1", "h2")
	raise(t, db, "acme", "r1", "h1") // grows h1's alert
	got := rec.wait(t, 3)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(got) != 3 || got[0].Kind != store.ChangeCreated || got[1].Workspace != "beta" ||
		got[2].Kind != store.ChangeUpdated || got[2].AlertID != got[0].AlertID {
		t.Fatalf("delivered %+v", got)
	}
	db = reopen()
	raise(t, db, "acme", "r2", "h3") // while the consumer was down
	rec2 := &recorder{}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	sub = Alerts("incidents", db, rec2.handle)
	sub.Poll = time.Hour
	go func() { done <- sub.Run(ctx) }()
	got2 := rec2.wait(t, 1)
	raise(t, db, "acme", "r3", "h4")
	got2 = rec2.wait(t, 2)
	time.Sleep(50 * time.Millisecond) // room for a wrong duplicate to arrive
	rec2.mu.Lock()
	got2 = append([]store.AlertChange(nil), rec2.got...)
	rec2.mu.Unlock()
	if len(got2) != 2 || got2[0].Seq <= got[2].Seq || got2[0].Kind != store.ChangeCreated || got2[1].Seq <= got2[0].Seq {
		t.Fatalf("after restart delivered %+v (before: last seq %d)", got2, got[2].Seq)
	}
}

// flakyCursor fails the first cursor write: the crash between a handler's
// success and the acknowledgement.
type flakyCursor struct {
	streamStore
	failed bool
}

func (f *flakyCursor) SetConsumerCursor(ctx context.Context, name string, seq int64) error {
	if !f.failed {
		f.failed = true
		return errors.New("store went away")
	}
	return f.streamStore.SetConsumerCursor(ctx, name, seq)
}

// TestConsumerAtLeastOnce: a failing handler has the same changes again,
// nothing skipped; an unacknowledged delivery is delivered again.
func TestConsumerAtLeastOnce(t *testing.T) {
	db := teststore.Open[streamStore](t)
	ctx := context.Background()
	raise(t, db, "acme", "r1", "h1")
	raise(t, db, "acme", "r1", "h2")

	rec := &recorder{fail: 1}
	sub := Alerts("notify", db, rec.handle)
	if n, err := sub.Step(ctx, 10); err == nil || n != 0 {
		t.Fatalf("failing handler: Step = %d, %v", n, err)
	}
	if cur, _ := db.ConsumerCursor(ctx, "notify"); cur != 0 {
		t.Fatalf("cursor moved to %d past a failed delivery", cur)
	}
	if n, err := sub.Step(ctx, 10); err != nil || n != 2 {
		t.Fatalf("retry: Step = %d, %v", n, err)
	}
	if n, err := sub.Step(ctx, 10); err != nil || n != 0 {
		t.Fatalf("nothing new: Step = %d, %v", n, err)
	}

	flaky := &flakyCursor{streamStore: db}
	rec2 := &recorder{}
	sub2 := Alerts("automation", flaky, rec2.handle)
	if _, err := sub2.Step(ctx, 10); err == nil {
		t.Fatal("lost acknowledgement not reported")
	}
	if n, err := sub2.Step(ctx, 10); err != nil || n != 2 {
		t.Fatalf("after lost acknowledgement: Step = %d, %v", n, err)
	}
	if len(rec2.got) != 4 || rec2.got[2].Seq != rec2.got[0].Seq {
		t.Fatalf("want the two changes delivered twice (at least once), got %+v", rec2.got)
	}
	if cur, _ := db.ConsumerCursor(ctx, "automation"); cur != rec2.got[3].Seq {
		t.Fatalf("cursor %d, want %d", cur, rec2.got[3].Seq)
	}
}

func TestConsumerNeedsNameStreamHandler(t *testing.T) {
	if err := (&Consumer[store.AlertChange]{}).Run(context.Background()); err == nil {
		t.Fatal("Run without a name, stream or handler")
	}
}

// TestConsumerIdleWakes: a consumer whose Idle asks to run again soon is
// woken for it with no change and no poll, and Idle's error is retried.
func TestConsumerIdleWakes(t *testing.T) {
	db := teststore.Open[streamStore](t)
	var mu sync.Mutex
	calls := 0
	c := Alerts("idle", db, func(context.Context, []store.AlertChange) error { return nil })
	c.Poll, c.Retry = time.Hour, 10*time.Millisecond
	c.Idle = func(context.Context) (time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 2 {
			return time.Time{}, errors.New("deferred work failed")
		}
		return time.Now().Add(20 * time.Millisecond), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Idle ran %d times in 10 s with a poll of an hour; want it woken at the time it asked", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
}
