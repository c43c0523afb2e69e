package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigil-sec/vigil/store"
)

// sqlMigrateRuleState keeps the rules a workspace turned off; a rule with
// no row is on.
const sqlMigrateRuleState = `
CREATE TABLE disabled_rules (
	workspace TEXT NOT NULL,
	rule      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	since     INTEGER NOT NULL,
	PRIMARY KEY (workspace, rule)
) WITHOUT ROWID;
`

// DisabledRules lists the rules workspace turned off, by rule id.
func (db *DB) DisabledRules(ctx context.Context, workspace string) ([]store.DisabledRule, error) {
	return list(ctx, db, "disabled rules of "+workspace, func(r scanner) (store.DisabledRule, error) {
		var d store.DisabledRule
		var since int64
		if err := r.Scan(&d.Rule, &d.Actor, &since); err != nil {
			return d, err
		}
		d.Since = fromNanos(since)
		return d, nil
	}, `SELECT rule, actor, since FROM disabled_rules WHERE workspace = ? ORDER BY rule`, workspace)
}

// SetRuleEnabled turns rule on or off in workspace, and reports whether
// that changed anything (turning off a rule that is off keeps who did it
// first, and when).
func (db *DB) SetRuleEnabled(ctx context.Context, ws, rule string, enabled bool, actor string) (bool, error) {
	if rule == "" {
		return false, fmt.Errorf("set rule enabled in %s: no rule id: %w", ws, store.ErrInvalid)
	}
	changed := false
	err := db.write(ctx, "set rule enabled", func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return fmt.Errorf("rule %s: %w", rule, err)
		}
		var res sql.Result
		var err error
		if enabled {
			res, err = tx.ExecContext(ctx, `DELETE FROM disabled_rules WHERE workspace = ? AND rule = ?`, ws, rule)
		} else {
			res, err = tx.ExecContext(ctx, `INSERT INTO disabled_rules (workspace, rule, actor, since) VALUES (?, ?, ?, ?)
				ON CONFLICT (workspace, rule) DO NOTHING`, ws, rule, actor, nanos(db.now()))
		}
		if err != nil {
			return fmt.Errorf("set rule %s enabled=%t in %s: %w", rule, enabled, ws, err)
		}
		n, _ := res.RowsAffected()
		changed = n > 0
		return nil
	})
	return changed, err
}
