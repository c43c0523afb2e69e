package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Decisions = (*DB)(nil)

// sqlMigrateDecisions (migration 17) holds block decisions
// (store.Decisions). Each decision takes a seq from decision_changes when
// it is made (new_seq) and another when it ends (end_seq); a bouncer's poll reads the seqs between its cursor
// (decision_bouncers) and the head, so that it is told of each decision
// once and of each end once. AUTOINCREMENT keeps a seq from being given
// twice.
const sqlMigrateDecisions = `
CREATE TABLE decisions (
	workspace   TEXT NOT NULL,
	id          TEXT NOT NULL,
	kind        TEXT NOT NULL,
	value       TEXT NOT NULL,
	reason      TEXT NOT NULL,
	incident_id TEXT NOT NULL DEFAULT '',
	created_by  TEXT NOT NULL,
	created     INTEGER NOT NULL,
	expires     INTEGER NOT NULL,
	ended       INTEGER,
	end_reason  TEXT NOT NULL DEFAULT '',
	revoked_by  TEXT NOT NULL DEFAULT '',
	new_seq     INTEGER NOT NULL,
	end_seq     INTEGER,
	PRIMARY KEY (workspace, id)
);
CREATE INDEX decisions_created ON decisions (workspace, created, id);
CREATE INDEX decisions_value ON decisions (workspace, kind, value) WHERE ended IS NULL;
CREATE INDEX decisions_expires ON decisions (expires) WHERE ended IS NULL;
CREATE INDEX decisions_new_seq ON decisions (workspace, new_seq);
CREATE INDEX decisions_end_seq ON decisions (workspace, end_seq) WHERE end_seq IS NOT NULL;

CREATE TABLE decision_changes (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	workspace   TEXT NOT NULL,
	decision_id TEXT NOT NULL,
	kind        TEXT NOT NULL,
	at          INTEGER NOT NULL
);

CREATE TABLE decision_bouncers (
	workspace TEXT NOT NULL,
	bouncer   TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	last_poll INTEGER NOT NULL,
	PRIMARY KEY (workspace, bouncer)
) WITHOUT ROWID;
`

const decisionColumns = `workspace, id, kind, value, reason, incident_id, created_by, created, expires, ended, end_reason, revoked_by`

func scanDecision(row scanner) (store.Decision, error) {
	var d store.Decision
	var created, expires int64
	var ended sql.NullInt64
	if err := row.Scan(&d.Workspace, &d.ID, &d.Kind, &d.Value, &d.Reason, &d.IncidentID, &d.CreatedBy,
		&created, &expires, &ended, &d.EndReason, &d.RevokedBy); err != nil {
		return d, err
	}
	d.Created, d.Expires, d.Ended = fromNanos(created), fromNanos(expires), fromNullNanos(ended)
	return d, nil
}

// decisionChange takes the next seq of the decisions' stream.
func decisionChange(ctx context.Context, tx *sql.Tx, d *store.Decision, kind string, at time.Time) (int64, error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO decision_changes (workspace, decision_id, kind, at) VALUES (?, ?, ?, ?)`,
		d.Workspace, d.ID, kind, nanos(at))
	if err != nil {
		return 0, fmt.Errorf("decision %s: %s: %w", d.ID, kind, err)
	}
	return r.LastInsertId()
}

func describeDecision(d store.Decision) string {
	s := fmt.Sprintf("%s %s for %s until %s: %s", d.Kind, d.Value, d.Duration().Round(time.Second), d.Expires.Format(time.RFC3339), d.Reason)
	if d.IncidentID != "" {
		s += " (incident " + d.IncidentID + ")"
	}
	return s
}

// CreateDecision stores d and audits it; see store.Decisions.
func (db *DB) CreateDecision(ctx context.Context, d store.Decision) (store.Decision, error) {
	d.Created, d.Expires = fromNanos(nanos(d.Created)), fromNanos(nanos(d.Expires))
	if err := store.CheckDecision(&d); err != nil {
		return d, err
	}
	if d.ID == "" {
		d.ID = event.NewID().String()
	}
	d.Ended, d.EndReason, d.RevokedBy = nil, "", ""
	err := db.write(ctx, "create decision", func(tx *sql.Tx) error {
		// A decision that expired but was not yet found so does not stand
		// in the way of a new one.
		if _, err := expireDecisions(ctx, tx, d.Created); err != nil {
			return err
		}
		var other string
		err := tx.QueryRowContext(ctx, `SELECT id FROM decisions WHERE workspace = ? AND kind = ? AND value = ? AND ended IS NULL LIMIT 1`,
			d.Workspace, d.Kind, d.Value).Scan(&other)
		if err == nil {
			return fmt.Errorf("an active decision %s blocks %s %s already (revoke it first to change it): %w", other, d.Kind, d.Value, store.ErrConflict)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("decision on %s %s: %w", d.Kind, d.Value, err)
		}
		seq, err := decisionChange(ctx, tx, &d, "new", d.Created)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (`+decisionColumns+`, new_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '', ?)`,
			d.Workspace, d.ID, d.Kind, d.Value, d.Reason, d.IncidentID, d.CreatedBy, nanos(d.Created), nanos(d.Expires), seq); err != nil {
			return fmt.Errorf("create decision %s: %w", d.ID, err)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: d.Workspace, Time: d.Created, Actor: d.CreatedBy,
			Action: "decision.create", Target: d.ID, Detail: describeDecision(d)})
	})
	if err != nil {
		return store.Decision{}, err
	}
	return d, nil
}

