package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
)

// LoadBaseline returns a workspace's model: when it started learning, its
// revision, and its values saved at a revision after after (0: all),
// most recently seen first, at most limit.
func (db *DB) LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (store.Baseline, error) {
	what := fmt.Sprintf("baseline %s of %s", model, workspace)
	var b store.Baseline
	var started int64
	// The revision before the values: a save committed between the two
	// is read again next time, never missed (saves of a model commit in
	// revision order: each locks the model's row first).
	err := db.pool.QueryRow(ctx, `SELECT started, rev FROM baseline_models WHERE workspace = $1 AND model = $2`, workspace, model).Scan(&started, &b.Rev)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return store.Baseline{}, fmt.Errorf("%s: %w", what, err)
	case started != 0: // 0: saved before any event was learnt
		b.Started = fromNanos(started)
	}
	b.Entries, err = collect(ctx, db.pool, what, func(r scanner) (store.BaselineEntry, error) {
		var e store.BaselineEntry
		var entity, value []byte
		var first, last int64
		err := r.Scan(&entity, &value, &e.Count, &first, &last)
		e.Entity, e.Value, e.First, e.Last = string(entity), string(value), fromNanos(first), fromNanos(last)
		return e, err
	}, `SELECT entity, value, count, first, last FROM baseline_values
		WHERE workspace = $1 AND model = $2 AND rev > $3 ORDER BY last DESC, entity, value LIMIT $4`, workspace, model, after, max(limit, 0))
	return b, err
}

// SaveBaseline merges what one worker learnt since its last save into a
// model (store.BaselineEntry says how), in one transaction that first
// drops the values last seen before purge (zero: none): a value that old
// is counted afresh. The model's start becomes the earliest saved. It
// returns the model's revision the save made.
func (db *DB) SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) (int64, error) {
	what := fmt.Sprintf("save baseline %s of %s", model, workspace)
	var from int64 // 0: no start to merge
	if !started.IsZero() {
		from = nanos(started)
	}
	var rev int64
	err := db.tx(ctx, what, func(tx pgx.Tx) error {
		// The model's row first: it serialises the model's saves, so
		// that they commit in revision order.
		if err := tx.QueryRow(ctx, `INSERT INTO baseline_models (workspace, model, started, rev) VALUES ($1, $2, $3, 1)
			ON CONFLICT (workspace, model) DO UPDATE SET rev = baseline_models.rev + 1,
				started = CASE WHEN baseline_models.started = 0 THEN excluded.started
					WHEN excluded.started = 0 THEN baseline_models.started
					ELSE least(baseline_models.started, excluded.started) END
			RETURNING rev`, workspace, model, from).Scan(&rev); err != nil {
			return fmt.Errorf("%s: start: %w", what, err)
		}
		if !purge.IsZero() {
			if _, err := tx.Exec(ctx, `DELETE FROM baseline_values WHERE workspace = $1 AND model = $2 AND last < $3`,
				workspace, model, nanos(purge)); err != nil {
				return fmt.Errorf("%s: purge: %w", what, err)
			}
		}
		var adds, peaks baselineRows
		for _, e := range entries {
			if e.Count < 0 {
				return fmt.Errorf("%s: value %q of %q: negative count %d", what, e.Value, e.Entity, e.Count)
			}
			if e.Max {
				peaks.add(e, func(a, b int64) int64 { return max(a, b) })
			} else {
				adds.add(e, func(a, b int64) int64 { return a + b })
			}
		}
		for _, v := range []struct {
			rows  *baselineRows
			count string
		}{{&adds, "baseline_values.count + excluded.count"}, {&peaks, "greatest(baseline_values.count, excluded.count)"}} {
			if len(v.rows.ents) == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO baseline_values (workspace, model, entity, value, count, first, last, rev)
				SELECT $1, $2, e, v, c, f, l, $8 FROM unnest($3::bytea[], $4::bytea[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(e, v, c, f, l)
				ON CONFLICT (workspace, model, entity, value) DO UPDATE SET count = `+v.count+`,
					first = least(baseline_values.first, excluded.first), last = greatest(baseline_values.last, excluded.last),
					rev = excluded.rev`,
				workspace, model, v.rows.ents, v.rows.vals, v.rows.counts, v.rows.firsts, v.rows.lasts, rev); err != nil {
				return fmt.Errorf("%s: values: %w", what, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return rev, nil
}

// baselineRows are a save's entries as the columns of one statement, one row a
// value: ON CONFLICT may not meet a key twice in one statement, so two
// entries of a value (a save retried beside newer learning) are merged
// here as the store would merge them one after the other.
type baselineRows struct {
	idx                   map[[2]string]int
	ents, vals            [][]byte
	counts, firsts, lasts []int64
}

func (v *baselineRows) add(e store.BaselineEntry, merge func(a, b int64) int64) {
	k := [2]string{e.Entity, e.Value}
	if i, ok := v.idx[k]; ok {
		v.counts[i] = merge(v.counts[i], e.Count)
		v.firsts[i], v.lasts[i] = min(v.firsts[i], nanos(e.First)), max(v.lasts[i], nanos(e.Last))
		return
	}
	if v.idx == nil {
		v.idx = map[[2]string]int{}
	}
	v.idx[k] = len(v.ents)
	v.ents, v.vals = append(v.ents, []byte(e.Entity)), append(v.vals, []byte(e.Value))
	v.counts, v.firsts, v.lasts = append(v.counts, e.Count), append(v.firsts, nanos(e.First)), append(v.lasts, nanos(e.Last))
}
