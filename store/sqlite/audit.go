package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Audit appends an entry to the audit log; a zero time means now.
func (db *DB) Audit(ctx context.Context, e store.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	return db.write(ctx, "audit", func(tx *sql.Tx) error { return insertAudit(ctx, tx, e) })
}

func insertAudit(ctx context.Context, tx *sql.Tx, e store.AuditEntry) error {
	if e.Action == "" || e.Actor == "" {
		return fmt.Errorf("audit entry (action %q, actor %q): both must be set: %w", e.Action, e.Actor, store.ErrInvalid)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (workspace, time, actor, action, target, detail, count) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Workspace, nanos(e.Time), e.Actor, e.Action, e.Target, e.Detail, max(e.Count, 1))
	if err != nil {
		return fmt.Errorf("audit %s of %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// AuditRepeat counts e on the line of the same workspace, actor, action,
// target and detail written since since, else writes it; see store.Store.
func (db *DB) AuditRepeat(ctx context.Context, e store.AuditEntry, since time.Time) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	return db.write(ctx, "audit", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE audit_log SET count = count + ?1, last = max(coalesce(last, time), ?2)
			WHERE id = (SELECT id FROM audit_log WHERE actor = ?3 AND action = ?4 AND time >= ?5
				AND workspace = ?6 AND target = ?7 AND detail = ?8 ORDER BY id DESC LIMIT 1)`,
			max(e.Count, 1), nanos(e.Time), e.Actor, e.Action, nanos(since), e.Workspace, e.Target, e.Detail)
		if err != nil {
			return fmt.Errorf("audit %s of %s: count a repeat: %w", e.Action, e.Target, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return insertAudit(ctx, tx, e)
	})
}

// PurgeAudit deletes the audit lines last written before before, a few
// thousand a transaction.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	what := fmt.Sprintf("purge the audit log before %v", before)
	for {
		var n int64
		err := db.write(ctx, what, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
				(SELECT id FROM audit_log WHERE time < ?1 AND coalesce(last, time) < ?1 LIMIT 4096)`, nanos(before))
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// AuditLog returns a workspace's audit entries, newest first. The empty
// workspace holds refused authentications that named none.
func (db *DB) AuditLog(ctx context.Context, workspace string, q store.AuditQuery) ([]store.AuditEntry, string, error) {
	n := limit(q.Limit)
	where, args := "workspace = ?", []any{workspace}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "audit")
		if err != nil {
			return nil, "", fmt.Errorf("audit log of %s: %w", workspace, err)
		}
		where += " AND id < ?"
		args = append(args, c.n)
	}
	args = append(args, n+1)
	out, err := list(ctx, db, "audit log of "+workspace, scanAudit, `SELECT id, workspace, time, actor, action, target, detail, count, last FROM audit_log
		WHERE `+where+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor("audit", cursor{n: out[n-1].ID, s: strconv.FormatInt(out[n-1].ID, 10)})
	}
	return out, next, nil
}

func scanAudit(row scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var t int64
	var last sql.NullInt64
	if err := row.Scan(&e.ID, &e.Workspace, &t, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Count, &last); err != nil {
		return store.AuditEntry{}, err
	}
	e.Time, e.Last = fromNanos(t), fromNullNanos(last)
	return e, nil
}
