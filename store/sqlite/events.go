package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Events returns the events of workspace matching q, newest first.
//
// Blocks are read by descending max_time. A block's events are all at or
// before its max_time, so once the next block's max_time is below an event,
// no block still unread can hold a newer one, and the event can be paged
// out; blocks that overlap in time are merged this way.
func (db *DB) Events(ctx context.Context, workspace string, q store.EventQuery) ([]store.StoredEvent, string, error) {
	fail := func(err error) ([]store.StoredEvent, string, error) {
		return nil, "", fmt.Errorf("events of %s: %w", workspace, err)
	}
	page, err := store.NewEventPage(q)
	if err != nil {
		return fail(err)
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
	if after := page.After(); after != nil {
		where = append(where, "min_time <= ?")
		args = append(args, nanos(after.Time))
	}
	if q.Source != "" {
		where = append(where, "source = ?")
		args = append(args, q.Source)
	}
	if f := page.EntityFolded(); f != "" {
		where = append(where, "id IN (SELECT block_id FROM event_entities WHERE workspace = ? AND folded = ?)")
		args = append(args, workspace, f)
	}
	if len(page.AnyFolded) > 0 {
		where = append(where, "id IN (SELECT block_id FROM event_entities WHERE workspace = ? AND folded IN (?"+
			strings.Repeat(", ?", len(page.AnyFolded)-1)+"))")
		args = append(args, workspace)
		for _, f := range page.AnyFolded {
			args = append(args, f)
		}
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, source, format, max_time, data FROM event_blocks WHERE `+
		strings.Join(where, " AND ")+` ORDER BY max_time DESC, id DESC`, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
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
		if page.Next(maxTime) {
			break
		}
		evs, err := db.readBlock(data, workspace, source, format)
		if err != nil {
			return fail(fmt.Errorf("block %s: %w", blockName(id), err))
		}
		page.Add(evs)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	evs, next := page.Result()
	return evs, next, nil
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
	return store.CachedBlock{Raw: raw, Source: source, Format: format}.Events(ws, nil)
}

// Event returns one event of workspace by id (EventsByID's way).
func (db *DB) Event(ctx context.Context, workspace string, id event.ID) (store.StoredEvent, error) {
	got, err := db.EventsByID(ctx, workspace, []event.ID{id})
	if err != nil {
		return store.StoredEvent{}, err
	}
	ev, ok := got[id]
	if !ok {
		return ev, fmt.Errorf("event %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	return ev, nil
}

// PurgeEvents deletes the blocks received before before, with their entity
// rows, and lowers their sources' event counters; see store.Store. A block
// that holds evidence of an open alert stays. It works a few hundred blocks
// a transaction so that ingest is not held up behind a long purge.
func (db *DB) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	var (
		total, kept int64
		after       *purgeCandidate // the last block looked at: the next start
	)
	what := fmt.Sprintf("purge events received before %v", before)
	for {
		var chunk []purgeCandidate
		err := db.write(ctx, what, func(tx *sql.Tx) error {
			var err error
			if chunk, err = db.purgeChunk(ctx, tx, before, after); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		if len(chunk) == 0 {
			break
		}
		for _, c := range chunk {
			if c.keep {
				kept += c.count
			} else {
				total += c.count
			}
		}
		after = &chunk[len(chunk)-1]
	}
	if total > 0 || kept > 0 {
		// The caller (serve's retention) says what went at INFO; this
		// adds what was kept.
		db.log.Debug("events purged", "received_before", before, "events", total, "kept_for_open_alerts", kept)
	}
	return total, nil
}

// PurgeCommittedBatches forgets the ids of batches committed before
// before; see store.Store. It deletes a few thousand ids a transaction.
func (db *DB) PurgeCommittedBatches(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	what := fmt.Sprintf("purge the ids of batches committed before %v", before)
	for {
		var n int64
		err := db.write(ctx, what, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM committed_batches WHERE id IN
				(SELECT id FROM committed_batches WHERE committed < ? LIMIT 4096)`, nanos(before))
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// purgeCandidate is a block received before the retention limit.
type purgeCandidate struct {
	id            []byte
	received      int64
	ws, source    string
	count         int64
	evidenceRange bool // an open alert names an event in the block's id range
	keep          bool // the block holds evidence of an open alert
}

// sqlOpenEvidence: evidence of open alerts in a block's id range. Ids are
// ULIDs and a block's events lie between its min_id and max_id.
var sqlOpenEvidence = `alert_evidence e JOIN alerts a ON a.id = e.alert_id
	WHERE e.workspace = b.workspace AND e.event_id BETWEEN b.min_id AND b.max_id AND a.status IN ` + sqlOpenStatuses

// purgeChunk deletes the next blocks after after (in received, id order)
// received before before, except those that hold evidence of an open alert,
// and returns the blocks it looked at.
func (db *DB) purgeChunk(ctx context.Context, tx *sql.Tx, before time.Time, after *purgeCandidate) ([]purgeCandidate, error) {
	q := `SELECT b.id, b.received, b.workspace, b.source, b.count, EXISTS (SELECT 1 FROM ` + sqlOpenEvidence + `)
		FROM event_blocks b WHERE b.received < ?`
	args := []any{nanos(before)}
	if after != nil {
		q += ` AND (b.received, b.id) > (?, ?)`
		args = append(args, after.received, after.id)
	}
	chunk, err := queryRows(ctx, tx, q+` ORDER BY b.received, b.id LIMIT 256`, args, func(r scanner) (purgeCandidate, error) {
		var c purgeCandidate
		err := r.Scan(&c.id, &c.received, &c.ws, &c.source, &c.count, &c.evidenceRange)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	var ids []any
	gone := map[[2]string]int64{}
	for i := range chunk {
		c := &chunk[i]
		if c.evidenceRange {
			if c.keep, err = db.holdsOpenEvidence(ctx, tx, c.id, c.ws); err != nil {
				return nil, fmt.Errorf("block %s: %w", blockName(c.id), err)
			}
		}
		if !c.keep {
			ids = append(ids, c.id)
			gone[[2]string{c.ws, c.source}] += c.count
		}
	}
	if len(ids) == 0 {
		return chunk, nil
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	if _, err := tx.ExecContext(ctx, `DELETE FROM event_entities WHERE block_id IN `+in, ids...); err != nil {
		return nil, fmt.Errorf("entity index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM event_blocks WHERE id IN `+in, ids...); err != nil {
		return nil, fmt.Errorf("blocks: %w", err)
	}
	for k, n := range gone {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET events = max(events - ?, 0) WHERE workspace = ? AND name = ?`,
			n, k[0], k[1]); err != nil {
			return nil, fmt.Errorf("source %s/%s: lower the event counter: %w", k[0], k[1], err)
		}
	}
	return chunk, nil
}

// holdsOpenEvidence reports whether block id holds an event that an open
// alert names as evidence: the id range is only a hint, since the ranges of
// blocks of concurrent sources interleave. A block that cannot be read is
// kept, with a warning: it may hold the evidence.
func (db *DB) holdsOpenEvidence(ctx context.Context, tx *sql.Tx, id []byte, ws string) (bool, error) {
	named := map[event.ID]bool{}
	_, err := queryRows(ctx, tx, `SELECT DISTINCT e.event_id FROM event_blocks b, `+sqlOpenEvidence+` AND b.id = ?`, []any{id},
		func(r scanner) (struct{}, error) {
			var b []byte
			var e event.ID
			err := r.Scan(&b)
			copy(e[:], b)
			named[e] = true
			return struct{}{}, err
		})
	if err != nil || len(named) == 0 {
		return false, err
	}
	var source, format string
	var data []byte
	if err := tx.QueryRowContext(ctx, `SELECT source, format, data FROM event_blocks WHERE id = ?`, id).Scan(&source, &format, &data); err != nil {
		return false, err
	}
	evs, err := db.readBlock(data, ws, source, format)
	if err != nil {
		db.log.Warn("retention keeps an unreadable block that may hold evidence of an open alert",
			"block", blockName(id), "workspace", ws, "err", err)
		return true, nil
	}
	for i := range evs {
		if named[evs[i].ID] {
			return true, nil
		}
	}
	return false, nil
}
