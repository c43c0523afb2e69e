package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// Quarantine lists the records that failed to decode, newest first.
func (db *DB) Quarantine(ctx context.Context, workspace string, q store.QuarantineQuery) ([]store.QuarantineEntry, string, error) {
	n := store.PageLimit(q.Limit)
	var a args
	where := "workspace = " + a.add(workspace)
	if q.Source != "" {
		where += " AND source = " + a.add(q.Source)
	}
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, "quarantine")
		if err != nil {
			return nil, "", fmt.Errorf("quarantine of %s: %w", workspace, err)
		}
		where += " AND id < " + a.add(c.N)
	}
	out, err := collect(ctx, db.pool, "quarantine of "+workspace, scanQuarantine,
		`SELECT id, workspace, source, format, batch_id, record_id, line, reason, received, raw, truncated
		FROM quarantine WHERE `+where+` ORDER BY id DESC LIMIT `+a.add(n+1), a...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = store.EncodeCursor("quarantine", store.Cursor{N: out[n-1].ID, S: strconv.FormatInt(out[n-1].ID, 10)})
	}
	return out, next, nil
}

// PurgeQuarantine deletes quarantined records received before before, and
// the oldest beyond keep per workspace (keep <= 0: no cap).
func (db *DB) PurgeQuarantine(ctx context.Context, before time.Time, keep int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM quarantine WHERE received < $1`, nanos(before))
	if err != nil {
		return 0, fmt.Errorf("purge quarantine: %w", err)
	}
	n := tag.RowsAffected()
	if keep > 0 {
		tag, err = db.pool.Exec(ctx, `DELETE FROM quarantine WHERE id IN (
			SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY workspace ORDER BY id DESC) AS rn FROM quarantine) AS r
			WHERE rn > $1)`, keep)
		if err != nil {
			return n, fmt.Errorf("purge quarantine over %d a workspace: %w", keep, err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

func scanQuarantine(row scanner) (store.QuarantineEntry, error) {
	var e store.QuarantineEntry
	var batch, rec, raw, reason []byte
	var t int64
	if err := row.Scan(&e.ID, &e.Workspace, &e.Source, &e.Format, &batch, &rec, &e.Line, &reason, &t, &raw, &e.Truncated); err != nil {
		return store.QuarantineEntry{}, err
	}
	e.BatchID, e.RecordID = idString(batch), idString(rec)
	e.Reason, e.Received, e.Raw = string(reason), fromNanos(t), string(raw)
	return e, nil
}

func idString(b []byte) string {
	var id event.ID
	if len(b) != len(id) {
		return ""
	}
	copy(id[:], b)
	return id.String()
}
