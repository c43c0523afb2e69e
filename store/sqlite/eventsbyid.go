package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// EventsByID returns the events of workspace with these ids that are
// stored (those past retention are left out), decoding each block that
// holds some of them once: an incident's evidence, read one event at a
// time, decoded a block of a thousand events for each. Event ids are
// ULIDs: the blocks that can hold id have min_id ≤ id ≤ max_id, and since
// no block spans more than the widest span recorded, the index range on
// min_id is bounded below too.
func (db *DB) EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	out := make(map[event.ID]store.StoredEvent, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var span int64
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'max_id_span_ms'`).Scan(&span)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	// The blocks that may hold each id, as Event finds them; a block
	// asked for by many ids is decoded first, so that the others are
	// rarely needed.
	candidates := map[event.ID][]string{}
	wanted := map[string]int{}
	for _, id := range ids {
		if _, ok := candidates[id]; ok {
			continue
		}
		var lower event.ID
		if t := int64(id.Time()) - span; t > 0 {
			lower.SetTime(uint64(t))
		}
		bids, err := list(ctx, db, "blocks of an event", func(r scanner) (string, error) {
			var b []byte
			err := r.Scan(&b)
			return string(b), err
		}, `SELECT id FROM event_blocks WHERE workspace = ? AND min_id BETWEEN ? AND ? AND max_id >= ? ORDER BY min_id DESC`,
			workspace, lower[:], id[:], id[:])
		if err != nil {
			return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
		}
		candidates[id] = bids
		for _, b := range bids {
			wanted[b]++
		}
	}
	order := make([]string, 0, len(wanted))
	for b := range wanted {
		order = append(order, b)
	}
	slices.SortFunc(order, func(a, b string) int {
		if wanted[a] != wanted[b] {
			return wanted[b] - wanted[a]
		}
		return 0
	})
	missing := len(candidates)
	for _, bid := range order {
		if missing == 0 {
			break
		}
		// Only blocks that may still hold a missing id.
		useful := false
		for id, bids := range candidates {
			if _, found := out[id]; !found && slices.Contains(bids, bid) {
				useful = true
				break
			}
		}
		if !useful {
			continue
		}
		b, ok := db.blocks.Get(bid)
		if !ok {
			var data []byte
			err := db.r.QueryRowContext(ctx, `SELECT source, format, data FROM event_blocks WHERE id = ?`, []byte(bid)).Scan(&b.Source, &b.Format, &data)
			if errors.Is(err, sql.ErrNoRows) {
				continue // purged meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("events of workspace %s: block %s: %w", workspace, blockName([]byte(bid)), err)
			}
			if b.Raw, err = db.codec.decompress(data); err != nil {
				return nil, fmt.Errorf("events of workspace %s: block %s: %w", workspace, blockName([]byte(bid)), err)
			}
			db.blocks.Put(bid, b)
		}
		want := make(map[event.ID]bool, missing)
		for id := range candidates {
			if _, found := out[id]; !found {
				want[id] = true
			}
		}
		evs, err := b.Events(workspace, want)
		if err != nil {
			return nil, fmt.Errorf("events of workspace %s: block %s: %w", workspace, blockName([]byte(bid)), err)
		}
		for _, ev := range evs {
			if _, found := out[ev.ID]; !found {
				out[ev.ID] = ev
				missing--
			}
		}
	}
	return out, nil
}
