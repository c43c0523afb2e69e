package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// readBlock decompresses and decodes a stored block; events that were
// stored without their own source or format get the block's.
func (db *DB) readBlock(data []byte, ws, source, format string) ([]store.StoredEvent, error) {
	raw, err := db.codec.Decompress(data)
	if err != nil {
		return nil, err
	}
	return store.CachedBlock{Raw: raw, Source: source, Format: format}.Events(ws, nil)
}

// blocksAtOnce is how many blocks Events asks for a query: the page is
// usually full after a few, and a query that stops early must not have had
// the server send every block.
const blocksAtOnce = 8

// Events returns the events of workspace matching q, newest first
// (store.EventPage), reading blocks by descending max time a few at a time.
func (db *DB) Events(ctx context.Context, workspace string, q store.EventQuery) ([]store.StoredEvent, string, error) {
	fail := func(err error) ([]store.StoredEvent, string, error) {
		return nil, "", fmt.Errorf("events of %s: %w", workspace, err)
	}
	page, err := store.NewEventPage(q)
	if err != nil {
		return fail(err)
	}
	var a args
	where := []string{"workspace = " + a.add(workspace)}
	if !q.From.IsZero() {
		where = append(where, "max_time >= "+a.add(nanos(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "min_time < "+a.add(nanos(q.To)))
	}
	if after := page.After(); after != nil {
		where = append(where, "min_time <= "+a.add(nanos(after.Time)))
	}
	if q.Source != "" {
		where = append(where, "source = "+a.add(q.Source))
	}
	if f := page.EntityFolded(); f != "" {
		where = append(where, "id IN (SELECT block_id FROM event_entities WHERE workspace = "+a.add(workspace)+
			" AND folded = "+a.add([]byte(f))+")")
	}
	if len(page.AnyFolded) > 0 {
		list := make([][]byte, len(page.AnyFolded))
		for i, f := range page.AnyFolded {
			list[i] = []byte(f)
		}
		where = append(where, "id IN (SELECT block_id FROM event_entities WHERE workspace = "+a.add(workspace)+
			" AND folded = ANY("+a.add(list)+"))")
	}
	type block struct {
		id             []byte
		source, format string
		maxTime        int64
		data           []byte
	}
	var last *block // the last block read: the next query starts after it
	for {
		qa := append(args(nil), a...)
		w := where
		if last != nil {
			w = append(w[:len(w):len(w)], "(max_time, id) < ("+qa.add(last.maxTime)+", "+qa.add(last.id)+")")
		}
		blocks, err := collect(ctx, db.pool, "events of "+workspace, func(r scanner) (block, error) {
			var b block
			return b, r.Scan(&b.id, &b.source, &b.format, &b.maxTime, &b.data)
		}, `SELECT id, source, format, max_time, data FROM event_blocks WHERE `+strings.Join(w, " AND ")+
			` ORDER BY max_time DESC, id DESC LIMIT `+qa.add(blocksAtOnce), qa...)
		if err != nil {
			return nil, "", err
		}
		for i := range blocks {
			b := &blocks[i]
			if page.Next(b.maxTime) {
				evs, next := page.Result()
				return evs, next, nil
			}
			evs, err := db.readBlock(b.data, workspace, b.source, b.format)
			if err != nil {
				return fail(fmt.Errorf("block %s: %w", idString(b.id), err))
			}
			page.Add(evs)
			b.data = nil
		}
		if len(blocks) < blocksAtOnce {
			evs, next := page.Result()
			return evs, next, nil
		}
		last = &blocks[len(blocks)-1]
	}
}

// Event returns one event of workspace: event_ids names its block.
func (db *DB) Event(ctx context.Context, workspace string, id event.ID) (store.StoredEvent, error) {
	var source, format string
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT b.source, b.format, b.data FROM event_ids i
		JOIN event_blocks b ON b.id = i.block_id AND b.received = i.received
		WHERE i.workspace = $1 AND i.id = $2 LIMIT 1`, workspace, id[:]).Scan(&source, &format, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, err)
	}
	evs, err := db.readBlock(data, workspace, source, format)
	if err != nil {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, err)
	}
	for _, e := range evs {
		if e.ID == id {
			return e, nil
		}
	}
	return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: its block lacks it: %w", id, workspace, store.ErrEventBlock)
}

// sqlPinned selects the blocks of a day (event_ids' partition %[1]s) that
// hold an event an open alert names as evidence: retention keeps them.
var sqlPinned = `SELECT DISTINCT i.block_id FROM alert_evidence ae
	JOIN alerts a ON a.id = ae.alert_id AND a.status IN ` + sqlOpenStatuses + `
	JOIN %[1]s i ON i.workspace = ae.workspace AND i.id = ae.event_id`

// PurgeEvents deletes the events received before before; see store.Store.
// A day that ends by then and holds no evidence of an open alert is
// dropped whole (its three partitions); from the others, the blocks
// received before before go, but those that hold such evidence. The
// sources' Events counters are lowered by what went, in the same
// transaction.
func (db *DB) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	limit := nanos(before)
	parts, err := db.partitions(ctx, db.pool)
	if err != nil {
		return 0, fmt.Errorf("purge events: %w", err)
	}
	var total int64
	for _, p := range parts {
		if p.day >= limit {
			break
		}
		var n int64
		if p.day+dayNanos <= limit {
			n, err = db.dropPartition(ctx, p)
		} else {
			n, err = db.purgeBlocks(ctx, p, limit)
		}
		total += n
		if err != nil {
			return total, fmt.Errorf("purge events received before %v: day %s: %w", before, fromNanos(p.day).Format(time.DateOnly), err)
		}
	}
	return total, nil
}

// dropPartition drops a day's partitions unless they hold evidence of an
// open alert, and then purges their blocks but those that do. The parent
// tables' exclusive locks wait for the Commits in flight (which take
// event_blocks ROW EXCLUSIVE before they name evidence) and hold off new
// ones until the drop is done.
func (db *DB) dropPartition(ctx context.Context, p partition) (int64, error) {
	var n int64
	pinned := false
	err := db.tx(ctx, "drop partitions of "+p.of("event_blocks"), func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `LOCK TABLE ONLY `+strings.Join(eventTables, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (`+fmt.Sprintf(sqlPinned, p.of("event_ids"))+`)`).Scan(&pinned); err != nil {
			return err
		}
		if pinned {
			return nil
		}
		gone, err := countsBySource(ctx, tx, `SELECT workspace, source, sum(count) FROM `+p.of("event_blocks")+` GROUP BY 1, 2`)
		if err != nil {
			return err
		}
		for _, t := range eventTables {
			if _, err := tx.Exec(ctx, `DROP TABLE `+p.of(t)); err != nil {
				return err
			}
		}
		n, err = lowerSources(ctx, tx, gone)
		return err
	})
	if err != nil || !pinned {
		if err == nil {
			db.partsMu.Lock()
			delete(db.parts, p.day)
			db.partsMu.Unlock()
		}
		return n, err
	}
	return db.purgeBlocks(ctx, p, p.day+dayNanos)
}

