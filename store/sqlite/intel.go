package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Intel = (*DB)(nil)

const feedColumns = `workspace, name, format, source, interval, threat_type, confidence, tlp, enabled,
	last_attempt, last_success, indicators, last_error, problem_count, problems, etag, last_modified`

func scanFeed(row scanner) (store.Feed, error) {
	var f store.Feed
	var interval int64
	var attempt, success sql.NullInt64
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

// PutFeed creates a feed of an existing workspace or changes its settings;
// see store.Intel.
func (db *DB) PutFeed(ctx context.Context, f store.Feed) error {
	if err := store.CheckFeedName(f.Name); err != nil {
		return fmt.Errorf("put feed in workspace %s: %w", f.Workspace, err)
	}
	if f.Format == "" || f.Interval < 0 || f.Confidence < 0 || f.Confidence > 100 {
		return fmt.Errorf("put feed %s/%s: format must be set, interval not negative, confidence 0 to 100: %w", f.Workspace, f.Name, store.ErrInvalid)
	}
	return db.write(ctx, "put feed", func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, f.Workspace); err != nil {
			return fmt.Errorf("put feed %s: %w", f.Name, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO intel_feeds (workspace, name, format, source, interval, threat_type, confidence, tlp, enabled, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace, name) DO UPDATE SET
				format = excluded.format, source = excluded.source, interval = excluded.interval,
				threat_type = excluded.threat_type, confidence = excluded.confidence, tlp = excluded.tlp,
				enabled = excluded.enabled`,
			f.Workspace, f.Name, f.Format, f.Source, int64(f.Interval), f.ThreatType, f.Confidence, f.TLP, f.Enabled, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("put feed %s/%s: %w", f.Workspace, f.Name, err)
		}
		return nil
	})
}

// Feed returns one feed of workspace.
func (db *DB) Feed(ctx context.Context, workspace, name string) (store.Feed, error) {
	f, err := scanFeed(db.r.QueryRowContext(ctx, `SELECT `+feedColumns+` FROM intel_feeds WHERE workspace = ? AND name = ?`, workspace, name))
	if errors.Is(err, sql.ErrNoRows) {
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
		return list(ctx, db, "feeds", scanFeed, `SELECT `+feedColumns+` FROM intel_feeds ORDER BY workspace, name`)
	}
	return list(ctx, db, "feeds of "+workspace, scanFeed, `SELECT `+feedColumns+` FROM intel_feeds WHERE workspace = ? ORDER BY name`, workspace)
}

// DeleteFeed deletes a feed and its indicators.
func (db *DB) DeleteFeed(ctx context.Context, workspace, name string) error {
	return db.write(ctx, "delete feed", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM intel_feeds WHERE workspace = ? AND name = ?`, workspace, name)
		if err != nil {
			return fmt.Errorf("delete feed %s/%s: %w", workspace, name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("feed %s/%s: %w", workspace, name, store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE workspace = ? AND feed = ?`, workspace, name); err != nil {
			return fmt.Errorf("delete feed %s/%s: indicators: %w", workspace, name, err)
		}
		return nil
	})
}

// ReplaceFeedIndicators replaces a feed's indicators and records the fetch
// that read them, in one transaction.
func (db *DB) ReplaceFeedIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator, f store.Fetch) error {
	what := "replace indicators of feed " + workspace + "/" + feed
	return db.write(ctx, what, func(tx *sql.Tx) error {
		if err := feedExists(ctx, tx, workspace, feed); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE workspace = ? AND feed = ?`, workspace, feed); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, err := insertIndicators(ctx, tx, workspace, feed, inds)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		problems, err := problemsJSON(f.Problems)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE intel_feeds SET last_attempt = ?, last_success = ?, indicators = ?, last_error = '',
			problem_count = ?, problems = ?, etag = ?, last_modified = ? WHERE workspace = ? AND name = ?`,
			nanos(f.Attempt), nanos(f.Attempt), n, f.ProblemCount, problems, f.ETag, f.LastModified, workspace, feed)
		if err != nil {
			return fmt.Errorf("%s: status: %w", what, err)
		}
		return nil
	})
}

// AddIndicators adds indicators to a feed, replacing those of the same
// kind and value.
func (db *DB) AddIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator) (int, error) {
	what := "add indicators to feed " + workspace + "/" + feed
	var total int
	err := db.write(ctx, what, func(tx *sql.Tx) error {
		if err := feedExists(ctx, tx, workspace, feed); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := insertIndicators(ctx, tx, workspace, feed, inds); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators WHERE workspace = ? AND feed = ?`, workspace, feed).Scan(&total); err != nil {
			return fmt.Errorf("%s: count: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE intel_feeds SET indicators = ? WHERE workspace = ? AND name = ?`, total, workspace, feed); err != nil {
			return fmt.Errorf("%s: count: %w", what, err)
		}
		return nil
	})
	return total, err
}

// SetFeedStatus records a fetch that left the indicators as they were.
func (db *DB) SetFeedStatus(ctx context.Context, workspace, feed string, f store.Fetch) error {
	what := "set status of feed " + workspace + "/" + feed
	return db.write(ctx, what, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if f.Err != "" {
			res, err = tx.ExecContext(ctx, `UPDATE intel_feeds SET last_attempt = ?, last_error = ? WHERE workspace = ? AND name = ?`,
				nanos(f.Attempt), f.Err, workspace, feed)
		} else {
			// Unchanged: a success that keeps the validators unless new
			// ones came.
			res, err = tx.ExecContext(ctx, `UPDATE intel_feeds SET last_attempt = ?, last_success = ?, last_error = '',
				etag = CASE WHEN ? = '' THEN etag ELSE ? END, last_modified = CASE WHEN ? = '' THEN last_modified ELSE ? END
				WHERE workspace = ? AND name = ?`,
				nanos(f.Attempt), nanos(f.Attempt), f.ETag, f.ETag, f.LastModified, f.LastModified, workspace, feed)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("feed %s/%s: %w", workspace, feed, store.ErrNotFound)
		}
		return nil
	})
}

// maxIndicatorPage caps a page of Indicators: loading a feed at start
// reads them a page at a time.
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
	where, args := "workspace = ?", []any{workspace}
	if q.Feed != "" {
		where += " AND feed = ?"
		args = append(args, q.Feed)
	}
	if q.Value != "" {
		where += " AND value = ?"
		args = append(args, q.Value)
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "indicators")
		if err != nil {
			return nil, "", fmt.Errorf("indicators of %s: %w", workspace, err)
		}
		where += " AND id > ?"
		args = append(args, c.n)
	}
	args = append(args, n+1)
	type row struct {
		id  int64
		ind intel.Indicator
	}
	rows, err := list(ctx, db, "indicators of "+workspace, func(rs scanner) (row, error) {
		var r row
		var doc string
		if err := rs.Scan(&r.id, &doc); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(doc), &r.ind); err != nil {
			return r, fmt.Errorf("indicator %d: corrupt document: %w", r.id, err)
		}
		return r, nil
	}, `SELECT id, doc FROM intel_indicators WHERE `+where+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		next = encodeCursor("indicators", cursor{n: rows[n-1].id})
	}
	out := make([]intel.Indicator, len(rows))
	for i, r := range rows {
		out[i] = r.ind
	}
	return out, next, nil
}