// Decision returns one decision; ErrNotFound when the workspace has none
// of that id.
func (db *DB) Decision(ctx context.Context, workspace, id string) (store.Decision, error) {
	d, err := scanDecision(db.r.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE workspace = ? AND id = ?`, workspace, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("decision %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("decision %s: %w", id, err)
	}
	return d, nil
}

// ListDecisions pages the workspace's decisions, newest first; see
// store.Decisions.
func (db *DB) ListDecisions(ctx context.Context, workspace string, q store.DecisionQuery) ([]store.Decision, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	where := `workspace = ?`
	args := []any{workspace}
	if q.Active {
		where += ` AND ended IS NULL AND expires > ?`
		args = append(args, nanos(q.Now))
	}
	if q.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, q.Kind)
	}
	if q.Value != "" {
		v := q.Value
		if q.Kind != "" {
			if n, err := store.NormalizeDecision(q.Kind, q.Value); err == nil {
				v = n
			}
		}
		where += ` AND value = ?`
		args = append(args, v)
	}
	if q.IncidentID != "" {
		where += ` AND incident_id = ?`
		args = append(args, q.IncidentID)
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "decision")
		if err != nil {
			return nil, "", err
		}
		where += ` AND (created < ? OR created = ? AND id < ?)`
		args = append(args, c.n, c.n, c.s)
	}
	args = append(args, limit+1)
	out, err := list(ctx, db, "decisions of "+workspace, scanDecision,
		`SELECT `+decisionColumns+` FROM decisions WHERE `+where+` ORDER BY created DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor("decision", cursor{n: nanos(last.Created), s: last.ID})
	}
	return out, next, nil
}

// RevokeDecision ends an active decision; see store.Decisions.
func (db *DB) RevokeDecision(ctx context.Context, workspace, id, actor string, now time.Time) (store.Decision, error) {
	if actor == "" {
		return store.Decision{}, fmt.Errorf("decision %s: revoke without an actor: %w", id, store.ErrInvalid)
	}
	now = fromNanos(nanos(now))
	var d store.Decision
	err := db.write(ctx, "revoke decision", func(tx *sql.Tx) error {
		if _, err := expireDecisions(ctx, tx, now); err != nil {
			return err
		}
		var err error
		d, err = scanDecision(tx.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE workspace = ? AND id = ?`, workspace, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("decision %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("decision %s: %w", id, err)
		}
		if d.Ended != nil {
			return fmt.Errorf("decision %s %s at %s already: %w", id, d.EndReason, d.Ended.Format(time.RFC3339), store.ErrConflict)
		}
		seq, err := decisionChange(ctx, tx, &d, store.DecisionRevoked, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE decisions SET ended = ?, end_reason = ?, revoked_by = ?, end_seq = ? WHERE workspace = ? AND id = ?`,
			nanos(now), store.DecisionRevoked, actor, seq, workspace, id); err != nil {
			return fmt.Errorf("revoke decision %s: %w", id, err)
		}
		d.Ended, d.EndReason, d.RevokedBy = &now, store.DecisionRevoked, actor
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor,
			Action: "decision.revoke", Target: id, Detail: describeDecision(d)})
	})
	if err != nil {
		return store.Decision{}, err
	}
	return d, nil
}

// decisionExpirer is the audit log's actor of expiries.
const decisionExpirer = "vigil:decisions"

