package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/suppress"
)

var _ store.Noise = (*DB)(nil)

const suppressionColumns = `workspace, id, rule_id, entity_type, entity_value, field, value, cidr, reason, author, expires, created, updated, hits, last_hit`

func scanSuppression(row scanner) (suppress.Suppression, error) {
	var s suppress.Suppression
	var etype, evalue string
	var expires, lastHit *int64
	var created, updated int64
	if err := row.Scan(&s.Workspace, &s.ID, &s.Rule, &etype, &evalue, &s.Field, &s.Value, &s.CIDR,
		&s.Reason, &s.Author, &expires, &created, &updated, &s.Hits, &lastHit); err != nil {
		return s, err
	}
	if etype != "" {
		s.Entity = &alert.Entity{Type: etype, Value: evalue}
	}
	s.Expires, s.LastHit = fromNullNanos(expires), fromNullNanos(lastHit)
	s.Created, s.Updated = fromNanos(created), fromNanos(updated)
	return s, nil
}

// Suppressions lists the workspace's suppressions; see store.Noise.
func (db *DB) Suppressions(ctx context.Context, workspace string) ([]suppress.Suppression, error) {
	return collect(ctx, db.pool, "suppressions of "+workspace, scanSuppression,
		`SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = $1 ORDER BY created, id COLLATE "C"`, workspace)
}

// Suppression returns one suppression; ErrNotFound when the workspace has
// none of that id.
func (db *DB) Suppression(ctx context.Context, workspace, id string) (suppress.Suppression, error) {
	return suppressionIn(ctx, db.pool, workspace, id, "")
}

// suppressionIn reads one suppression, with lock (" FOR UPDATE") when
// given.
func suppressionIn(ctx context.Context, q querier, workspace, id, lock string) (suppress.Suppression, error) {
	s, err := scanSuppression(q.QueryRow(ctx, `SELECT `+suppressionColumns+` FROM suppressions WHERE workspace = $1 AND id = $2`+lock, workspace, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
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

// suppressionValues are s's definition as stored: rule, entity type and
// value, field, value, cidr, reason (text() keeps free text storable).
func suppressionValues(s suppress.Suppression) []any {
	et, ev := "", ""
	if s.Entity != nil {
		et, ev = s.Entity.Type, s.Entity.Value
	}
	return []any{text(s.Rule), text(et), text(ev), text(s.Field), text(s.Value), text(s.CIDR), text(s.Reason)}
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
	err := db.tx(ctx, "create suppression", func(tx pgx.Tx) error {
		args := append([]any{s.Workspace, text(s.ID)}, suppressionValues(s)...)
		args = append(args, text(s.Author), nullNanos(s.Expires), nanos(s.Created), nanos(s.Updated))
		tag, err := tx.Exec(ctx, `INSERT INTO suppressions (`+suppressionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, NULL) ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return fmt.Errorf("create suppression %s: %w", s.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("suppression %s: %w", s.ID, store.ErrConflict)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: s.Workspace, Time: now, Actor: actor,
			Action: "suppression.create", Target: s.ID, Detail: describeSuppression(s)})
	})
	return s, err
}

// UpdateSuppression replaces a suppression's definition; see store.Noise.
func (db *DB) UpdateSuppression(ctx context.Context, s suppress.Suppression, actor string) (suppress.Suppression, error) {
	if err := checkSuppression(&s, actor); err != nil {
		return s, err
	}
	now := fromNanos(nanos(db.now()))
	var out suppress.Suppression
	err := db.tx(ctx, "update suppression", func(tx pgx.Tx) error {
		old, err := suppressionIn(ctx, tx, s.Workspace, s.ID, " FOR UPDATE")
		if err != nil {
			return err
		}
		args := append(suppressionValues(s), nullNanos(s.Expires), nanos(now), s.Workspace, text(s.ID))
		if _, err := tx.Exec(ctx, `UPDATE suppressions SET rule_id = $1, entity_type = $2, entity_value = $3, field = $4,
			value = $5, cidr = $6, reason = $7, expires = $8, updated = $9 WHERE workspace = $10 AND id = $11`, args...); err != nil {
			return fmt.Errorf("update suppression %s: %w", s.ID, err)
		}
		out = s
		out.Author, out.Created, out.Updated, out.Hits, out.LastHit = old.Author, old.Created, now, old.Hits, old.LastHit
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: s.Workspace, Time: now, Actor: actor,
			Action: "suppression.update", Target: s.ID, Detail: describeSuppression(old) + " -> " + describeSuppression(out)})
	})
	return out, err
}

