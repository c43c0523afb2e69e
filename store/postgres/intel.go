package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Intel = (*DB)(nil)

const feedColumns = `workspace, name, format, source, interval, threat_type, confidence, tlp, enabled,
	last_attempt, last_success, indicators, last_error, problem_count, problems, etag, last_modified`

func scanFeed(row scanner) (store.Feed, error) {
	var f store.Feed
	var interval int64
	var attempt, success *int64
	var problems string
	if err := row.Scan(&f.Workspace, &f.Name, &f.Format, &f.Source, &interval, &f.ThreatType, &f.Confidence, &f.TLP, &f.Enabled,
		&attempt, &success, &f.Indicators, &f.LastError, &f.ProblemCount, &problems, &f.ETag, &f.LastModified); err != nil {
		return store.Feed{}, err
	}
	f.Interval = time.Duration(interval)
	f.LastAttempt, f.LastSuccess = fromNullNanos(attempt), fromNullNanos(success)
	if problems != "" {
		if err := json.Unmarshal([]byte(problems), &f.Problems); err != nil {
			return store.Feed{}, fmt.Errorf("feed %s/%s: corrupt problems: %w", f.Workspace, f.Name, err)
		}
	}
	return f, nil
}

// PutFeed creates a feed of an existing workspace or changes its
// settings; see store.Intel.
func (db *DB) PutFeed(ctx context.Context, f store.Feed) error {
	if err := store.CheckFeed(f); err != nil {
		return err
	}
	return db.tx(ctx, "put feed", func(tx pgx.Tx) error {
		if _, err := workspace(ctx, tx, f.Workspace); err != nil {
			return fmt.Errorf("put feed %s: %w", f.Name, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO intel_feeds (workspace, name, format, source, interval, threat_type, confidence, tlp, enabled, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (workspace, name) DO UPDATE SET
				format = excluded.format, source = excluded.source, interval = excluded.interval,
				threat_type = excluded.threat_type, confidence = excluded.confidence, tlp = excluded.tlp,
				enabled = excluded.enabled`,
			f.Workspace, f.Name, text(f.Format), text(f.Source), int64(f.Interval), text(f.ThreatType), f.Confidence, text(f.TLP), f.Enabled, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("put feed %s/%s: %w", f.Workspace, f.Name, err)
		}
		return nil
	})
}

// Feed returns one feed of workspace.
func (db *DB) Feed(ctx context.Context, workspace, name string) (store.Feed, error) {
	f, err := scanFeed(db.pool.QueryRow(ctx, `SELECT `+feedColumns+` FROM intel_feeds WHERE workspace = $1 AND name = $2`, workspace, text(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Feed{}, fmt.Errorf("feed %s/%s: %w", workspace, name, store.ErrNotFound)
	}
	if err != nil {
		return store.Feed{}, fmt.Errorf("feed %s/%s: %w", workspace, name, err)
	}
	return f, nil
}

// Feeds lists a workspace's feeds by name, or every workspace's.
func (db *DB) Feeds(ctx context.Context, workspace string) ([]store.Feed, error) {
	if workspace == "" {
		return collect(ctx, db.pool, "feeds", scanFeed, `SELECT `+feedColumns+` FROM intel_feeds ORDER BY workspace COLLATE "C", name COLLATE "C"`)
	}
	return collect(ctx, db.pool, "feeds of "+workspace, scanFeed,
		`SELECT `+feedColumns+` FROM intel_feeds WHERE workspace = $1 ORDER BY name COLLATE "C"`, workspace)
}

// DeleteFeed deletes a feed and its indicators.
func (db *DB) DeleteFeed(ctx context.Context, workspace, name string) error {
	return db.tx(ctx, "delete feed", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM intel_feeds WHERE workspace = $1 AND name = $2`, workspace, text(name))
		if err != nil {
			return fmt.Errorf("delete feed %s/%s: %w", workspace, name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("feed %s/%s: %w", workspace, name, store.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM intel_indicators WHERE workspace = $1 AND feed = $2`, workspace, text(name)); err != nil {
			return fmt.Errorf("delete feed %s/%s: indicators: %w", workspace, name, err)
		}
		return nil
	})
}

// lockFeed locks a feed's row for the rest of tx (refreshes and additions
// of one feed go one at a time); ErrNotFound when there is no such feed.
func lockFeed(ctx context.Context, tx pgx.Tx, workspace, feed string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM intel_feeds WHERE workspace = $1 AND name = $2 FOR UPDATE`, workspace, text(feed)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("feed %s/%s: %w", workspace, feed, store.ErrNotFound)
	}
	return err
}

// uniqueIndicators checks inds and returns them one a kind and value: a
// later indicator replaces an earlier in its place. first is the index of
// inds[0] in what the caller was given, for errors.
func uniqueIndicators(inds []intel.Indicator, first int) ([]intel.Indicator, error) {
	out := make([]intel.Indicator, 0, len(inds))
	at := make(map[[2]string]int, len(inds))
	for i := range inds {
		ind := inds[i]
		if ind.Kind == "" || ind.Value == "" {
			return nil, fmt.Errorf("indicator %d: kind and value must be set: %w", first+i, store.ErrInvalid)
		}
		k := [2]string{string(ind.Kind), ind.Value}
		if j, ok := at[k]; ok {
			out[j] = ind
			continue
		}
		at[k] = len(out)
		out = append(out, ind)
	}
	return out, nil
}

// indicatorRow is ind as a row of intel_indicators (workspace, feed,
// kind, value, valid_until, revoked, doc).
func indicatorRow(workspace, feed string, ind intel.Indicator) ([]any, error) {
	ind.Feed = feed
	doc, err := json.Marshal(&ind)
	if err != nil {
		return nil, fmt.Errorf("indicator %s %q: %w", ind.Kind, ind.Value, err)
	}
	var until *int64
	if !ind.ValidUntil.IsZero() {
		n := nanos(ind.ValidUntil)
		until = &n
	}
	return []any{workspace, feed, text(string(ind.Kind)), text(ind.Value), until, ind.Revoked, doc}, nil
}

var indicatorCopyColumns = []string{"workspace", "feed", "kind", "value", "valid_until", "revoked", "doc"}

// ReplaceFeedIndicators replaces a feed's indicators and records the fetch
// that read them, in one transaction: the old rows deleted, the new ones
// written with COPY. Readers see the old set or the new one (MVCC), and
// event commits do not wait for it (they touch none of its rows);
// refreshes of one feed are serialized on the feed's row.
func (db *DB) ReplaceFeedIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator, f store.Fetch) error {
	what := "replace indicators of feed " + workspace + "/" + feed
	uniq, err := uniqueIndicators(inds, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	problems, err := problemsJSON(f.Problems)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return db.tx(ctx, what, func(tx pgx.Tx) error {
		if err := lockFeed(ctx, tx, workspace, feed); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM intel_indicators WHERE workspace = $1 AND feed = $2`, workspace, text(feed)); err != nil {
			return fmt.Errorf("%s: delete the old indicators: %w", what, err)
		}
		if len(uniq) > 0 {
			// Each row encoded as COPY asks for it: the server indexes
			// the rows sent while the next are encoded.
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"intel_indicators"}, indicatorCopyColumns,
				pgx.CopyFromSlice(len(uniq), func(i int) ([]any, error) { return indicatorRow(workspace, text(feed), uniq[i]) })); err != nil {
				return fmt.Errorf("%s: write: %w", what, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE intel_feeds SET last_attempt = $1, last_success = $1, indicators = $2, last_error = '',
			problem_count = $3, problems = $4, etag = $5, last_modified = $6 WHERE workspace = $7 AND name = $8`,
			nanos(f.Attempt), len(uniq), f.ProblemCount, problems, text(f.ETag), text(f.LastModified), workspace, text(feed)); err != nil {
			return fmt.Errorf("%s: record the fetch: %w", what, err)
		}
		return nil
	})
}

// AddIndicators adds indicators to a feed, replacing those of the same
// kind and value.
func (db *DB) AddIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator) (int, error) {
	what := "add indicators to feed " + workspace + "/" + feed
	uniq, err := uniqueIndicators(inds, 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	rows := make([][]any, len(uniq))
	for i, ind := range uniq {
		if rows[i], err = indicatorRow(workspace, text(feed), ind); err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
	}
	var total int
	err = db.tx(ctx, what, func(tx pgx.Tx) error {
		if err := lockFeed(ctx, tx, workspace, feed); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if len(rows) > 0 {
			kinds, values, docs := make([]string, len(rows)), make([]string, len(rows)), make([][]byte, len(rows))
			untils, revoked := make([]*int64, len(rows)), make([]bool, len(rows))
			for i, r := range rows {
				kinds[i], values[i], untils[i], revoked[i], docs[i] = r[2].(string), r[3].(string), r[4].(*int64), r[5].(bool), r[6].([]byte)
			}
			// WITH ORDINALITY keeps the given order in the ids new rows take.
			if _, err := tx.Exec(ctx, `INSERT INTO intel_indicators (workspace, feed, kind, value, valid_until, revoked, doc)
				SELECT $1, $2, k, v, u, r, d FROM unnest($3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::bytea[])
					WITH ORDINALITY AS t(k, v, u, r, d, n) ORDER BY n
				ON CONFLICT (workspace, value, feed, kind) DO UPDATE SET
					valid_until = excluded.valid_until, revoked = excluded.revoked, doc = excluded.doc`,
				workspace, text(feed), kinds, values, untils, revoked, docs); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if err := tx.QueryRow(ctx, `UPDATE intel_feeds SET indicators = (SELECT count(*) FROM intel_indicators WHERE workspace = $1 AND feed = $2)
			WHERE workspace = $1 AND name = $2 RETURNING indicators`, workspace, text(feed)).Scan(&total); err != nil {
			return fmt.Errorf("%s: count: %w", what, err)
		}
		return nil
	})
	return total, err
}

// SetFeedStatus records a fetch that left the indicators as they were.
func (db *DB) SetFeedStatus(ctx context.Context, workspace, feed string, f store.Fetch) error {
	what := "set status of feed " + workspace + "/" + feed
	var err error
	var n int64
	if f.Err != "" {
		tag, e := db.pool.Exec(ctx, `UPDATE intel_feeds SET last_attempt = $1, last_error = $2 WHERE workspace = $3 AND name = $4`,
			nanos(f.Attempt), text(f.Err), workspace, text(feed))
		err, n = e, tag.RowsAffected()
	} else {
		// Unchanged: a success that keeps the validators unless new ones
		// came.
		tag, e := db.pool.Exec(ctx, `UPDATE intel_feeds SET last_attempt = $1, last_success = $1, last_error = '',
			etag = CASE WHEN $2 = '' THEN etag ELSE $2 END, last_modified = CASE WHEN $3 = '' THEN last_modified ELSE $3 END
			WHERE workspace = $4 AND name = $5`,
			nanos(f.Attempt), text(f.ETag), text(f.LastModified), workspace, text(feed))
		err, n = e, tag.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("feed %s/%s: %w", workspace, feed, store.ErrNotFound)
	}
	return nil
}

// maxIndicatorPage caps a page of Indicators.
const maxIndicatorPage = 10000

// Indicators pages a workspace's indicators in the order they were stored.
func (db *DB) Indicators(ctx context.Context, workspace string, q store.IndicatorQuery) ([]intel.Indicator, string, error) {
	n := q.Limit
	switch {
	case n <= 0:
		n = 100
	case n > maxIndicatorPage:
		n = maxIndicatorPage
	}
	var a args
	where := "workspace = " + a.add(workspace)
	if q.Feed != "" {
		where += " AND feed = " + a.add(text(q.Feed))
	}
	if q.Value != "" {
		where += " AND value = " + a.add(text(q.Value))
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "indicators")
		if err != nil {
			return nil, "", fmt.Errorf("indicators of %s: %w", workspace, err)
		}
		where += " AND id > " + a.add(c.N)
	}
	type row struct {
		id  int64
		ind intel.Indicator
	}
	rows, err := collect(ctx, db.pool, "indicators of "+workspace, func(rs scanner) (row, error) {
		var r row
		var doc []byte
		if err := rs.Scan(&r.id, &doc); err != nil {
			return r, err
		}
		if err := json.Unmarshal(doc, &r.ind); err != nil {
			return r, fmt.Errorf("indicator %d: corrupt document: %w", r.id, err)
		}
		return r, nil
	}, `SELECT id, doc FROM intel_indicators WHERE `+where+` ORDER BY id LIMIT `+a.add(n+1), a...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		next = store.EncodeCursor("indicators", store.Cursor{N: rows[n-1].id})
	}
	out := make([]intel.Indicator, len(rows))
	for i, r := range rows {
		out[i] = r.ind
	}
	return out, next, nil
}

// PurgeIndicators deletes the indicators revoked or valid until before
// before, and recounts their feeds.
func (db *DB) PurgeIndicators(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge indicators", func(tx pgx.Tx) error {
		// The feeds' rows first, in order, as refreshes lock them: a
		// refresh and a purge do not wait on each other in a cycle.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM intel_feeds ORDER BY workspace, name FOR UPDATE`); err != nil {
			return fmt.Errorf("purge indicators: lock feeds: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM intel_indicators WHERE revoked OR valid_until < $1`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge indicators: %w", err)
		}
		if n = tag.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE intel_feeds f SET indicators = coalesce(c.n, 0)
			FROM intel_feeds f2 LEFT JOIN (SELECT workspace, feed, count(*) AS n FROM intel_indicators GROUP BY workspace, feed) c
				ON c.workspace = f2.workspace AND c.feed = f2.name
			WHERE f.workspace = f2.workspace AND f.name = f2.name AND f.indicators <> coalesce(c.n, 0)`)
		if err != nil {
			return fmt.Errorf("purge indicators: recount: %w", err)
		}
		return nil
	})
	return n, err
}

func problemsJSON(ps []intel.Problem) (string, error) {
	if len(ps) == 0 {
		return "", nil
	}
	if len(ps) > store.MaxFeedProblems {
		ps = ps[:store.MaxFeedProblems]
	}
	b, err := json.Marshal(ps)
	return string(b), err
}