// expireDecisions ends the decisions whose expiry is at or before now, in
// tx: each takes an end seq and an audit line (decision.expire, at its
// expiry).
func expireDecisions(ctx context.Context, tx *sql.Tx, now time.Time) (int, error) {
	due, err := queryRows(ctx, tx, `SELECT `+decisionColumns+` FROM decisions WHERE ended IS NULL AND expires <= ? ORDER BY expires, id`,
		[]any{nanos(now)}, scanDecision)
	if err != nil {
		return 0, fmt.Errorf("expire decisions: %w", err)
	}
	for _, d := range due {
		seq, err := decisionChange(ctx, tx, &d, store.DecisionExpired, d.Expires)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE decisions SET ended = ?, end_reason = ?, end_seq = ? WHERE workspace = ? AND id = ?`,
			nanos(d.Expires), store.DecisionExpired, seq, d.Workspace, d.ID); err != nil {
			return 0, fmt.Errorf("expire decision %s: %w", d.ID, err)
		}
		if err := insertAudit(ctx, tx, store.AuditEntry{Workspace: d.Workspace, Time: d.Expires, Actor: decisionExpirer,
			Action: "decision.expire", Target: d.ID, Detail: describeDecision(d)}); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// ExpireDecisions ends the decisions due at now; see store.Decisions.
func (db *DB) ExpireDecisions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.write(ctx, "expire decisions", func(tx *sql.Tx) error {
		var err error
		n, err = expireDecisions(ctx, tx, now)
		return err
	})
	return n, err
}

// DecisionStream is a bouncer's poll; see store.Decisions.
func (db *DB) DecisionStream(ctx context.Context, workspace, bouncer string, startup bool, now time.Time) (store.DecisionDelta, error) {
	var out store.DecisionDelta
	if bouncer == "" {
		return out, fmt.Errorf("decision stream without a bouncer: %w", store.ErrInvalid)
	}
	err := db.write(ctx, "decision stream", func(tx *sql.Tx) error {
		if _, err := expireDecisions(ctx, tx, now); err != nil {
			return err
		}
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM decision_changes`).Scan(&head); err != nil {
			return fmt.Errorf("decision stream: head: %w", err)
		}
		var cur int64
		err := tx.QueryRowContext(ctx, `SELECT seq FROM decision_bouncers WHERE workspace = ? AND bouncer = ?`, workspace, bouncer).Scan(&cur)
		known := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("decision stream: bouncer %s: %w", bouncer, err)
		}
		if startup || !known {
			// Everything that applies now, nothing to delete: the bouncer
			// starts from an empty set.
			if out.New, err = queryRows(ctx, tx, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = ? AND ended IS NULL AND new_seq <= ? ORDER BY new_seq`, []any{workspace, head}, scanDecision); err != nil {
				return fmt.Errorf("decision stream: %w", err)
			}
		} else {
			if out.New, err = queryRows(ctx, tx, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = ? AND new_seq > ? AND new_seq <= ? AND ended IS NULL ORDER BY new_seq`,
				[]any{workspace, cur, head}, scanDecision); err != nil {
				return fmt.Errorf("decision stream: new: %w", err)
			}
			// Only what the bouncer was given (made at or before its
			// cursor) is deleted; one made and ended between two polls
			// is in neither list.
			if out.Deleted, err = queryRows(ctx, tx, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = ? AND end_seq > ? AND end_seq <= ? AND new_seq <= ? ORDER BY end_seq`,
				[]any{workspace, cur, head, cur}, scanDecision); err != nil {
				return fmt.Errorf("decision stream: deleted: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO decision_bouncers (workspace, bouncer, seq, last_poll) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace, bouncer) DO UPDATE SET seq = excluded.seq, last_poll = excluded.last_poll`,
			workspace, bouncer, head, nanos(now)); err != nil {
			return fmt.Errorf("decision stream: bouncer %s: %w", bouncer, err)
		}
		return nil
	})
	if err != nil {
		return store.DecisionDelta{}, err
	}
	if out.New == nil {
		out.New = []store.Decision{}
	}
	if out.Deleted == nil {
		out.Deleted = []store.Decision{}
	}
	return out, nil
}

// PurgeDecisions deletes the decisions ended before before, and the
// stream's rows of that age; see store.Decisions. A bouncer that has not
// polled since is told of them no more: by then it rebuilds its set
// (startup=true) or its elements timed out.
func (db *DB) PurgeDecisions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "purge decisions", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM decisions WHERE ended IS NOT NULL AND ended < ?`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge decisions: %w", err)
		}
		n, _ = r.RowsAffected()
		// The newest row stays: AUTOINCREMENT keeps the next seq above it
		// anyway, and MAX(seq) is the stream's head.
		if _, err := tx.ExecContext(ctx, `DELETE FROM decision_changes WHERE at < ? AND seq < (SELECT MAX(seq) FROM decision_changes)`, nanos(before)); err != nil {
			return fmt.Errorf("purge decision changes: %w", err)
		}
		return nil
	})
	return n, err
}
