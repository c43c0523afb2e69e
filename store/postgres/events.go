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

const eventSelect = `SELECT workspace, id, source, format, product, category, service, time, event_received, common, raw FROM events`

func scanEvent(row scanner) (store.StoredEvent, error) {
	var (
		e              store.StoredEvent
		id             []byte
		t, recv        int64
		common         [][]byte
		product, c, sv string
	)
	if err := row.Scan(&e.Workspace, &id, &e.Source, &e.Format, &product, &c, &sv, &t, &recv, &common, &e.Raw); err != nil {
		return store.StoredEvent{}, err
	}
	if len(id) != len(e.ID) {
		return store.StoredEvent{}, fmt.Errorf("event id of %d bytes", len(id))
	}
	copy(e.ID[:], id)
	e.Logsource = event.Logsource{Product: product, Category: c, Service: sv}
	e.Time, e.Received = fromNanos(t), fromNanos(recv)
	for i := range min(len(common), event.NumCommon) {
		e.Common[i] = string(common[i])
	}
	return e, nil
}

// Events returns the events of workspace matching q, newest first (time,
// then id, descending). Entity filters are looked up in the folded index
// (entities), then each candidate is compared as its field compares, so a
// page may take more than one query.
func (db *DB) Events(ctx context.Context, workspace string, q store.EventQuery) ([]store.StoredEvent, string, error) {
	n := store.PageLimit(q.Limit)
	fail := func(err error) ([]store.StoredEvent, string, error) {
		return nil, "", fmt.Errorf("events of %s: %w", workspace, err)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fail(fmt.Errorf("time range %v to %v: %w (from must be before to)", q.From, q.To, store.ErrInvalid))
	}
	var after *store.StoredEvent // the last event of the previous page
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "event")
		if err != nil {
			return fail(err)
		}
		id, err := event.ParseID(c.S)
		if err != nil || c.M < 0 || c.M >= int64(time.Second) {
			return fail(fmt.Errorf("cursor %q: %w", q.Cursor, store.ErrInvalid))
		}
		after = &store.StoredEvent{ID: id, Time: time.Unix(c.N, c.M).UTC()}
	}
	var a args
	where := []string{"workspace = " + a.add(workspace)}
	if !q.From.IsZero() {
		where = append(where, "time >= "+a.add(nanos(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "time < "+a.add(nanos(q.To)))
	}
	if q.Source != "" {
		where = append(where, "source = "+a.add(q.Source))
	}
	one := store.NewEntityValue(q.Entity)
	if q.Entity != "" {
		where = append(where, "entities @> ARRAY["+a.add([]byte(one.Folded))+"::bytea]")
	}
	anyOf, anyFolded, err := store.QueryEntities(q.Entities)
	if err != nil {
		return fail(err)
	}
	if len(anyOf) > 0 {
		list := make([][]byte, len(anyFolded))
		for i, f := range anyFolded {
			list[i] = []byte(f)
		}
		where = append(where, "entities && "+a.add(list)+"::bytea[]")
	}
	filtered := q.Entity != "" || len(anyOf) > 0
	keep := func(e *store.StoredEvent) bool {
		return (q.Entity == "" || e.HasEntity(one)) && (len(anyOf) == 0 || e.HasAnyEntity(anyOf))
	}

	var page []store.StoredEvent
	chunk := n + 1
	for len(page) <= n {
		qa := append(args(nil), a...)
		w := append([]string(nil), where...)
		if after != nil {
			w = append(w, "(time, id) < ("+qa.add(nanos(after.Time))+", "+qa.add(after.ID[:])+")")
		}
		evs, err := collect(ctx, db.pool, "events of "+workspace, scanEvent,
			eventSelect+` WHERE `+strings.Join(w, " AND ")+` ORDER BY time DESC, id DESC LIMIT `+qa.add(chunk), qa...)
		if err != nil {
			return nil, "", err
		}
		for i := range evs {
			if !filtered || keep(&evs[i]) {
				page = append(page, evs[i])
			}
		}
		if len(evs) < chunk || !filtered {
			break
		}
		after = &evs[len(evs)-1]
		chunk = min(chunk*2, 10000) // candidates the index gave that did not compare equal: read more at once
	}
	next := ""
	if len(page) > n {
		page = page[:n]
		last := page[n-1]
		next = store.EncodeCursor("event", store.Cursor{N: last.Time.Unix(), M: int64(last.Time.Nanosecond()), S: last.ID.String()})
	}
	return page, next, nil
}

// Event returns one event of workspace.
func (db *DB) Event(ctx context.Context, workspace string, id event.ID) (store.StoredEvent, error) {
	e, err := scanEvent(db.pool.QueryRow(ctx, eventSelect+` WHERE workspace = $1 AND id = $2 LIMIT 1`, workspace, id[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return store.StoredEvent{}, fmt.Errorf("event %s in workspace %s: %w", id, workspace, err)
	}
	return e, nil
}

// sqlPinned selects the batches of a partition (%[1]s) that hold an event
// an open alert names as evidence: retention keeps them whole.
var sqlPinned = `SELECT DISTINCT e.batch_id FROM alert_evidence ae
	JOIN alerts a ON a.id = ae.alert_id AND a.status IN ` + sqlOpenStatuses + `
	JOIN %[1]s e ON e.workspace = ae.workspace AND e.id = ae.event_id`

// PurgeEvents deletes the events received before before; see store.Store.
// A day's partition that ends by then and holds no evidence of an open
// alert is dropped whole; from the others, the rows received before before
// go, but for the batches that hold such evidence. The sources' Events
// counters are lowered by what went, in the same transaction.
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
			n, err = db.purgeRows(ctx, p, limit)
		}
		total += n
		if err != nil {
			return total, fmt.Errorf("purge events received before %v: partition %s: %w", before, p.name, err)
		}
	}
	return total, nil
}

// dropPartition drops p whole unless it holds evidence of an open alert,
// and then deletes its rows but those of batches that do. The events
// table's exclusive lock waits for the Commits in flight (which take it
// ROW EXCLUSIVE before they name evidence) and holds off new ones until
// the drop is done.
func (db *DB) dropPartition(ctx context.Context, p partition) (int64, error) {
	var n int64
	pinned := false
	err := db.tx(ctx, "drop partition "+p.name, func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `LOCK TABLE ONLY events IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (`+fmt.Sprintf(sqlPinned, p.name)+`)`).Scan(&pinned); err != nil {
			return err
		}
		if pinned {
			return nil
		}
		gone, err := countsBySource(ctx, tx, `SELECT workspace, source, count(*) FROM `+p.name+` GROUP BY 1, 2`)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+p.name); err != nil {
			return err
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
	return db.purgeRows(ctx, p, p.day+dayNanos)
}

// purgeRows deletes p's rows received before limit but those of batches
// that hold evidence of an open alert. alert_evidence is locked (SHARE)
// so that no Commit names an event as evidence while it goes.
func (db *DB) purgeRows(ctx context.Context, p partition, limit int64) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge partition "+p.name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE alert_evidence IN SHARE MODE`); err != nil {
			return err
		}
		gone, err := countsBySource(ctx, tx, fmt.Sprintf(`WITH pinned AS (`+sqlPinned+`),
			gone AS (DELETE FROM %[1]s e WHERE e.received < $1 AND e.batch_id NOT IN (SELECT batch_id FROM pinned)
				RETURNING e.workspace, e.source)
			SELECT workspace, source, count(*) FROM gone GROUP BY 1, 2`, p.name), limit)
		if err != nil {
			return err
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
