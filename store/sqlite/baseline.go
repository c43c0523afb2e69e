package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// sqlMigrate10 keeps the behavioural baselines: a model's start of
// learning per workspace, and its values per entity with their counts and
// first and last times seen. The (workspace, model, last) index serves
// the load (most recent first) and the purge of values too old to count.
const sqlMigrate10 = `
CREATE TABLE baseline_models (
	workspace TEXT NOT NULL,
	model     TEXT NOT NULL,
	started   INTEGER NOT NULL,
	PRIMARY KEY (workspace, model)
) WITHOUT ROWID;

CREATE TABLE baseline_values (
	workspace TEXT NOT NULL,
	model     TEXT NOT NULL,
	entity    TEXT NOT NULL,
	value     TEXT NOT NULL,
	count     INTEGER NOT NULL,
	first     INTEGER NOT NULL,
	last      INTEGER NOT NULL,
	PRIMARY KEY (workspace, model, entity, value)
) WITHOUT ROWID;
CREATE INDEX baseline_values_last ON baseline_values (workspace, model, last);
`

// LoadBaseline returns when a workspace's model started learning (zero:
// never) and its values last seen at or after since, most recent first,
// at most limit.
func (db *DB) LoadBaseline(ctx context.Context, workspace, model string, since time.Time, limit int) (time.Time, []store.BaselineEntry, error) {
	var started time.Time
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT started FROM baseline_models WHERE workspace = ? AND model = ?`, workspace, model).Scan(&n)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return time.Time{}, nil, fmt.Errorf("baseline %s of %s: %w", model, workspace, err)
	default:
		started = fromNanos(n)
	}
	var from int64 = -1 << 63
	if !since.IsZero() {
		from = nanos(since)
	}
	entries, err := list(ctx, db, fmt.Sprintf("baseline %s of %s", model, workspace), func(rs scanner) (store.BaselineEntry, error) {
		var e store.BaselineEntry
		var first, last int64
		err := rs.Scan(&e.Entity, &e.Value, &e.Count, &first, &last)
		e.First, e.Last = fromNanos(first), fromNanos(last)
		return e, err
	}, `SELECT entity, value, count, first, last FROM baseline_values
		WHERE workspace = ? AND model = ? AND last >= ? ORDER BY last DESC LIMIT ?`, workspace, model, from, limit)
	return started, entries, err
}

// SaveBaseline records a model's start of learning and upserts its
// changed values in one transaction, then drops its values last seen
// before purge (zero: none).
func (db *DB) SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) error {
	what := fmt.Sprintf("save baseline %s of %s", model, workspace)
	return db.write(ctx, what, func(tx *sql.Tx) error {
		if !started.IsZero() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO baseline_models (workspace, model, started) VALUES (?, ?, ?)
				ON CONFLICT (workspace, model) DO UPDATE SET started = min(started, excluded.started)`, workspace, model, nanos(started)); err != nil {
				return fmt.Errorf("%s: start: %w", what, err)
			}
		}
		if len(entries) > 0 {
			st, err := tx.PrepareContext(ctx, `INSERT INTO baseline_values (workspace, model, entity, value, count, first, last)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (workspace, model, entity, value) DO UPDATE SET
					count = excluded.count, first = min(first, excluded.first), last = max(last, excluded.last)`)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			defer st.Close()
			for _, e := range entries {
				if _, err := st.ExecContext(ctx, workspace, model, e.Entity, e.Value, e.Count, nanos(e.First), nanos(e.Last)); err != nil {
					return fmt.Errorf("%s: value %q of %q: %w", what, e.Value, e.Entity, err)
				}
			}
		}
		if !purge.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM baseline_values WHERE workspace = ? AND model = ? AND last < ?`,
				workspace, model, nanos(purge)); err != nil {
				return fmt.Errorf("%s: purge: %w", what, err)
			}
		}
		return nil
	})
}
