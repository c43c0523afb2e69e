package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/store"
)

// Audit appends an entry to the audit log; a zero time means now.
func (db *DB) Audit(ctx context.Context, e store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	return insertAudit(ctx, db.pool, e)
}

func insertAudit(ctx context.Context, q querier, e store.AuditEntry) error {
	if e.Action == "" || e.Actor == "" {
		return fmt.Errorf("audit entry (action %q, actor %q): both must be set: %w", e.Action, e.Actor, store.ErrInvalid)
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (workspace, time, actor, action, target, detail, count) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.Workspace, nanos(e.Time), text(e.Actor), e.Action, text(e.Target), text(e.Detail), max(e.Count, 1))
	if err != nil {
		return fmt.Errorf("audit %s of %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// auditRepeatLock is the class of the transaction advisory lock that
// AuditRepeat takes on its line's key: two processes counting one repeat
// at once must not both write a new line.
const auditRepeatLock = 0x7669_6732

// AuditRepeat counts e on the line of the same workspace, actor, action,
// target and detail written since since, else writes it; see store.Store.
func (db *DB) AuditRepeat(ctx context.Context, e store.AuditEntry, since time.Time) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	return db.tx(ctx, "audit", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(auditRepeatLock),
			e.Workspace+"\x1f"+text(e.Actor)+"\x1f"+e.Action+"\x1f"+text(e.Target)); err != nil {
			return fmt.Errorf("audit %s of %s: %w", e.Action, e.Target, err)
		}
		tag, err := tx.Exec(ctx, `UPDATE audit_log SET count = count + $1, last = greatest(coalesce(last, time), $2)
			WHERE id = (SELECT id FROM audit_log WHERE actor = $3 AND action = $4 AND time >= $5
				AND workspace = $6 AND target = $7 AND detail = $8 ORDER BY id DESC LIMIT 1)`,
			max(e.Count, 1), nanos(e.Time), text(e.Actor), e.Action, nanos(since), e.Workspace, text(e.Target), text(e.Detail))
		if err != nil {
			return fmt.Errorf("audit %s of %s: count a repeat: %w", e.Action, e.Target, err)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		return insertAudit(ctx, tx, e)
	})
}

// PurgeAudit deletes the audit lines last written before before, a few
// thousand a statement.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE time < $1 AND coalesce(last, time) < $1 LIMIT 4096)`, nanos(before))
		if err != nil {
			return total, fmt.Errorf("purge the audit log before %v: %w", before, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() == 0 {
			return total, nil
		}
	}
}

// AuditLog returns a workspace's audit entries, newest first.
func (db *DB) AuditLog(ctx context.Context, workspace string, q store.AuditQuery) ([]store.AuditEntry, string, error) {
	n := store.PageLimit(q.Limit)
	where, args := "workspace = $1", []any{workspace}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "audit")
		if err != nil {
			return nil, "", fmt.Errorf("audit log of %s: %w", workspace, err)
		}
		where += " AND id < $2"
		args = append(args, c.N)
	}
	args = append(args, n+1)
	out, err := collect(ctx, db.pool, "audit log of "+workspace, scanAudit,
		`SELECT id, workspace, time, actor, action, target, detail, count, last FROM audit_log
		WHERE `+where+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = store.EncodeCursor("audit", store.Cursor{N: out[n-1].ID, S: strconv.FormatInt(out[n-1].ID, 10)})
	}
	return out, next, nil
}

func scanAudit(row scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var t int64
	var last *int64
	if err := row.Scan(&e.ID, &e.Workspace, &t, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Count, &last); err != nil {
		return store.AuditEntry{}, err
	}
	e.Time, e.Last = fromNanos(t), fromNullNanos(last)
	return e, nil
}
