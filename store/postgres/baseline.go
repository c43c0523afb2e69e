package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
)

// LoadBaseline returns when a workspace's model started learning (zero:
// never) and its values last seen at or after since, most recent first,
// at most limit.
func (db *DB) LoadBaseline(ctx context.Context, workspace, model string, since time.Time, limit int) (time.Time, []store.BaselineEntry, error) {
	what := fmt.Sprintf("baseline %s of %s", model, workspace)
	var started time.Time
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT started FROM baseline_models WHERE workspace = $1 AND model = $2`, workspace, model).Scan(&n)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return time.Time{}, nil, fmt.Errorf("%s: %w", what, err)
	default:
		started = fromNanos(n)
	}
	var from int64 = -1 << 63
	if !since.IsZero() {
		from = nanos(since)
	}
	entries, err := collect(ctx, db.pool, what, func(r scanner) (store.BaselineEntry, error) {
		var e store.BaselineEntry
		var entity, value []byte
		var first, last int64
		err := r.Scan(&entity, &value, &e.Count, &first, &last)
		e.Entity, e.Value, e.First, e.Last = string(entity), string(value), fromNanos(first), fromNanos(last)
		return e, err
	}, `SELECT entity, value, count, first, last FROM baseline_values
		WHERE workspace = $1 AND model = $2 AND last >= $3 ORDER BY last DESC LIMIT $4`, workspace, model, from, max(limit, 0))
	return started, entries, err
}

// SaveBaseline records a model's start of learning and upserts its
// changed values in one transaction (one statement for all of them), then
// drops its values last seen before purge (zero: none).
func (db *DB) SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) error {
	what := fmt.Sprintf("save baseline %s of %s", model, workspace)
	return db.tx(ctx, what, func(tx pgx.Tx) error {
		if !started.IsZero() {
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_models (workspace, model, started) VALUES ($1, $2, $3)
				ON CONFLICT (workspace, model) DO UPDATE SET started = least(baseline_models.started, excluded.started)`,
				workspace, model, nanos(started)); err != nil {
				return fmt.Errorf("%s: start: %w", what, err)
			}
		}
		if len(entries) > 0 {
			// One row a value: ON CONFLICT may not meet a key twice in
			// one statement, so the last entry of a value wins here, as
			// it would one statement at a time.
			idx := make(map[[2]string]int, len(entries))
			var ents, vals [][]byte
			var counts, firsts, lasts []int64
			for _, e := range entries {
				k := [2]string{e.Entity, e.Value}
				if i, ok := idx[k]; ok {
					counts[i] = e.Count
					firsts[i], lasts[i] = min(firsts[i], nanos(e.First)), max(lasts[i], nanos(e.Last))
					continue
				}
				idx[k] = len(ents)
				ents, vals = append(ents, []byte(e.Entity)), append(vals, []byte(e.Value))
				counts, firsts, lasts = append(counts, e.Count), append(firsts, nanos(e.First)), append(lasts, nanos(e.Last))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_values (workspace, model, entity, value, count, first, last)
				SELECT $1, $2, e, v, c, f, l FROM unnest($3::bytea[], $4::bytea[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(e, v, c, f, l)
				ON CONFLICT (workspace, model, entity, value) DO UPDATE SET count = excluded.count,
					first = least(baseline_values.first, excluded.first), last = greatest(baseline_values.last, excluded.last)`,
				workspace, model, ents, vals, counts, firsts, lasts); err != nil {
				return fmt.Errorf("%s: values: %w", what, err)
			}
		}
		if !purge.IsZero() {
			if _, err := tx.Exec(ctx, `DELETE FROM baseline_values WHERE workspace = $1 AND model = $2 AND last < $3`,
				workspace, model, nanos(purge)); err != nil {
				return fmt.Errorf("%s: purge: %w", what, err)
			}
		}
		return nil
	})
}