// PurgeIndicators deletes the indicators revoked or valid until before
// before, and lowers their feeds' counts.
func (db *DB) PurgeIndicators(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "purge indicators", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE revoked != 0 OR valid_until < ?`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge indicators: %w", err)
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE intel_feeds SET indicators = (SELECT count(*) FROM intel_indicators i
			WHERE i.workspace = intel_feeds.workspace AND i.feed = intel_feeds.name)`)
		if err != nil {
			return fmt.Errorf("purge indicators: recount: %w", err)
		}
		return nil
	})
	return n, err
}

func feedExists(ctx context.Context, tx *sql.Tx, workspace, feed string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM intel_feeds WHERE workspace = ? AND name = ?`, workspace, feed).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("feed %s/%s: %w", workspace, feed, store.ErrNotFound)
	}
	return err
}

// insertIndicators writes inds of a feed, a later one of the same kind and
// value replacing an earlier; it returns how many the feed holds then.
func insertIndicators(ctx context.Context, tx *sql.Tx, workspace, feed string, inds []intel.Indicator) (int, error) {
	if len(inds) == 0 {
		return 0, nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO intel_indicators (workspace, feed, kind, value, valid_until, revoked, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace, value, feed, kind) DO UPDATE SET
			valid_until = excluded.valid_until, revoked = excluded.revoked, doc = excluded.doc`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for i := range inds {
		ind := inds[i]
		if ind.Kind == "" || ind.Value == "" {
			return 0, fmt.Errorf("indicator %d: kind and value must be set: %w", i, store.ErrInvalid)
		}
		ind.Feed = feed
		doc, err := json.Marshal(&ind)
		if err != nil {
			return 0, fmt.Errorf("indicator %s %q: %w", ind.Kind, ind.Value, err)
		}
		var until sql.NullInt64
		if !ind.ValidUntil.IsZero() {
			until = sql.NullInt64{Int64: nanos(ind.ValidUntil), Valid: true}
		}
		if _, err := st.ExecContext(ctx, workspace, feed, string(ind.Kind), ind.Value, until, ind.Revoked, string(doc)); err != nil {
			return 0, fmt.Errorf("indicator %s %q: %w", ind.Kind, ind.Value, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators WHERE workspace = ? AND feed = ?`, workspace, feed).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
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
