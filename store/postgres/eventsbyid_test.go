package postgres

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// TestEventsByIDKeepsBlocks: the blocks EventsByID read are kept
// decompressed and answer the next reads of their events without the
// database's copy (removed here behind the store's back to tell); a read
// inside a transaction neither uses nor fills the cache.
func TestEventsByIDKeepsBlocks(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	var ids []event.ID
	for b := range 3 {
		var evs []store.StoredEvent
		for k := range 50 {
			e := storetest.Event("acme", "ssh", storetest.T0.Add(time.Duration(b*50+k)*time.Second), "h", "u", "10.0.0.1")
			evs = append(evs, e)
			if k%10 == 0 {
				ids = append(ids, e.ID)
			}
		}
		if _, err := db.Commit(ctx, []*store.Batch{storetest.Batch("acme", "ssh", evs...)}); err != nil {
			t.Fatal(err)
		}
	}
	inTx, err := db.eventsByID(ctx, db.pool, "acme", ids, nil)
	if err != nil || len(inTx) != len(ids) || db.blocks.Len() != 0 {
		t.Fatalf("read without the cache: %d of %d events, %v; %d blocks kept", len(inTx), len(ids), err, db.blocks.Len())
	}
	first, err := db.EventsByID(ctx, "acme", ids)
	if err != nil || len(first) != len(ids) || db.blocks.Len() != 3 {
		t.Fatalf("first read: %d of %d events, %v; %d blocks kept, want 3", len(first), len(ids), err, db.blocks.Len())
	}
	// What a caller does with an event's record does not reach the kept
	// block.
	raws := map[event.ID]string{}
	for id, e := range first {
		raws[id] = string(e.Raw)
		e.Raw[0] ^= 0xff
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM event_blocks`); err != nil {
		t.Fatal(err)
	}
	again, err := db.EventsByID(ctx, "acme", ids)
	if err != nil || len(again) != len(ids) {
		t.Fatalf("second read, from the kept blocks: %d of %d events, %v", len(again), len(ids), err)
	}
	for id, e := range first {
		if g := again[id]; g.ID != e.ID || g.Source != e.Source || g.Format != e.Format || string(g.Raw) != raws[id] ||
			g.Common != e.Common || !g.Time.Equal(e.Time) {
			t.Fatalf("event %s read again: %+v, want %+v", id, g, e)
		}
	}
	if got, err := db.eventsByID(ctx, db.pool, "acme", ids, nil); err != nil || len(got) != 0 {
		t.Fatalf("without the cache, after the blocks went: %d events, %v", len(got), err)
	}
}

// BenchmarkEventsByIDRecent reads a few events of the last blocks at a
// time, as assessing incidents does (their new evidence sits in the
// blocks committed last): with the block cache, and without.
func BenchmarkEventsByIDRecent(b *testing.B) {
	db := openTest(b, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		b.Fatal(err)
	}
	const blocks, per = 20, 200
	var ids []event.ID
	for k := range blocks {
		var evs []store.StoredEvent
		for i := range per {
			e := storetest.Event("acme", "ssh", storetest.T0.Add(time.Duration(k*per+i)*time.Second), "host-1", "user-1", "203.0.113.7")
			evs = append(evs, e)
			ids = append(ids, e.ID)
		}
		if _, err := db.Commit(ctx, []*store.Batch{storetest.Batch("acme", "ssh", evs...)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		cache *store.BlockCache
	}{{"cache", db.blocks}, {"none", nil}} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				// Three events of one of the last five blocks.
				k := blocks - 1 - i%5
				want := []event.ID{ids[k*per+i%per], ids[k*per+(i+7)%per], ids[k*per+(i+13)%per]}
				got, err := db.eventsByID(ctx, db.pool, "acme", want, c.cache)
				if err != nil || len(got) != 3 {
					b.Fatalf("%d events, %v", len(got), err)
				}
				i++
			}
		})
	}
}
