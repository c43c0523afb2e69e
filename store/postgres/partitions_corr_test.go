package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// TestPartitionJournalAndState: a new batch's partition inputs are
// journalled in its commit, each under its partition (a replayed batch
// adds none); a save by the lease's holder trims its partition's journal
// only; a save by another worker is refused.
func TestPartitionJournalAndState(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	b := storetest.Batch("acme", "ssh", storetest.Event("acme", "ssh", storetest.T0, "web1", "root", "10.0.0.1"))
	b.CorrelationParts = []store.PartitionInput{{Part: 3, Data: []byte("three")}, {Part: 5, Data: []byte("five")}}
	if n, err := db.Commit(ctx, []*store.Batch{b}); err != nil || n != 1 {
		t.Fatalf("commit: %d, %v", n, err)
	}
	if n, err := db.Commit(ctx, []*store.Batch{b}); err != nil || n != 0 {
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
	if ok, err := db.AcquireLease(ctx, "correlation/3", "w2", time.Minute); err != nil || ok {
		t.Fatalf("a second owner took a held lease: %v %v", ok, err)
	}
	es, _ := db.PartitionJournal(ctx, 3, 0, 10)
	if err := db.SavePartitionState(ctx, 3, "correlation/3", "w2", []byte("x"), es[0].Seq); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("save without the lease: %v, want a conflict", err)
	}
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
	holders, err := db.LeaseHolders(ctx, "correlation/")
	if err != nil || len(holders) != 1 || holders["correlation/3"] != "w1" {
		t.Fatalf("holders %v, %v", holders, err)
	}
	if err := db.ReleaseLease(ctx, "correlation/3", "w1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.AcquireLease(ctx, "correlation/3", "w2", 50*time.Millisecond); err != nil || !ok {
		t.Fatalf("lease after its release: %v %v", ok, err)
	}
	time.Sleep(100 * time.Millisecond)
	if ok, err := db.AcquireLease(ctx, "correlation/3", "w1", time.Minute); err != nil || !ok {
		t.Fatalf("an expired lease not taken: %v %v", ok, err)
	}
	if err := db.SetCorrelationPartitions(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCorrelationPartitions(ctx, 8); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("another partition count: %v, want a conflict", err)
	}
}
