package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-sec/vigil/store"
)

// DisabledRules lists the rules workspace turned off, by rule id.
func (db *DB) DisabledRules(ctx context.Context, workspace string) ([]store.DisabledRule, error) {
	return collect(ctx, db.pool, "disabled rules of "+workspace, func(r scanner) (store.DisabledRule, error) {
		var d store.DisabledRule
		var since int64
		if err := r.Scan(&d.Rule, &d.Actor, &since); err != nil {
			return d, err
		}
		d.Since = fromNanos(since)
		return d, nil
	}, `SELECT rule, actor, since FROM disabled_rules WHERE workspace = $1 ORDER BY rule COLLATE "C"`, workspace)
}

// SetRuleEnabled turns rule on or off in workspace, and reports whether
// that changed anything (turning off a rule that is off keeps who did it
// first, and when).
func (db *DB) SetRuleEnabled(ctx context.Context, ws, rule string, enabled bool, actor string) (bool, error) {
	if rule == "" {
		return false, fmt.Errorf("set rule enabled in %s: no rule id: %w", ws, store.ErrInvalid)
	}
	changed := false
	err := db.tx(ctx, "set rule enabled", func(tx pgx.Tx) error {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return fmt.Errorf("rule %s: %w", rule, err)
		}
		var tag pgconn.CommandTag
		var err error
		if enabled {
			tag, err = tx.Exec(ctx, `DELETE FROM disabled_rules WHERE workspace = $1 AND rule = $2`, ws, text(rule))
		} else {
			tag, err = tx.Exec(ctx, `INSERT INTO disabled_rules (workspace, rule, actor, since) VALUES ($1, $2, $3, $4)
				ON CONFLICT (workspace, rule) DO NOTHING`, ws, text(rule), text(actor), nanos(db.now()))
		}
		if err != nil {
			return fmt.Errorf("set rule %s enabled=%t in %s: %w", rule, enabled, ws, err)
		}
		changed = tag.RowsAffected() > 0
		return nil
	})
	return changed, err
}
