package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// EventsByID returns the events of workspace with these ids that are
// stored (those past retention are left out), reading and decoding each
// block that holds some of them once, all in one query: an incident's
// evidence, read one event at a time, decodes a block for each.
func (db *DB) EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	return db.eventsByID(ctx, db.pool, workspace, ids)
}

// eventsByID is EventsByID through q: the pool, or a transaction (a
// commit's, a migration's) that reads what it sees.
func (db *DB) eventsByID(ctx context.Context, q querier, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	out := make(map[event.ID]store.StoredEvent, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	asked := make(map[event.ID]bool, len(ids))
	raw := make([][]byte, 0, len(ids))
	for _, id := range ids {
		if !asked[id] {
			asked[id] = true
			raw = append(raw, id[:])
		}
	}
	rows, err := q.Query(ctx, `SELECT b.source, b.format, b.data FROM event_blocks b
		WHERE (b.id, b.received) IN (SELECT DISTINCT i.block_id, i.received FROM event_ids i
			WHERE i.workspace = $1 AND i.id = ANY($2::bytea[]))`, workspace, raw)
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	var source, format string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&source, &format, &data}, func() error {
		// Only the events asked for: a block holds a thousand.
		evs, err := db.readBlockOnly(data, workspace, source, format, asked)
		if err != nil {
			return err
		}
		for i := range evs {
			out[evs[i].ID] = evs[i]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	return out, nil
}
