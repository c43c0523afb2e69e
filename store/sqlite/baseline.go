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

// sqlMigrateBaselineMerge gives a model a revision, incremented by every
// save and stamped on the values it wrote, so that a detect worker reads
// back only what the others saved since its last read. What was saved
// before is revision 1, which a first read (after 0) returns.
const sqlMigrateBaselineMerge = `
ALTER TABLE baseline_models ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
ALTER TABLE baseline_values ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
CREATE INDEX baseline_values_rev ON baseline_values (workspace, model, rev);
`

// LoadBaseline returns a workspace's model: when it started learning, its
// revision, and its values saved at a revision after after (0: all),
// most recently seen first, at most limit.
func (db *DB) LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (store.Baseline, error) {
	what := fmt.Sprintf("baseline %s of %s", model, workspace)
	var b store.Baseline
	var started int64
	// The revision before the values: a save between the two is read
	// again next time, never missed.
	err := db.r.QueryRowContext(ctx, `SELECT started, rev FROM baseline_models WHERE workspace = ? AND model = ?`, workspace, model).Scan(&started, &b.Rev)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return store.Baseline{}, fmt.Errorf("%s: %w", what, err)
	case started != 0: // 0: saved before any event was learnt
		b.Started = fromNanos(started)
	}
	b.Entries, err = list(ctx, db, what, func(rs scanner) (store.BaselineEntry, error) {
		var e store.BaselineEntry
		var first, last int64
		err := rs.Scan(&e.Entity, &e.Value, &e.Count, &first, &last)
		e.First, e.Last = fromNanos(first), fromNanos(last)
		return e, err
	}, `SELECT entity, value, count, first, last FROM baseline_values
		WHERE workspace = ? AND model = ? AND rev > ? ORDER BY last DESC, entity, value LIMIT ?`, workspace, model, after, limit)
	return b, err
}

// SaveBaseline merges what one worker learnt since its last save into a
// model (store.BaselineEntry says how), in one transaction that first
// drops the values last seen before purge (zero: none): a value that old
// is counted afresh. The model's start becomes the earliest saved. It
// returns the model's revision the save made.
func (db *DB) SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) (int64, error) {
	what := fmt.Sprintf("save baseline %s of %s", model, workspace)
	var rev int64
	err := db.write(ctx, what, func(tx *sql.Tx) error {
		var from int64 // 0: no start to merge
		if !started.IsZero() {
			from = nanos(started)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO baseline_models (workspace, model, started, rev) VALUES (?, ?, ?, 1)
			ON CONFLICT (workspace, model) DO UPDATE SET rev = rev + 1,
				started = CASE WHEN started = 0 THEN excluded.started WHEN excluded.started = 0 THEN started
					ELSE min(started, excluded.started) END
			RETURNING rev`, workspace, model, from).Scan(&rev); err != nil {
			return fmt.Errorf("%s: start: %w", what, err)
		}
		if !purge.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM baseline_values WHERE workspace = ? AND model = ? AND last < ?`,
				workspace, model, nanos(purge)); err != nil {
				return fmt.Errorf("%s: purge: %w", what, err)
			}
		}
		if len(entries) == 0 {
			return nil
		}
		const upsert = `INSERT INTO baseline_values (workspace, model, entity, value, count, first, last, rev)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace, model, entity, value) DO UPDATE SET %s,
				first = min(first, excluded.first), last = max(last, excluded.last), rev = excluded.rev`
		add, err := tx.PrepareContext(ctx, fmt.Sprintf(upsert, "count = count + excluded.count"))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer add.Close()
		peak, err := tx.PrepareContext(ctx, fmt.Sprintf(upsert, "count = max(count, excluded.count)"))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer peak.Close()
		for _, e := range entries {
			if e.Count < 0 {
				return fmt.Errorf("%s: value %q of %q: negative count %d", what, e.Value, e.Entity, e.Count)
			}
			st := add
			if e.Max {
				st = peak
			}
			if _, err := st.ExecContext(ctx, workspace, model, e.Entity, e.Value, e.Count, nanos(e.First), nanos(e.Last), rev); err != nil {
				return fmt.Errorf("%s: value %q of %q: %w", what, e.Value, e.Entity, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return rev, nil
}
