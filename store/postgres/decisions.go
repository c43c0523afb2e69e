package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Decisions = (*DB)(nil)

// decisionLock is the first key of the transaction advisory lock every
// decision change and bouncer poll takes (the second is the schema's
// hash): the stream's seqs come from a sequence, which hands them out in
// the order asked, not the order committed; a poll that read head 6
// while 5 was uncommitted would never tell its bouncer of 5. Decisions
// change rarely, so one at a time costs nothing.
const decisionLock = lockClass + 2

func (db *DB) lockDecisions(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(decisionLock), db.schemaLockKey()); err != nil {
		return fmt.Errorf("decisions: lock: %w", err)
	}
	return nil
}

const decisionColumns = `workspace, id, kind, value, reason, incident_id, created_by, created, expires, ended, end_reason, revoked_by`

func scanDecision(row scanner) (store.Decision, error) {
	var d store.Decision
	var created, expires int64
	var ended *int64
	if err := row.Scan(&d.Workspace, &d.ID, &d.Kind, &d.Value, &d.Reason, &d.IncidentID, &d.CreatedBy,
		&created, &expires, &ended, &d.EndReason, &d.RevokedBy); err != nil {
		return d, err
	}
	d.Created, d.Expires, d.Ended = fromNanos(created), fromNanos(expires), fromNullNanos(ended)
	return d, nil
}

