package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// eventAfter reports whether a comes before b in newest-first order: later
// time, then higher id.
func eventAfter(a, b *store.StoredEvent) bool {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c > 0
	}
	return a.ID.Compare(b.ID) > 0
}

// Events returns the events of workspace matching q, newest first.
//
// Blocks are read by descending max_time. A block's events are all at or
// before its max_time, so once the next block's max_time is below an event,
// no block still unread can hold a newer one, and the event can be paged
// out; blocks that overlap in time are merged this way.
func (db *DB) Events(ctx context.Context, workspace string, q store.EventQuery) ([]store.StoredEvent, string, error) {
	n := limit(q.Limit)
	fail := func(err error) ([]store.StoredEvent, string, error) {
		return nil, "", fmt.Errorf("events of %s: %w", workspace, err)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fail(fmt.Errorf("time range %v to %v: %w (from must be before to)", q.From, q.To, store.ErrInvalid))
	}
	var after *store.StoredEvent // the last event of the previous page
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "event")
		if err != nil {
			return fail(err)
		}
		id, err := event.ParseID(c.s)
		if err != nil || c.m < 0 || c.m >= int64(time.Second) {
			return fail(fmt.Errorf("cursor %q: %w", q.Cursor, store.ErrInvalid))
		}
		after = &store.StoredEvent{ID: id, Time: time.Unix(c.n, c.m).UTC()}
	}

	where := []string{"workspace = ?"}
	args := []any{workspace}
	if !q.From.IsZero() {
		where = append(where, "max_time >= ?")
		args = append(args, nanos(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "min_time < ?")
		args = append(args, nanos(q.To))
	}
	if after != nil {
		where = append(where, "min_time <= ?")
		args = append(args, nanos(after.Time))
	}
	if q.Source != "" {
		where = append(where, "source = ?")
		args = append(args, q.Source)
	}
	if q.Entity != "" {
		where = append(where, "id IN (SELECT block_id FROM event_entities WHERE workspace = ? AND value = ?)")
		args = append(args, workspace, q.Entity)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, source, format, max_time, data FROM event_blocks WHERE `+
		strings.Join(where, " AND ")+` ORDER BY max_time DESC, id DESC`, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()

	keep := func(e *store.StoredEvent) bool {
		if !q.From.IsZero() && e.Time.Before(q.From) {
			return false
		}
		if !q.To.IsZero() && !e.Time.Before(q.To) {
			return false
		}
		if after != nil && !eventAfter(after, e) {
			return false
		}
		if q.Source != "" && e.Source != q.Source {
			return false
		}
		if q.Entity != "" && !hasEntity(e, q.Entity) {
			return false
		}
		return true
	}

	// out is the page so far, newest first; pending holds the events read
	// that may still be preceded by events of blocks not yet read. Only
	// the newest n+1 of all are ever wanted, so pending is cut to what the
	// page still lacks.
	var out, pending []*store.StoredEvent
	newestFirst := func(a, b *store.StoredEvent) int {
		if eventAfter(a, b) {
			return -1
		}
		if eventAfter(b, a) {
			return 1
		}
		return 0
	}
	for rows.Next() {
		var (
			id             []byte
			source, format string
			maxTime        int64
			data           []byte
		)
		if err := rows.Scan(&id, &source, &format, &maxTime, &data); err != nil {
			return fail(err)
		}
		// pending is sorted: move what is newer than anything unread.
		i := 0
		for i < len(pending) && nanos(pending[i].Time) > maxTime {
			i++
		}
		out = append(out, pending[:i]...)
		pending = pending[i:]
		if len(out) > n {
			break
		}
		evs, err := db.readBlock(data, workspace, source, format)
		if err != nil {
			return fail(fmt.Errorf("block %s: %w", blockName(id), err))
		}
		for i := range evs {
			if keep(&evs[i]) {
				pending = append(pending, &evs[i])
			}
		}
		slices.SortFunc(pending, newestFirst)
		if need := n + 1 - len(out); len(pending) > need {
			clear(pending[need:]) // let the blocks' events go
			pending = pending[:need]
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	out = append(out, pending...)
	if len(out) > n+1 {
		out = out[:n+1]
	}
	page := make([]store.StoredEvent, len(out))
	for i, e := range out {
		page[i] = *e
	}
	next := ""
	if len(page) > n {
		page = page[:n]
		last := page[n-1]
		next = encodeCursor("event", cursor{n: last.Time.Unix(), m: int64(last.Time.Nanosecond()), s: last.ID.String()})
	}
	return page, next, nil
}

func hasEntity(e *store.StoredEvent, v string) bool {
	for _, f := range entityFields {
		if e.Common[f] == v {
			return true
		}
	}
	return false
}

func blockName(id []byte) string {
	var b event.ID
	if len(id) != len(b) {
		return fmt.Sprintf("%x", id)
	}
	copy(b[:], id)
	return b.String()
}

// readBlock decompresses and decodes a stored block; events that were
// stored without their own source or format get the block's.
func (db *DB) readBlock(data []byte, ws, source, format string) ([]store.StoredEvent, error) {
	raw, err := db.codec.decompress(data)
	if err != nil {
		return nil, err
	}
	evs, err := decodeBlock(raw, ws)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = source
		}
		if evs[i].Format == "" {
			evs[i].Format = format
		}
	}
	return evs, nil
}

// Event returns one event of workspace by id. Event ids are ULIDs: the
// blocks that can hold id have min_id ≤ id ≤ max_id, and since no block
// spans more than the widest span recorded, the index range on min_id is
// bounded below too.
func (db *DB) Event(ctx context.Context, workspace string, id event.ID) (store.StoredEvent, error) {
	fail := func(err error) (store.StoredEvent, error) {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, err)
	}
	var span int64
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'max_id_span_ms'`).Scan(&span)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	var lower event.ID
	if t := int64(id.Time()) - span; t > 0 {
		lower.SetTime(uint64(t))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, source, format, data FROM event_blocks
		WHERE workspace = ? AND min_id BETWEEN ? AND ? AND max_id >= ? ORDER BY min_id DESC`,
		workspace, lower[:], id[:], id[:])
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			bid            []byte
			source, format string
			data           []byte
		)
		if err := rows.Scan(&bid, &source, &format, &data); err != nil {
			return fail(err)
		}
		evs, err := db.readBlock(data, workspace, source, format)
		if err != nil {
			return fail(fmt.Errorf("block %s: %w", blockName(bid), err))
		}
		for i := range evs {
			if bytes.Equal(evs[i].ID[:], id[:]) {
				return evs[i], nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return fail(store.ErrNotFound)
}

// PurgeEvents deletes the blocks whose newest event is older than before,
// with their entity rows, a few hundred blocks a transaction so that ingest
// is not held up behind a long purge.
func (db *DB) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var removed, blocks int64
		err := db.write(ctx, "purge events", func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, count FROM event_blocks WHERE max_time < ? LIMIT 256`, nanos(before))
			if err != nil {
				return fmt.Errorf("purge events before %v: %w", before, err)
			}
			var ids []any
			for rows.Next() {
				var id []byte
				var n int64
				if err := rows.Scan(&id, &n); err != nil {
					rows.Close()
					return fmt.Errorf("purge events before %v: %w", before, err)
				}
				ids = append(ids, id)
				removed += n
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("purge events before %v: %w", before, err)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("purge events before %v: %w", before, err)
			}
			blocks = int64(len(ids))
			if blocks == 0 {
				return nil
			}
			in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_entities WHERE block_id IN `+in, ids...); err != nil {
				return fmt.Errorf("purge events before %v: entity index: %w", before, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_blocks WHERE id IN `+in, ids...); err != nil {
				return fmt.Errorf("purge events before %v: blocks: %w", before, err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		if blocks == 0 {
			if total > 0 {
				db.log.Info("events purged", "before", before, "events", total)
			}
			return total, nil
		}
	}
}
