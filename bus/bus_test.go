package bus

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// openTest opens an embedded bus in dir (a fresh temp dir if empty) and
// closes it when the test ends.
func openTest(t testing.TB, dir string, mod func(*Config)) *Bus {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := Config{Dir: dir, Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// drain fetches until want batches arrived or nothing comes for quiet; it
// acks each batch when ack is true.
func drain(t testing.TB, b *Bus, want int, quiet time.Duration, ack bool) []*Delivery {
	t.Helper()
	ctx := ctxT(t)
	var got []*Delivery
	for len(got) < want {
		ds, err := b.Fetch(ctx, 100, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			if ack {
				if err := d.Ack(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		got = append(got, ds...)
	}
	return got
}

func TestPublishFetchAckOnce(t *testing.T) {
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	const n = 60
	sent := make(map[event.ID]*Batch)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ { // concurrent publishers, as HTTP handlers are
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				batch := testBatch(t, 1+rand.IntN(50), 200)
				if err := b.Publish(ctx, batch); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent[batch.ID] = batch
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	waitLag(t, b, n)
	got := drain(t, b, n, time.Second, true)
	if len(got) != n {
		t.Fatalf("fetched %d batches, want %d", len(got), n)
	}
	seen := make(map[event.ID]bool)
	for _, d := range got {
		if seen[d.Batch.ID] {
			t.Fatalf("batch %s delivered twice", d.Batch.ID)
		}
		seen[d.Batch.ID] = true
		want, ok := sent[d.Batch.ID]
		if !ok {
			t.Fatalf("fetched unknown batch %s", d.Batch.ID)
		}
		equalBatch(t, want, d.Batch)
		if d.Delivered != 1 || d.Seq == 0 {
			t.Fatalf("batch %s: delivered %d, seq %d", d.Batch.ID, d.Delivered, d.Seq)
		}
	}
	waitLag(t, b, 0)
	if more := drain(t, b, 1, 300*time.Millisecond, true); len(more) != 0 {
		t.Fatalf("acked batches came again: %d", len(more))
	}
	if s := b.Stats(); s.Published != n || s.Fetched != n || s.Acked != n {
		t.Fatalf("stats %+v", s)
	}
}

func TestReplayAfterClose(t *testing.T) {
	dir := t.TempDir()
	short := func(c *Config) { c.AckWait = time.Second }
	b := openTest(t, dir, short)
	ctx := ctxT(t)
	var ids []event.ID
	for i := 0; i < 10; i++ {
		batch := testBatch(t, 5, 100)
		if err := b.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, batch.ID)
	}
	got := drain(t, b, 10, time.Second, false)
	if len(got) != 10 {
		t.Fatalf("fetched %d, want 10", len(got))
	}
	acked := make(map[event.ID]bool)
	for _, d := range got[:4] {
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
		acked[d.Batch.ID] = true
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := openTest(t, dir, short)
	again := drain(t, b2, 6, 3*time.Second, true)
	if len(again) != 6 {
		t.Fatalf("after reopen: %d batches, want the 6 unacknowledged", len(again))
	}
	for _, d := range again {
		if acked[d.Batch.ID] {
			t.Fatalf("acknowledged batch %s delivered again", d.Batch.ID)
		}
		if d.Delivered < 2 {
			t.Errorf("batch %s: Delivered %d after a redelivery", d.Batch.ID, d.Delivered)
		}
	}
}

func TestDuplicateStoredOnce(t *testing.T) {
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	batch := testBatch(t, 10, 100)
	for i := 0; i < 3; i++ {
		if err := b.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	waitLag(t, b, 1)
	if s := b.Stats(); s.Published != 1 || s.Duplicates != 2 {
		t.Fatalf("stats %+v, want 1 published, 2 duplicates", s)
	}
	if got := drain(t, b, 2, 300*time.Millisecond, true); len(got) != 1 {
		t.Fatalf("fetched %d copies, want 1", len(got))
	}
}

func incompressible(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rand.Uint32())
	}
	return p
}

func TestFullRefusesThenRecovers(t *testing.T) {
	b := openTest(t, "", func(c *Config) { c.MaxMsgSize = 64 << 10; c.MaxBytes = 200 << 10 })
	ctx := ctxT(t)
	var stored int
	var err error
	for i := 0; i < 50; i++ {
		batch := testBatch(t, 1, 10)
		batch.Records[0].Data = incompressible(40 << 10)
		if err = b.Publish(ctx, batch); err != nil {
			break
		}
		stored++
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("after %d batches: got %v, want ErrFull", stored, err)
	}
	if stored == 0 || stored > 5 {
		t.Fatalf("stored %d batches of 40 KiB in a 200 KiB stream", stored)
	}
	if s := b.Stats(); s.Refused != 1 {
		t.Fatalf("refused count %d, want 1", s.Refused)
	}
	if got := drain(t, b, stored, time.Second, true); len(got) != stored {
		t.Fatalf("fetched %d, want %d: a full stream must keep what it stored", len(got), stored)
	}
	// Acknowledged batches leave the work queue, so there is room again.
	batch := testBatch(t, 1, 10)
	batch.Records[0].Data = incompressible(40 << 10)
	if err := b.Publish(ctx, batch); err != nil {
		t.Fatalf("after draining: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	b := openTest(t, "", func(c *Config) { c.MaxMsgSize = 256 << 10 })
	ctx := ctxT(t)
	budget := b.MaxBatchBytes()
	if budget <= 0 || budget >= 256<<10 {
		t.Fatalf("MaxBatchBytes %d for a 256 KiB message", budget)
	}
	// Exactly at the budget, incompressible, with many records: must fit.
	batch := testBatch(t, 50, 1)
	per := budget/50 - RecordOverhead
	for i := range batch.Records {
		batch.Records[i].Data = incompressible(per)
	}
	batch.Workspace = strings.Repeat("w", MaxNameLen)
	batch.Source = strings.Repeat("s", MaxNameLen)
	batch.Format = strings.Repeat("f", MaxNameLen)
	if err := b.Publish(ctx, batch); err != nil {
		t.Fatalf("batch within MaxBatchBytes: %v", err)
	}
	over := testBatch(t, 1, 1)
	over.Records[0].Data = incompressible(256 << 10)
	err := b.Publish(ctx, over)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized batch: got %v, want ErrTooLarge", err)
	}
}

func TestUndecodableIsTerminated(t *testing.T) {
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	if _, err := b.js.Publish(ctx, DefaultSubject+".acme", []byte("not a batch")); err != nil {
		t.Fatal(err)
	}
	good := testBatch(t, 3, 50)
	if err := b.Publish(ctx, good); err != nil {
		t.Fatal(err)
	}
	// A fetch may come back empty early when what it pulled was the
	// undecodable message (terminated, not returned): keep fetching until
	// the good batch arrives, then check that nothing else does.
	var got []*Delivery
	for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		got = append(got, drain(t, b, 1, 500*time.Millisecond, true)...)
	}
	got = append(got, drain(t, b, 1, 300*time.Millisecond, true)...)
	if len(got) != 1 || got[0].Batch.ID != good.ID {
		t.Fatalf("got %d deliveries, want only the good batch", len(got))
	}
	if s := b.Stats(); s.Undecodable != 1 {
		t.Fatalf("undecodable count %d, want 1", s.Undecodable)
	}
	waitLag(t, b, 0)
	info, err := b.js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 0 {
		t.Fatalf("stream still holds %d messages", n)
	}
}

func TestNakRedelivers(t *testing.T) {
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	batch := testBatch(t, 2, 10)
	if err := b.Publish(ctx, batch); err != nil {
		t.Fatal(err)
	}
	first := drain(t, b, 1, time.Second, false)
	if len(first) != 1 {
		t.Fatalf("got %d", len(first))
	}
	if err := first[0].Nak(0); err != nil {
		t.Fatal(err)
	}
	second := drain(t, b, 1, 2*time.Second, true)
	if len(second) != 1 || second[0].Batch.ID != batch.ID || second[0].Delivered != 2 {
		t.Fatalf("after nak: %d deliveries", len(second))
	}
}

func TestFetchWaitsAndStops(t *testing.T) {
	b := openTest(t, "", nil)
	start := time.Now()
	ds, err := b.Fetch(context.Background(), 10, 300*time.Millisecond)
	if err != nil || len(ds) != 0 {
		t.Fatalf("empty stream: %d, %v", len(ds), err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Fatalf("waited %v for 300ms", d)
	}
	// A batch published while a fetch waits is returned without waiting the full time.
	go func() {
		time.Sleep(200 * time.Millisecond)
		if err := b.Publish(context.Background(), testBatch(t, 1, 10)); err != nil {
			t.Error(err)
		}
	}()
	start = time.Now()
	ds, err = b.Fetch(context.Background(), 10, 10*time.Second)
	if err != nil || len(ds) != 1 {
		t.Fatalf("waiting fetch: %d, %v", len(ds), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("fetch returned after %v, not when the batch arrived", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = b.Fetch(ctx, 10, 10*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	if _, err := b.Fetch(ctx, 0, 0); err == nil {
		t.Fatalf("max 0 accepted")
	}
}

func TestPublishRejectsBadWorkspace(t *testing.T) {
	b := openTest(t, "", nil)
	for _, ws := range []string{"", "a.b", "a*", ">", "a b"} {
		batch := testBatch(t, 1, 10)
		batch.Workspace = ws
		if err := b.Publish(ctxT(t), batch); err == nil || !strings.Contains(err.Error(), "workspace") {
			t.Errorf("workspace %q: %v", ws, err)
		}
	}
}

func TestHealthyAndClose(t *testing.T) {
	b := openTest(t, "", nil)
	if err := b.Healthy(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := b.Healthy(ctxT(t)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("healthy after close: %v", err)
	}
	if err := b.Publish(ctxT(t), testBatch(t, 1, 10)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("publish after close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "dir: required"},
		{Config{Dir: "x", MaxMsgSize: 100}, "max_msg_size: 100 is outside"},
		{Config{Dir: "x", MaxMsgSize: 1 << 30}, "max_msg_size"},
		{Config{Dir: "x", Stream: "a.b"}, "stream: \"a.b\""},
		{Config{Dir: "x", Subject: "a.*"}, "subject: \"a.*\""},
		{Config{Dir: "x", Replicas: 3}, "replicas: 3 needs an external cluster"},
		{Config{Dir: "x", AckWait: time.Millisecond}, "ack_wait"},
		{Config{Dir: "x", MaxBytes: 1000}, "max_bytes: 1000 is smaller than max_msg_size"},
		{Config{Dir: "x", SyncInterval: -time.Second, MaxDeliver: -2}, "max_deliver: -2"},
	}
	for _, c := range cases {
		_, err := Open(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestRecordsSurviveReuse(t *testing.T) {
	// A fetched batch's records must not change when the next batch is fetched.
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	b1, b2 := testBatch(t, 3, 100), testBatch(t, 3, 100)
	for _, x := range []*Batch{b1, b2} {
		if err := b.Publish(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	first := drain(t, b, 1, time.Second, true)
	keep := bytes.Clone(first[0].Batch.Records[0].Data)
	drain(t, b, 1, time.Second, true)
	if !bytes.Equal(first[0].Batch.Records[0].Data, keep) {
		t.Fatalf("first batch's record changed after the next fetch")
	}
}

// waitLag waits for the bus lag to reach want: the consumer's counts follow
// publishes and acknowledgements a moment later.
func waitLag(t *testing.T, b *Bus, want uint64) {
	t.Helper()
	var lag uint64
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if lag, err = b.Lag(context.Background()); err == nil && lag == want {
			return
		}
	}
	t.Fatalf("bus lag %d (%v), want %d", lag, err, want)
}

// TestBacklog: the backlog counts the batches stored and not acknowledged,
// their bytes, and the age of the oldest; acknowledging them empties it.
func TestBacklog(t *testing.T) {
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	if bl, err := b.Backlog(ctx); err != nil || bl.Batches != 0 || bl.Lag(time.Now()) != 0 {
		t.Fatalf("empty bus: %+v, %v", bl, err)
	}
	before := time.Now()
	for range 3 {
		if err := b.Publish(ctx, testBatch(t, 10, 100)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	bl, err := b.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bl.Batches != 3 || bl.Bytes < 3*10*100/2 {
		t.Errorf("backlog %+v, want 3 batches of about 1000 bytes", bl)
	}
	if lag := bl.Lag(time.Now()); lag < 50*time.Millisecond || lag > time.Since(before)+time.Second {
		t.Errorf("lag %v, want about the time since the first publish (%v)", lag, time.Since(before))
	}
	drain(t, b, 3, time.Second, true)
	if bl, err := b.Backlog(ctx); err != nil || bl.Batches != 0 || bl.Lag(time.Now()) != 0 {
		t.Errorf("after every batch was acknowledged: %+v, %v", bl, err)
	}
}

func TestReleaseRecyclesRecords(t *testing.T) {
	// After Release the batch's records are gone, and the next fetch may
	// reuse their memory: the next batch still decodes to its own records.
	b := openTest(t, "", nil)
	ctx := ctxT(t)
	b1, b2 := testBatch(t, 40, 300), testBatch(t, 30, 300)
	for _, x := range []*Batch{b1, b2} {
		if err := b.Publish(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	fetchOne := func(want *Batch) *Delivery {
		t.Helper()
		ds, err := b.Fetch(ctx, 1, time.Second)
		if err != nil || len(ds) != 1 {
			t.Fatalf("fetch: %d batches, %v", len(ds), err)
		}
		equalBatch(t, want, ds[0].Batch)
		if err := ds[0].Ack(ctx); err != nil {
			t.Fatal(err)
		}
		return ds[0]
	}
	first := fetchOne(b1)
	first.Release()
	if first.Batch.Records != nil {
		t.Fatal("records still there after Release")
	}
	first.Release() // twice is harmless
	fetchOne(b2).Release()
}
