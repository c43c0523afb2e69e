package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

var _ store.Noise = (*DB)(nil)

// sqlMigrate12 holds noise control: a workspace's suppressions (their
// conditions as columns, their hits counted by Commit) and the signals
// suppressed per rule. An alert's classification (alert.Reason) lives in
// its document.
const sqlMigrate12 = `
CREATE TABLE suppressions (
	workspace    TEXT NOT NULL,
	id           TEXT NOT NULL,
	rule_id      TEXT NOT NULL DEFAULT '',
	entity_type  TEXT NOT NULL DEFAULT '',
	entity_value TEXT NOT NULL DEFAULT '',
	field        TEXT NOT NULL DEFAULT '',
	value        TEXT NOT NULL DEFAULT '',
	cidr         TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL,
	author       TEXT NOT NULL,
	expires      INTEGER,
	created      INTEGER NOT NULL,
	updated      INTEGER NOT NULL,
	hits         INTEGER NOT NULL DEFAULT 0,
	last_hit     INTEGER,
	PRIMARY KEY (workspace, id)
);

CREATE TABLE rule_noise (
	workspace       TEXT NOT NULL,
	rule_id         TEXT NOT NULL,
	suppressed      INTEGER NOT NULL DEFAULT 0,
	last_suppressed INTEGER,
	PRIMARY KEY (workspace, rule_id)
) WITHOUT ROWID;
`

const suppressionColumns = `workspace, id, rule_id, entity_type, entity_value, field, value, cidr, reason, author, expires, created, updated, hits, last_hit`

func scanSuppression(row scanner) (suppress.Suppression, error) {
	var s suppress.Suppression
	var etype, evalue string
	var expires, lastHit sql.NullInt64
	var created, updated int64
	if err := row.Scan(&s.Workspace, &s.ID, &s.Rule, &etype, &evalue, &s.Field, &s.Value, &s.CIDR,
		&s.Reason, &s.Author, &expires, &created, &updated, &s.Hits, &lastHit); err != nil {
		return s, err
	}
	if etype != "" {
		s.Entity = &alert.Entity{Type: etype, Value: evalue}
	}
	if expires.Valid {
		t := fromNanos(expires.Int64)
		s.Expires = &t
	}
	if lastHit.Valid {
		t := fromNanos(lastHit.Int64)
		s.LastHit = &t
	}
	s.Created, s.Updated = fromNanos(created), fromNanos(updated)
	return s, nil
}

// Suppressions lists the workspace's suppressions; see store.Noise.
func (db *DB) Suppressions(ctx context.Context, workspace string) ([]suppress.Suppression, error) {
	return list(ctx, db, "suppressions of "+workspace, scanSuppression,
		`SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = ? ORDER BY created, id`, workspace)
}

