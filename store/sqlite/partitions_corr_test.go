package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// TestPartitionJournalAndState: a new batch's partition inputs are
// journalled, each under its partition, in its commit (a replayed batch
// adds none); a saved state trims its partition's journal only.
func TestPartitionJournalAndState(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	b := batch("acme", "s1", ev("acme", "s1", t0, "h", "u", "10.0.0.1"))
	b.CorrelationParts = []store.PartitionInput{{Part: 3, Data: []byte("three")}, {Part: 5, Data: []byte("five")}}
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	again := *b
	if n, err := db.Commit(ctx, []*store.Batch{&again}); err != nil || n != 0 {
		t.Fatalf("replayed commit: %d, %v", n, err)
	}
	for part, want := range map[int]string{3: "three", 5: "five"} {
		es, err := db.PartitionJournal(ctx, part, 0, 10)
		if err != nil || len(es) != 1 || string(es[0].Data) != want || es[0].Batch != b.ID || es[0].Part != part {
			t.Fatalf("partition %d journal: %+v, %v", part, es, err)
		}
	}
	if ok, err := db.AcquireLease(ctx, "correlation/3", "w1", time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	es, _ := db.PartitionJournal(ctx, 3, 0, 10)
	if err := db.SavePartitionState(ctx, 3, "correlation/3", "w1", []byte("state"), es[0].Seq); err != nil {
		t.Fatal(err)
	}
	data, seq, err := db.PartitionState(ctx, 3)
	if err != nil || string(data) != "state" || seq != es[0].Seq {
		t.Fatalf("state: %q %d %v", data, seq, err)
	}
	if es, _ := db.PartitionJournal(ctx, 3, 0, 10); len(es) != 0 {
		t.Fatalf("partition 3 journal kept %d entries after the save", len(es))
	}
	if es, _ := db.PartitionJournal(ctx, 5, 0, 10); len(es) != 1 {
		t.Fatalf("partition 5 journal has %d entries, want its one", len(es))
	}
}

// TestLeases: a lease is one owner's until it expires or is released; a
// worker that lost it cannot save the partition's state.
func TestLeases(t *testing.T) {
	db, clock := openTest(t)
	take := func(owner string, want bool) {
		t.Helper()
		ok, err := db.AcquireLease(ctx, "correlation/0", owner, 10*time.Second)
		if err != nil || ok != want {
			t.Fatalf("%s takes the lease: %v, %v; want %v", owner, ok, err, want)
		}
	}
	take("w1", true)
	take("w2", false)
	take("w1", true) // renewed
	clock.set(t0.Add(9 * time.Second))
	take("w2", false)
	holders, err := db.LeaseHolders(ctx, "correlation/")
	if err != nil || holders["correlation/0"] != "w1" || len(holders) != 1 {
		t.Fatalf("holders %v, %v", holders, err)
	}
	clock.set(t0.Add(11 * time.Second))
	take("w2", true) // w1's expired
	if err := db.SavePartitionState(ctx, 0, "correlation/0", "w1", []byte("x"), 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("save by the old owner: %v, want a conflict", err)
	}
	if err := db.ReleaseLease(ctx, "correlation/0", "w2"); err != nil {
		t.Fatal(err)
	}
	take("w1", true)
	if err := db.SetCorrelationPartitions(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCorrelationPartitions(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCorrelationPartitions(ctx, 8); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("another partition count: %v, want a conflict", err)
	}
}