// DeleteSuppression deletes a suppression and audits it; see store.Noise.
func (db *DB) DeleteSuppression(ctx context.Context, workspace, id, actor string) error {
	if actor == "" {
		return fmt.Errorf("suppression %s: delete without an actor: %w", id, store.ErrInvalid)
	}
	return db.tx(ctx, "delete suppression", func(tx pgx.Tx) error {
		old, err := suppressionIn(ctx, tx, workspace, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM suppressions WHERE workspace = $1 AND id = $2`, workspace, text(id)); err != nil {
			return fmt.Errorf("delete suppression %s: %w", id, err)
		}
		return insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: fromNanos(nanos(db.now())), Actor: actor,
			Action: "suppression.delete", Target: id, Detail: fmt.Sprintf("%s; %d hits", describeSuppression(old), old.Hits)})
	})
}

// describeSuppression sums a suppression up for the audit log, as
// store/sqlite words it.
func describeSuppression(s suppress.Suppression) string {
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

// suppress notes a new batch's suppressed signals, added to the
// suppressions' hits and the rules' counts by queueSuppressed.
func (c *committer) suppress(b *store.Batch) {
	for _, h := range b.Suppressed {
		if h.Count <= 0 {
			continue
		}
		if c.hits == nil {
			c.hits, c.suppressed = map[[2]string]int64{}, map[[2]string]int64{}
		}
		c.hits[[2]string{b.Workspace, text(h.Suppression)}] += h.Count
		c.suppressed[[2]string{b.Workspace, text(h.Rule)}] += h.Count
	}
}

// queueSuppressed queues the counters' updates, each row once and in
// order, so that two commits counting the same suppressions do not wait
// on each other in a cycle.
func (c *committer) queueSuppressed() {
	now := nanos(c.now)
	for _, k := range sortedKeys(c.hits) {
		c.writes.Queue(`UPDATE suppressions SET hits = hits + $1, last_hit = greatest(coalesce(last_hit, 0), $2)
			WHERE workspace = $3 AND id = $4`, c.hits[k], now, k[0], k[1])
	}
	for _, k := range sortedKeys(c.suppressed) {
		c.writes.Queue(`INSERT INTO rule_noise (workspace, rule_id, suppressed, last_suppressed) VALUES ($1, $2, $3, $4)
			ON CONFLICT (workspace, rule_id) DO UPDATE SET suppressed = rule_noise.suppressed + excluded.suppressed,
				last_suppressed = greatest(coalesce(rule_noise.last_suppressed, 0), excluded.last_suppressed)`,
			k[0], k[1], c.suppressed[k], now)
	}
}

func sortedKeys[V any](m map[[2]string]V) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	return keys
}

// ClassifyAlert changes an alert's status with its reason; see store.Noise.
func (db *DB) ClassifyAlert(ctx context.Context, workspace, id string, status alert.Status, reason alert.Reason, actor string) (alert.Alert, error) {
	if !status.Valid() {
		return alert.Alert{}, fmt.Errorf("alert %s: status %q: %w (want new, active, resolved or dismissed)", id, status, store.ErrInvalid)
	}
	if err := alert.CheckReason(status, reason); err != nil {
		return alert.Alert{}, fmt.Errorf("alert %s: %w: %w", id, store.ErrInvalid, err)
	}
	if actor == "" {
		return alert.Alert{}, fmt.Errorf("alert %s: status change without an actor: %w", id, store.ErrInvalid)
	}
	out, err := db.SetAlertsStatus(ctx, workspace, []string{id}, status, reason, actor)
	if err != nil {
		return alert.Alert{}, err
	}
	return out[0], nil
}

// RuleStats counts alerts, dismissals and suppressed signals per rule;
// see store.Noise. The counts come from the index of the alerts by rule
// (alerts_rule) alone; a rule's title from its newest alert, the one
// document read a rule.
func (db *DB) RuleStats(ctx context.Context, workspace string) ([]store.RuleStats, error) {
	return collect(ctx, db.pool, "rule stats of "+workspace, func(r scanner) (store.RuleStats, error) {
		var s store.RuleStats
		var closed int64
		err := r.Scan(&s.Rule, &s.Title, &s.Alerts, &s.Open, &s.Dismissed, &s.FalsePositives, &closed, &s.Suppressed)
		if closed > 0 {
			s.FalsePositiveRate = float64(s.FalsePositives) / float64(closed)
		}
		return s, err
	}, ruleStatsSQL, workspace)
}

// ruleStatsSQL is RuleStats's query ($1: the workspace).
var ruleStatsSQL = `WITH a AS (
		SELECT rule_id, count(*) AS alerts, max(created) AS newest,
			count(*) FILTER (WHERE status IN ` + sqlOpenStatuses + `) AS open,
			count(*) FILTER (WHERE status = 'dismissed') AS dismissed,
			count(*) FILTER (WHERE status = 'dismissed' AND reason = 'false_positive') AS fp,
			count(*) FILTER (WHERE status NOT IN ` + sqlOpenStatuses + `) AS closed
		FROM alerts WHERE workspace = $1 GROUP BY rule_id
	), ids AS (
		SELECT rule_id FROM a UNION SELECT rule_id FROM rule_noise WHERE workspace = $1
	)
	SELECT ids.rule_id,
		coalesce((SELECT convert_from(doc, 'UTF8')::json #>> '{rule,title}' FROM alerts l
			WHERE l.workspace = $1 AND l.rule_id = ids.rule_id AND l.created = a.newest ORDER BY id DESC LIMIT 1), ''),
		coalesce(a.alerts, 0), coalesce(a.open, 0), coalesce(a.dismissed, 0),
		coalesce(a.fp, 0), coalesce(a.closed, 0), coalesce(n.suppressed, 0)
	FROM ids LEFT JOIN a ON a.rule_id = ids.rule_id
	LEFT JOIN rule_noise n ON n.workspace = $1 AND n.rule_id = ids.rule_id
	ORDER BY coalesce(a.alerts, 0) DESC, coalesce(n.suppressed, 0) DESC, ids.rule_id COLLATE "C"`
