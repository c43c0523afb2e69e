package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

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
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (workspace, time, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Workspace, nanos(e.Time), e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s of %s: %w", e.Action, e.Target, err)
	}
	return nil
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
	out, err := list(ctx, db, "audit log of "+workspace, scanAudit, `SELECT id, workspace, time, actor, action, target, detail FROM audit_log
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
	if err := row.Scan(&e.ID, &e.Workspace, &t, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
		return store.AuditEntry{}, err
	}
	e.Time = fromNanos(t)
	return e, nil
}