// Suppression returns one suppression; ErrNotFound when the workspace has
// none of that id.
func (db *DB) Suppression(ctx context.Context, workspace, id string) (suppress.Suppression, error) {
	s, err := scanSuppression(db.r.QueryRowContext(ctx, `SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = ? AND id = ?`, workspace, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("suppression %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("suppression %s in workspace %s: %w", id, workspace, err)
	}
	return s, nil
}

func checkSuppression(s *suppress.Suppression, actor string) error {
	if s.Workspace == "" {
		return fmt.Errorf("suppression without a workspace: %w", store.ErrInvalid)
	}
	if actor == "" {
		return fmt.Errorf("suppression change without an actor: %w", store.ErrInvalid)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return nil
}

// CreateSuppression stores s and audits it; see store.Noise.
func (db *DB) CreateSuppression(ctx context.Context, s suppress.Suppression, actor string) (suppress.Suppression, error) {
	if err := checkSuppression(&s, actor); err != nil {
		return s, err
	}
	now := fromNanos(nanos(db.now()))
	if s.ID == "" {
		s.ID = event.NewID().String()
	}
	if s.Author == "" {
		s.Author = actor
	}
	s.Created, s.Updated, s.Hits, s.LastHit = now, now, 0, nil
	et, ev := entityColumns(s.Entity)
	err := db.write(ctx, "create suppression", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO suppressions (`+suppressionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL) ON CONFLICT DO NOTHING`,
			s.Workspace, s.ID, s.Rule, et, ev, s.Field, s.Value, s.CIDR, s.Reason, s.Author, nullNanos(s.Expires),
			nanos(s.Created), nanos(s.Updated))
		if err != nil {
			return fmt.Errorf("create suppression %s: %w", s.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("suppression %s: %w", s.ID, store.ErrConflict)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: s.Workspace, Time: now, Actor: actor,
			Action: "suppression.create", Target: s.ID, Detail: describe(s)})
	})
	return s, err
}

// UpdateSuppression replaces a suppression's definition; see store.Noise.
func (db *DB) UpdateSuppression(ctx context.Context, s suppress.Suppression, actor string) (suppress.Suppression, error) {
	if err := checkSuppression(&s, actor); err != nil {
		return s, err
	}
	now := fromNanos(nanos(db.now()))
	et, ev := entityColumns(s.Entity)
	var out suppress.Suppression
	err := db.write(ctx, "update suppression", func(tx *sql.Tx) error {
		old, err := scanSuppression(tx.QueryRowContext(ctx, `SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = ? AND id = ?`, s.Workspace, s.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("suppression %s in workspace %s: %w", s.ID, s.Workspace, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("suppression %s: %w", s.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE suppressions SET rule_id = ?, entity_type = ?, entity_value = ?, field = ?,
			value = ?, cidr = ?, reason = ?, expires = ?, updated = ? WHERE workspace = ? AND id = ?`,
			s.Rule, et, ev, s.Field, s.Value, s.CIDR, s.Reason, nullNanos(s.Expires), nanos(now), s.Workspace, s.ID); err != nil {
			return fmt.Errorf("update suppression %s: %w", s.ID, err)
		}
		out = s
		out.Author, out.Created, out.Updated, out.Hits, out.LastHit = old.Author, old.Created, now, old.Hits, old.LastHit
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: s.Workspace, Time: now, Actor: actor,
			Action: "suppression.update", Target: s.ID, Detail: describe(old) + " -> " + describe(out)})
	})
	return out, err
}

// DeleteSuppression deletes a suppression and audits it; see store.Noise.
func (db *DB) DeleteSuppression(ctx context.Context, workspace, id, actor string) error {
	if actor == "" {
		return fmt.Errorf("suppression %s: delete without an actor: %w", id, store.ErrInvalid)
	}
	return db.write(ctx, "delete suppression", func(tx *sql.Tx) error {
		old, err := scanSuppression(tx.QueryRowContext(ctx, `SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = ? AND id = ?`, workspace, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("suppression %s in workspace %s: %w", id, workspace, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("suppression %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE workspace = ? AND id = ?`, workspace, id); err != nil {
			return fmt.Errorf("delete suppression %s: %w", id, err)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: fromNanos(nanos(db.now())), Actor: actor,
			Action: "suppression.delete", Target: id, Detail: fmt.Sprintf("%s; %d hits", describe(old), old.Hits)})
	})
}

func entityColumns(e *alert.Entity) (string, string) {
	if e == nil {
		return "", ""
	}
	return e.Type, e.Value
}

// describe sums a suppression up for the audit log.
func describe(s suppress.Suppression) string {
	var parts []string
	if s.Rule != "" {
		parts = append(parts, "rule="+s.Rule)
	}
	if s.Entity != nil {
		parts = append(parts, "entity="+s.Entity.Type+":"+s.Entity.Value)
	}
	if s.Field != "" && s.Value != "" {
		parts = append(parts, s.Field+"="+s.Value)
	}
	if s.CIDR != "" {
		if s.Field != "" {
			parts = append(parts, s.Field+" in "+s.CIDR)
		} else {
			parts = append(parts, "cidr="+s.CIDR)
		}
	}
	if s.Expires != nil {
		parts = append(parts, "expires="+s.Expires.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " ") + "; reason: " + s.Reason
}

// suppressed adds a batch's suppressed signals to the suppressions' hits
// and the rules' counts.
func (c *committer) suppressed(b *store.Batch) error {
	for _, h := range b.Suppressed {
		if h.Count <= 0 {
			continue
		}
		if _, err := c.tx.ExecContext(c.ctx, `UPDATE suppressions SET hits = hits + ?, last_hit = max(coalesce(last_hit, 0), ?)
			WHERE workspace = ? AND id = ?`, h.Count, nanos(c.now), b.Workspace, h.Suppression); err != nil {
			return fmt.Errorf("commit: batch %s: count hits of suppression %s: %w", b.ID, h.Suppression, err)
		}
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO rule_noise (workspace, rule_id, suppressed, last_suppressed) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace, rule_id) DO UPDATE SET suppressed = suppressed + excluded.suppressed,
				last_suppressed = max(coalesce(last_suppressed, 0), excluded.last_suppressed)`,
			b.Workspace, h.Rule, h.Count, nanos(c.now)); err != nil {
			return fmt.Errorf("commit: batch %s: count suppressed signals of rule %s: %w", b.ID, h.Rule, err)
		}
	}
	return nil
}

// ClassifyAlert changes an alert's status with its reason; see store.Noise.
func (db *DB) ClassifyAlert(ctx context.Context, workspace, id string, status alert.Status, reason alert.Reason, actor string) (alert.Alert, error) {
	return db.setAlertStatus(ctx, workspace, id, status, reason, actor)
}

// RuleStats counts alerts, dismissals and suppressed signals per rule;
// see store.Noise. The counts come from an index of the alerts by rule
// and status; a rule's title from its newest alert, and false positives
// from the dismissed alerts alone (only they are read whole).
func (db *DB) RuleStats(ctx context.Context, workspace string) ([]store.RuleStats, error) {
	rows, err := list(ctx, db, "rule stats of "+workspace, func(r scanner) (store.RuleStats, error) {
		var s store.RuleStats
		var closed int64
		err := r.Scan(&s.Rule, &s.Title, &s.Alerts, &s.Open, &s.Dismissed, &s.FalsePositives, &closed, &s.Suppressed)
		if closed > 0 {
			s.FalsePositiveRate = float64(s.FalsePositives) / float64(closed)
		}
		return s, err
	}, `WITH a AS (
		SELECT rule_id, max(rowid) AS last, count(*) AS alerts,
			sum(status IN `+sqlOpenStatuses+`) AS open, sum(status = 'dismissed') AS dismissed,
			sum(status NOT IN `+sqlOpenStatuses+`) AS closed
		FROM alerts INDEXED BY alerts_rule WHERE workspace = ?1 GROUP BY rule_id
	), f AS (
		SELECT rule_id, count(*) AS fp FROM alerts
		WHERE workspace = ?1 AND status = 'dismissed' AND json_extract(doc, '$.reason') = 'false_positive' GROUP BY rule_id
	), ids AS (
		SELECT rule_id FROM a UNION SELECT rule_id FROM rule_noise WHERE workspace = ?1
	)
	SELECT ids.rule_id, coalesce((SELECT json_extract(doc, '$.rule.title') FROM alerts WHERE rowid = a.last), ''),
		coalesce(a.alerts, 0), coalesce(a.open, 0), coalesce(a.dismissed, 0),
		coalesce(f.fp, 0), coalesce(a.closed, 0), coalesce(n.suppressed, 0)
	FROM ids LEFT JOIN a ON a.rule_id = ids.rule_id
	LEFT JOIN f ON f.rule_id = ids.rule_id
	LEFT JOIN rule_noise n ON n.workspace = ?1 AND n.rule_id = ids.rule_id
	ORDER BY coalesce(a.alerts, 0) DESC, coalesce(n.suppressed, 0) DESC, ids.rule_id`, workspace)
	return rows, err
}

// sqlMigrateRuleStats indexes the alerts by rule and status, which the
// rules' counts read alone (a second for 100,000 alerts when each alert's
// row was read).
const sqlMigrateRuleStats = `
CREATE INDEX alerts_rule ON alerts (workspace, rule_id, status);
`
