package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// sqlMigrate11 keeps each alert's priority (alert.Prioritize) as a column,
// so that the list sorts by it in the index.
const sqlMigrate11 = `
ALTER TABLE alerts ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_priority ON alerts (workspace, priority, last_seen, id);
`

// migrate11 works out the priority and compromised entity of the alerts
// stored so far (alert.Assess), from their documents and their intent as it
// was estimated then, a chunk at a time. Their evidence is not read.
func migrate11(ctx context.Context, tx *sql.Tx, _ time.Time) error {
	upd, err := tx.PrepareContext(ctx, `UPDATE alerts SET priority = ?, doc = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	q := `SELECT ` + strings.Replace(alertColumns, "evidence, evidence_n", "NULL, 0", 1) +
		` FROM alerts WHERE id > ? ORDER BY id LIMIT 1000`
	last := ""
	for {
		chunk, err := queryRows(ctx, tx, q, []any{last}, scanAlert)
		if err != nil || len(chunk) == 0 {
			return err
		}
		for i := range chunk {
			a := &chunk[i]
			a.Assess()
			doc, err := encodeAlertDoc(a)
			if err != nil {
				return fmt.Errorf("alert %s: encode: %w", a.ID, err)
			}
			if _, err := upd.ExecContext(ctx, int64(a.Priority), string(doc), a.ID); err != nil {
				return fmt.Errorf("alert %s: priority: %w", a.ID, err)
			}
		}
		last = chunk[len(chunk)-1].ID
	}
}
