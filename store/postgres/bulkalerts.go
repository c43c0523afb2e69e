package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

var _ store.BulkAlerts = (*DB)(nil)

// SetAlertsStatus moves several alerts of workspace to status (with
// reason) in one transaction, each change audited on its own line: all of
// them, or none when one is missing or may not move (the error names it).
func (db *DB) SetAlertsStatus(ctx context.Context, workspace string, ids []string, status alert.Status, reason alert.Reason, actor string) ([]alert.Alert, error) {
	if !status.Valid() {
		return nil, fmt.Errorf("alerts of %s: status %q: %w (want new, active, resolved or dismissed)", workspace, status, store.ErrInvalid)
	}
	if err := alert.CheckReason(status, reason); err != nil {
		return nil, fmt.Errorf("alerts of %s: %w: %w", workspace, store.ErrInvalid, err)
	}
	if actor == "" {
		return nil, fmt.Errorf("alerts of %s: status change without an actor: %w", workspace, store.ErrInvalid)
	}
	var out []alert.Alert
	var changes []store.AlertChange
	err := db.tx(ctx, "set alert status", func(tx pgx.Tx) error {
		out, changes = out[:0], changes[:0]
		// The rows first, all of them in id order, so that two bulk
		// changes of the same alerts wait on each other in one order.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM alerts WHERE workspace = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE`,
			workspace, texts(ids)); err != nil {
			return fmt.Errorf("alerts of %s: lock: %w", workspace, err)
		}
		now := db.now().UTC()
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue // one change an alert, however often it is named
			}
			seen[id] = true
			a, changed, err := setAlertStatusTx(ctx, tx, workspace, id, status, reason, actor, now)
			if err != nil {
				return &store.AlertError{ID: id, Err: err}
			}
			out = append(out, a)
			if changed {
				changes = append(changes, alertChange(&a, store.ChangeStatus, now))
			}
		}
		// The stream's entries last: their lock is held to the commit
		// (streams.go).
		if len(changes) == 0 {
			return nil
		}
		var b pgx.Batch
		db.queueAlertChanges(&b, changes)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("alerts of %s: append status changes: %w", workspace, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		db.streams.alerts.broadcast()
	}
	return out, nil
}

// setAlertStatusTx is one alert's status change inside tx: the alert's
// row (locked, against a Commit merging into it) and its audit line.
// changed reports whether the status or reason moved, which the alert
// stream is told of (by the caller, last in the transaction).
func setAlertStatusTx(ctx context.Context, tx pgx.Tx, workspace, id string, status alert.Status, reason alert.Reason, actor string, now time.Time) (alert.Alert, bool, error) {
	a, err := scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace = $1 AND id = $2 FOR UPDATE`, workspace, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return alert.Alert{}, false, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return alert.Alert{}, false, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, err)
	}
	old, oldReason := a.Status, a.Reason
	if err := alert.CheckTransition(old, status); err != nil {
		return alert.Alert{}, false, fmt.Errorf("alert %s: %w: %w", id, store.ErrConflict, err)
	}
	a.Status, a.Updated, a.Reason = status, now, reason
	if _, err := tx.Exec(ctx, `UPDATE alerts SET status = $1, updated = $2, reason = $3 WHERE id = $4`,
		string(status), nanos(now), string(reason), id); err != nil {
		return alert.Alert{}, false, fmt.Errorf("alert %s: set status: %w", id, err)
	}
	detail := string(old) + " -> " + string(status)
	if reason != "" {
		detail += " (" + string(reason) + ")"
	}
	return a, old != status || oldReason != reason, insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor,
		Action: "alert.status", Target: id, Detail: detail})
}

// texts is text() of each of ss.
func texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}