// decisionChange takes the next seq of the decisions' stream.
func decisionChange(ctx context.Context, tx pgx.Tx, d *store.Decision, kind string, at time.Time) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, `INSERT INTO decision_changes (workspace, decision_id, kind, at) VALUES ($1, $2, $3, $4) RETURNING seq`,
		d.Workspace, d.ID, kind, nanos(at)).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("decision %s: %s: %w", d.ID, kind, err)
	}
	return seq, nil
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
	d.Reason, d.IncidentID, d.CreatedBy = text(d.Reason), text(d.IncidentID), text(d.CreatedBy)
	d.Ended, d.EndReason, d.RevokedBy = nil, "", ""
	err := db.tx(ctx, "create decision", func(tx pgx.Tx) error {
		if err := db.lockDecisions(ctx, tx); err != nil {
			return err
		}
		// A decision that expired but was not yet found so does not stand
		// in the way of a new one.
		if _, err := expireDecisions(ctx, tx, d.Created); err != nil {
			return err
		}
		var other string
		err := tx.QueryRow(ctx, `SELECT id FROM decisions WHERE workspace = $1 AND kind = $2 AND value = $3 AND ended IS NULL LIMIT 1`,
			d.Workspace, d.Kind, d.Value).Scan(&other)
		if err == nil {
			return fmt.Errorf("an active decision %s blocks %s %s already (revoke it first to change it): %w", other, d.Kind, d.Value, store.ErrConflict)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("decision on %s %s: %w", d.Kind, d.Value, err)
		}
		seq, err := decisionChange(ctx, tx, &d, "new", d.Created)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO decisions (`+decisionColumns+`, new_seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, '', '', $10) ON CONFLICT DO NOTHING`,
			d.Workspace, text(d.ID), d.Kind, d.Value, d.Reason, d.IncidentID, d.CreatedBy, nanos(d.Created), nanos(d.Expires), seq)
		if err != nil {
			return fmt.Errorf("create decision %s: %w", d.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("decision %s: %w (the id is taken)", d.ID, store.ErrConflict)
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
	d, err := scanDecision(db.pool.QueryRow(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE workspace = $1 AND id = $2`, workspace, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
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
	var a args
	where := `workspace = ` + a.add(workspace)
	if q.Active {
		where += ` AND ended IS NULL AND expires > ` + a.add(nanos(q.Now))
	}
	if q.Kind != "" {
		where += ` AND kind = ` + a.add(text(q.Kind))
	}
	if q.Value != "" {
		v := q.Value
		if q.Kind != "" {
			if n, err := store.NormalizeDecision(q.Kind, q.Value); err == nil {
				v = n
			}
		}
		where += ` AND value = ` + a.add(text(v))
	}
	if q.IncidentID != "" {
		where += ` AND incident_id = ` + a.add(text(q.IncidentID))
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "decision")
		if err != nil {
			return nil, "", fmt.Errorf("decisions of %s: %w", workspace, err)
		}
		where += ` AND (created, id) < (` + a.add(c.N) + `, ` + a.add(c.S) + `)`
	}
	out, err := collect(ctx, db.pool, "decisions of "+workspace, scanDecision,
		`SELECT `+decisionColumns+` FROM decisions WHERE `+where+` ORDER BY created DESC, id DESC LIMIT `+a.add(limit+1), a...)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor("decision", store.Cursor{N: nanos(last.Created), S: last.ID})
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
	err := db.tx(ctx, "revoke decision", func(tx pgx.Tx) error {
		if err := db.lockDecisions(ctx, tx); err != nil {
			return err
		}
		if _, err := expireDecisions(ctx, tx, now); err != nil {
			return err
		}
		var err error
		d, err = scanDecision(tx.QueryRow(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE workspace = $1 AND id = $2`, workspace, text(id)))
		if errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, `UPDATE decisions SET ended = $1, end_reason = $2, revoked_by = $3, end_seq = $4 WHERE workspace = $5 AND id = $6`,
			nanos(now), store.DecisionRevoked, text(actor), seq, workspace, d.ID); err != nil {
			return fmt.Errorf("revoke decision %s: %w", id, err)
		}
		d.Ended, d.EndReason, d.RevokedBy = &now, store.DecisionRevoked, text(actor)
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
// tx (which holds the decisions' lock): each takes an end seq and an
// audit line (decision.expire, at its expiry).
func expireDecisions(ctx context.Context, tx pgx.Tx, now time.Time) (int, error) {
	due, err := collect(ctx, tx, "expire decisions", scanDecision,
		`SELECT `+decisionColumns+` FROM decisions WHERE ended IS NULL AND expires <= $1 ORDER BY expires, id`, nanos(now))
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		seq, err := decisionChange(ctx, tx, &d, store.DecisionExpired, d.Expires)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE decisions SET ended = $1, end_reason = $2, end_seq = $3 WHERE workspace = $4 AND id = $5`,
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
	err := db.tx(ctx, "expire decisions", func(tx pgx.Tx) error {
		if err := db.lockDecisions(ctx, tx); err != nil {
			return err
		}
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
	bouncer = text(bouncer)
	err := db.tx(ctx, "decision stream", func(tx pgx.Tx) error {
		if err := db.lockDecisions(ctx, tx); err != nil {
			return err
		}
		if _, err := expireDecisions(ctx, tx, now); err != nil {
			return err
		}
		var head int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM decision_changes`).Scan(&head); err != nil {
			return fmt.Errorf("decision stream: head: %w", err)
		}
		var cur int64
		err := tx.QueryRow(ctx, `SELECT seq FROM decision_bouncers WHERE workspace = $1 AND bouncer = $2`, workspace, bouncer).Scan(&cur)
		known := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("decision stream: bouncer %s: %w", bouncer, err)
		}
		if startup || !known {
			// Everything that applies now, nothing to delete: the bouncer
			// starts from an empty set.
			if out.New, err = collect(ctx, tx, "decision stream", scanDecision, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = $1 AND ended IS NULL AND new_seq <= $2 ORDER BY new_seq`, workspace, head); err != nil {
				return err
			}
		} else {
			if out.New, err = collect(ctx, tx, "decision stream: new", scanDecision, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = $1 AND new_seq > $2 AND new_seq <= $3 AND ended IS NULL ORDER BY new_seq`,
				workspace, cur, head); err != nil {
				return err
			}
			// Only what the bouncer was given (made at or before its
			// cursor) is deleted; one made and ended between two polls
			// is in neither list.
			if out.Deleted, err = collect(ctx, tx, "decision stream: deleted", scanDecision, `SELECT `+decisionColumns+` FROM decisions
				WHERE workspace = $1 AND end_seq > $2 AND end_seq <= $3 AND new_seq <= $2 ORDER BY end_seq`,
				workspace, cur, head); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO decision_bouncers (workspace, bouncer, seq, last_poll) VALUES ($1, $2, $3, $4)
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
// stream's rows of that age (the newest stays: it is the stream's head);
// see store.Decisions.
func (db *DB) PurgeDecisions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge decisions", func(tx pgx.Tx) error {
		if err := db.lockDecisions(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM decisions WHERE ended IS NOT NULL AND ended < $1`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge decisions: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM decision_changes WHERE at < $1 AND seq < (SELECT max(seq) FROM decision_changes)`, nanos(before)); err != nil {
			return fmt.Errorf("purge decision changes: %w", err)
		}
		return nil
	})
	return n, err
}
