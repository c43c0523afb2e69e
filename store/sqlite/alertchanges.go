package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

var _ store.AlertStream = (*DB)(nil)

// sqlMigrate13 is the alert stream (store.AlertStream): one row per change
// to an alert, written in the transaction that made it, and the cursors of
// its consumers. AUTOINCREMENT keeps a purged seq from being given again,
// which a consumer's cursor would skip.
const sqlMigrate13 = `
CREATE TABLE alert_changes (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	workspace TEXT NOT NULL,
	alert_id  TEXT NOT NULL,
	kind      TEXT NOT NULL,
	status    TEXT NOT NULL,
	at        INTEGER NOT NULL
);
CREATE INDEX alert_changes_at ON alert_changes (at);

CREATE TABLE stream_cursors (
	name    TEXT PRIMARY KEY,
	seq     INTEGER NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;

-- The detect stage's correlation windows (correlationstate.go).
CREATE TABLE correlation_state (
	name    TEXT PRIMARY KEY,
	data    BLOB NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;
`

const sqlInsertAlertChange = `INSERT INTO alert_changes (workspace, alert_id, kind, status, at) VALUES (?, ?, ?, ?, ?)`

// changeSignal wakes the consumers of the alert stream: ch is closed (and
// replaced) when a transaction that appended changes has committed.
type changeSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *changeSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *changeSignal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// AlertChangesSignal; see store.AlertStream.
func (db *DB) AlertChangesSignal() <-chan struct{} { return db.changes.wait() }

// appendChange writes one change in tx.
func appendChange(ctx context.Context, exec func(ctx context.Context, args ...any) (sql.Result, error), a *alert.Alert, kind store.ChangeKind, at time.Time) error {
	if _, err := exec(ctx, a.Workspace, a.ID, string(kind), string(a.Status), nanos(at)); err != nil {
		return fmt.Errorf("alert %s: append %s change: %w", a.ID, kind, err)
	}
	return nil
}

// AlertChanges; see store.AlertStream.
func (db *DB) AlertChanges(ctx context.Context, afterSeq int64, n int) ([]store.AlertChange, error) {
	return list(ctx, db, "alert changes", func(r scanner) (store.AlertChange, error) {
		var c store.AlertChange
		var kind, status string
		var at int64
		err := r.Scan(&c.Seq, &c.Workspace, &c.AlertID, &kind, &status, &at)
		c.Kind, c.Status, c.At = store.ChangeKind(kind), alert.Status(status), fromNanos(at)
		return c, err
	}, `SELECT seq, workspace, alert_id, kind, status, at FROM alert_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		afterSeq, limit(n))
}

// ConsumerCursor; see store.AlertStream.
func (db *DB) ConsumerCursor(ctx context.Context, name string) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT seq FROM stream_cursors WHERE name = ?`, name).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor of alert stream consumer %q: %w", name, err)
	}
	return seq, nil
}

// SetConsumerCursor; see store.AlertStream.
func (db *DB) SetConsumerCursor(ctx context.Context, name string, seq int64) error {
	if name == "" || seq < 0 {
		return fmt.Errorf("alert stream cursor %q at %d: %w (want a name and a seq of 0 or more)", name, seq, store.ErrInvalid)
	}
	return db.write(ctx, "set alert stream cursor", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stream_cursors (name, seq, updated) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), updated = excluded.updated`,
			name, seq, nanos(db.now()))
		if err != nil {
			return fmt.Errorf("cursor of alert stream consumer %q: %w", name, err)
		}
		return nil
	})
}

// PurgeAlertChanges; see store.AlertStream.
func (db *DB) PurgeAlertChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "purge alert changes", func(tx *sql.Tx) error {
		// min(seq) of no cursor is NULL: with no consumer, only the
		// horizon purges.
		r, err := tx.ExecContext(ctx, `DELETE FROM alert_changes
			WHERE at < ? OR seq <= (SELECT min(seq) FROM stream_cursors)`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge alert changes: %w", err)
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}