// purgeBlocks deletes a day's blocks received before limit, with their ids
// and entities, but those that hold evidence of an open alert.
// alert_evidence is locked (SHARE) so that no Commit names an event as
// evidence while it goes.
func (db *DB) purgeBlocks(ctx context.Context, p partition, limit int64) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge "+p.of("event_blocks"), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE alert_evidence IN SHARE MODE`); err != nil {
			return err
		}
		pinned := fmt.Sprintf(sqlPinned, p.of("event_ids"))
		gone, err := countsBySource(ctx, tx, fmt.Sprintf(`WITH gone AS (DELETE FROM %s
				WHERE received < $1 AND id NOT IN (%s) RETURNING workspace, source, count)
			SELECT workspace, source, sum(count) FROM gone GROUP BY 1, 2`, p.of("event_blocks"), pinned), limit)
		if err != nil {
			return err
		}
		for _, t := range eventTables[1:] {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE received < $1 AND block_id NOT IN (%s)`, p.of(t), pinned), limit); err != nil {
				return err
			}
		}
		n, err = lowerSources(ctx, tx, gone)
		return err
	})
	return n, err
}

type sourceCount struct {
	ws, source string
	n          int64
}

func countsBySource(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]sourceCount, error) {
	return collect(ctx, tx, "count events by source", func(r scanner) (sourceCount, error) {
		var c sourceCount
		return c, r.Scan(&c.ws, &c.source, &c.n)
	}, sql+` ORDER BY 1, 2`, args...)
}

// lowerSources lowers the sources' event counters by what went (sorted, as
// Commit updates them) and returns the total.
func lowerSources(ctx context.Context, tx pgx.Tx, gone []sourceCount) (int64, error) {
	var total int64
	for _, g := range gone {
		total += g.n
		if _, err := tx.Exec(ctx, `UPDATE sources SET events = greatest(events - $1, 0) WHERE workspace = $2 AND name = $3`,
			g.n, g.ws, g.source); err != nil {
			return 0, fmt.Errorf("source %s/%s: lower the event counter: %w", g.ws, g.source, err)
		}
	}
	return total, nil
}

// PurgeCommittedBatches forgets the ids of batches committed before
// before, a few thousand a statement; see store.Store.
func (db *DB) PurgeCommittedBatches(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM committed_batches WHERE id IN
			(SELECT id FROM committed_batches WHERE committed < $1 LIMIT 4096)`, nanos(before))
		if err != nil {
			return total, fmt.Errorf("purge the ids of batches committed before %v: %w", before, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() == 0 {
			return total, nil
		}
	}
}
