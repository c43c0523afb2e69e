package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
	if err := store.CheckFeed(f); err != nil {
		return err
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

// replaceChunk is how many indicators a refresh writes (or deletes) in
// one transaction: small enough that the writer is free again within tens
// of milliseconds for event commits, large enough that the transactions'
// own cost stays small (a WAL commit does not sync). A variable so that tests make refreshes span
// many transactions.
var replaceChunk = 1000

// currentGen is the SQL condition that keeps an indicator row i of its
// feed's current generation.
const currentGen = `i.gen = (SELECT f.gen FROM intel_feeds f WHERE f.workspace = i.workspace AND f.name = i.feed)`

// ReplaceFeedIndicators replaces a feed's indicators and records the fetch
// that read them. The new indicators are written as the feed's next
// generation in transactions of replaceChunk rows, then one short
// transaction makes it the current generation and records the fetch, and
// the old generation is deleted in chunks after: readers see the old
// indicators or the new ones, never a mix, and event commits take the
// writer between chunks rather than wait for the whole feed. Refreshes of
// one feed are serialized; a refresh that fails or is cancelled leaves
// the old generation current and deletes what it wrote.
func (db *DB) ReplaceFeedIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator, f store.Fetch) error {
	what := "replace indicators of feed " + workspace + "/" + feed
	for i := range inds {
		if inds[i].Kind == "" || inds[i].Value == "" {
			return fmt.Errorf("%s: indicator %d: kind and value must be set: %w", what, i, store.ErrInvalid)
		}
	}
	problems, err := problemsJSON(f.Problems)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	mu, _ := db.feedLocks.LoadOrStore(workspace+"/"+feed, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	// The next generation's number; rows left by an earlier refresh that
	// did not finish (a crash) are any generation but the current one.
	var cur, next int64
	err = db.write(ctx, what, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE intel_feeds SET next_gen = max(next_gen, gen) + 1 WHERE workspace = ? AND name = ?
			RETURNING gen, next_gen`, workspace, feed).Scan(&cur, &next)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: feed %s/%s: %w", what, workspace, feed, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Two ranges of the (workspace, feed, gen) index, not "gen != ?",
	// which would scan the current generation's rows too.
	for _, cond := range []string{"gen < ?", "gen > ?"} {
		if err := db.deleteGenerations(ctx, workspace, feed, cond, cur); err != nil {
			return fmt.Errorf("%s: clear unfinished generations: %w", what, err)
		}
	}
	for start := 0; start < len(inds); start += replaceChunk {
		chunk := inds[start:min(start+replaceChunk, len(inds))]
		err := db.write(ctx, what, func(tx *sql.Tx) error {
			return insertIndicators(ctx, tx, workspace, feed, next, chunk, start)
		})
		if err != nil {
			db.dropGeneration(workspace, feed, next)
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	// Counted before the switch, off the writer: nothing changes the
	// staged generation meanwhile.
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators WHERE workspace = ? AND feed = ? AND gen = ?`,
		workspace, feed, next).Scan(&n); err != nil {
		db.dropGeneration(workspace, feed, next)
		return fmt.Errorf("%s: count: %w", what, err)
	}
	err = db.write(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE intel_feeds SET gen = ?, last_attempt = ?, last_success = ?, indicators = ?, last_error = '',
			problem_count = ?, problems = ?, etag = ?, last_modified = ? WHERE workspace = ? AND name = ? AND gen = ?`,
			next, nanos(f.Attempt), nanos(f.Attempt), n, f.ProblemCount, problems, f.ETag, f.LastModified, workspace, feed, cur)
		if err != nil {
			return fmt.Errorf("%s: switch generation: %w", what, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("%s: the feed was deleted or changed meanwhile: %w", what, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		db.dropGeneration(workspace, feed, next)
		return err
	}
	if err := db.deleteGenerations(ctx, workspace, feed, "gen = ?", cur); err != nil {
		// The new generation is in use; the old rows are cleared by the
		// next refresh.
		db.log.WarnContext(ctx, "delete the old generation of a feed's indicators", "workspace", workspace, "feed", feed, "err", err)
	}
	return nil
}

// deleteGenerations deletes a feed's indicator rows matching cond (on
// gen, with arg) in transactions of replaceChunk rows.
func (db *DB) deleteGenerations(ctx context.Context, workspace, feed, cond string, arg int64) error {
	for {
		var n int64
		err := db.write(ctx, "delete indicators of feed "+workspace+"/"+feed, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE id IN (
				SELECT id FROM intel_indicators WHERE workspace = ? AND feed = ? AND `+cond+` LIMIT ?)`,
				workspace, feed, arg, replaceChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil || n == 0 {
			return err
		}
	}
}

// dropGeneration deletes a generation a refresh gave up on, even when the
// refresh's context is done; what it cannot delete the next refresh does.
func (db *DB) dropGeneration(workspace, feed string, gen int64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.deleteGenerations(ctx, workspace, feed, "gen = ?", gen); err != nil {
		db.log.Warn("delete an unfinished generation of a feed's indicators", "workspace", workspace, "feed", feed, "err", err)
	}
}

// AddIndicators adds indicators to a feed, replacing those of the same
// kind and value.
func (db *DB) AddIndicators(ctx context.Context, workspace, feed string, inds []intel.Indicator) (int, error) {
	what := "add indicators to feed " + workspace + "/" + feed
	var total int
	err := db.write(ctx, what, func(tx *sql.Tx) error {
		gen, err := feedGen(ctx, tx, workspace, feed)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := insertIndicators(ctx, tx, workspace, feed, gen, inds, 0); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators WHERE workspace = ? AND feed = ? AND gen = ?`, workspace, feed, gen).Scan(&total); err != nil {
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
	where, args := "i.workspace = ? AND "+currentGen, []any{workspace}
	if q.Feed != "" {
		where += " AND i.feed = ?"
		args = append(args, q.Feed)
	}
	if q.Value != "" {
		where += " AND i.value = ?"
		args = append(args, q.Value)
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "indicators")
		if err != nil {
			return nil, "", fmt.Errorf("indicators of %s: %w", workspace, err)
		}
		where += " AND i.id > ?"
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
	}, `SELECT i.id, i.doc FROM intel_indicators i WHERE `+where+` ORDER BY i.id LIMIT ?`, args...)
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
			WHERE i.workspace = intel_feeds.workspace AND i.feed = intel_feeds.name AND i.gen = intel_feeds.gen)`)
		if err != nil {
			return fmt.Errorf("purge indicators: recount: %w", err)
		}
		return nil
	})
	return n, err
}

