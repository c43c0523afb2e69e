package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

const sqlInsertQuarantine = `INSERT INTO quarantine
	(workspace, source, format, batch_id, record_id, line, reason, received, raw, truncated)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// quarantine writes a batch's rejected records, inside the batch's commit
// (so a replay that skips the batch skips them too). Rejections are rare:
// a plain statement each is enough.
func (c *committer) quarantine(b *store.Batch) error {
	for _, q := range b.Quarantined {
		raw, cut := q.Raw, false
		if len(raw) > store.MaxQuarantinedRaw {
			raw, cut = raw[:store.MaxQuarantinedRaw], true
		}
		_, err := c.tx.ExecContext(c.ctx, sqlInsertQuarantine, b.Workspace, b.Source, b.Format, b.ID[:], q.ID[:],
			q.Line, store.CapReason(q.Reason), nanos(b.Received), raw, cut)
		if err != nil {
			return fmt.Errorf("commit: batch %s: quarantine record %d: %w", b.ID, q.Line, err)
		}
	}
	return nil
}

// Quarantine implements store.Store.
func (db *DB) Quarantine(ctx context.Context, workspace string, q store.QuarantineQuery) ([]store.QuarantineEntry, string, error) {
	n := limit(q.Limit)
	where, args := "workspace = ?", []any{workspace}
	if q.Source != "" {
		where += " AND source = ?"
		args = append(args, q.Source)
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "quarantine")
		if err != nil {
			return nil, "", fmt.Errorf("quarantine of %s: %w", workspace, err)
		}
		where += " AND id < ?"
		args = append(args, c.n)
	}
	args = append(args, n+1)
	out, err := list(ctx, db, "quarantine of "+workspace, scanQuarantine, `SELECT id, workspace, source, format, batch_id, record_id, line, reason, received, raw, truncated
		FROM quarantine WHERE `+where+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor("quarantine", cursor{n: out[n-1].ID, s: strconv.FormatInt(out[n-1].ID, 10)})
	}
	return out, next, nil
}

func idString(b []byte) string {
	var id event.ID
	if len(b) != len(id) {
		return ""
	}
	copy(id[:], b)
	return id.String()
}

// PurgeQuarantine implements store.Store.
func (db *DB) PurgeQuarantine(ctx context.Context, before time.Time, keep int) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM quarantine WHERE received < ?`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("purge quarantine: %w", err)
	}
	n, _ := res.RowsAffected()
	if keep > 0 {
		res, err = db.w.ExecContext(ctx, `DELETE FROM quarantine WHERE id IN (
			SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY workspace ORDER BY id DESC) AS rn FROM quarantine)
			WHERE rn > ?)`, keep)
		if err != nil {
			return n, fmt.Errorf("purge quarantine over %d a workspace: %w", keep, err)
		}
		m, _ := res.RowsAffected()
		n += m
	}
	return n, nil
}

func scanQuarantine(row scanner) (store.QuarantineEntry, error) {
	var e store.QuarantineEntry
	var batch, rec, raw []byte
	var t int64
	if err := row.Scan(&e.ID, &e.Workspace, &e.Source, &e.Format, &batch, &rec, &e.Line, &e.Reason, &t, &raw, &e.Truncated); err != nil {
		return store.QuarantineEntry{}, err
	}
	e.BatchID, e.RecordID = idString(batch), idString(rec)
	e.Received, e.Raw = fromNanos(t), string(raw)
	return e, nil
}
