package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// EventsByID returns the events of workspace with these ids that are
// stored (those past retention are left out), reading and decoding each
// block that holds some of them once: an incident's evidence, read one
// event at a time, decodes a block for each. The blocks read are kept
// decompressed (store.BlockCache): the next incident's evidence is mostly
// in the same recent blocks, and is not fetched and decompressed again.
func (db *DB) EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error) {
	return db.eventsByID(ctx, db.pool, workspace, ids, db.blocks)
}

// eventsByID is EventsByID through q: the pool, or a transaction (a
// commit's, a migration's) that reads what it sees, which passes no cache
// (what it reads may be rolled back).
func (db *DB) eventsByID(ctx context.Context, q querier, workspace string, ids []event.ID, cache *store.BlockCache) (map[event.ID]store.StoredEvent, error) {
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
	collect := func(b store.CachedBlock) error {
		evs, err := b.Events(workspace, asked)
		if err != nil {
			return err
		}
		for i := range evs {
			out[evs[i].ID] = evs[i]
		}
		return nil
	}
	// The blocks that hold them; those not kept are fetched.
	rows, err := q.Query(ctx, `SELECT DISTINCT block_id, received FROM event_ids WHERE workspace = $1 AND id = ANY($2::bytea[])`, workspace, raw)
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	var blockID []byte
	var received int64
	var fetchIDs [][]byte
	var fetchAt []int64
	_, err = pgx.ForEachRow(rows, []any{&blockID, &received}, func() error {
		if cache != nil {
			if b, ok := cache.Get(blockKey(blockID, received)); ok {
				return collect(b)
			}
		}
		fetchIDs, fetchAt = append(fetchIDs, bytes.Clone(blockID)), append(fetchAt, received)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	if len(fetchIDs) == 0 {
		return out, nil
	}
	rows, err = q.Query(ctx, `SELECT b.id, b.received, b.source, b.format, b.data FROM event_blocks b
		WHERE b.workspace = $1 AND (b.id, b.received) IN (SELECT * FROM unnest($2::bytea[], $3::bigint[]))`, workspace, fetchIDs, fetchAt)
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	var source, format string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&blockID, &received, &source, &format, &data}, func() error {
		dec, err := db.codec.Decompress(data)
		if err != nil {
			return err
		}
		b := store.CachedBlock{Raw: dec, Source: source, Format: format}
		if cache != nil {
			cache.Put(blockKey(blockID, received), b)
		}
		return collect(b)
	})
	if err != nil {
		return nil, fmt.Errorf("events of workspace %s: %w", workspace, err)
	}
	return out, nil
}

// blockKey names a block in the cache: its batch id and when it was
// received (the event tables' partition key).
func blockKey(id []byte, received int64) string {
	return string(binary.BigEndian.AppendUint64(bytes.Clone(id), uint64(received)))
}