// feedGen returns the feed's current generation; ErrNotFound when there
// is no such feed.
func feedGen(ctx context.Context, tx *sql.Tx, workspace, feed string) (int64, error) {
	var gen int64
	err := tx.QueryRowContext(ctx, `SELECT gen FROM intel_feeds WHERE workspace = ? AND name = ?`, workspace, feed).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("feed %s/%s: %w", workspace, feed, store.ErrNotFound)
	}
	return gen, err
}

// insertIndicators writes inds into generation gen of a feed, a later one
// of the same kind and value replacing an earlier; first is the index of
// inds[0] in what the caller was given, for errors.
func insertIndicators(ctx context.Context, tx *sql.Tx, workspace, feed string, gen int64, inds []intel.Indicator, first int) error {
	if len(inds) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO intel_indicators (workspace, feed, kind, value, valid_until, revoked, doc, gen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace, value, feed, kind, gen) DO UPDATE SET
			valid_until = excluded.valid_until, revoked = excluded.revoked, doc = excluded.doc`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range inds {
		ind := inds[i]
		if ind.Kind == "" || ind.Value == "" {
			return fmt.Errorf("indicator %d: kind and value must be set: %w", first+i, store.ErrInvalid)
		}
		ind.Feed = feed
		doc, err := json.Marshal(&ind)
		if err != nil {
			return fmt.Errorf("indicator %s %q: %w", ind.Kind, ind.Value, err)
		}
		var until sql.NullInt64
		if !ind.ValidUntil.IsZero() {
			until = sql.NullInt64{Int64: nanos(ind.ValidUntil), Valid: true}
		}
		if _, err := st.ExecContext(ctx, workspace, feed, string(ind.Kind), ind.Value, until, ind.Revoked, string(doc), gen); err != nil {
			return fmt.Errorf("indicator %s %q: %w", ind.Kind, ind.Value, err)
		}
	}
	return nil
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
