package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/store"
)

// alert_sources (migration 2) names the sources whose batches brought an
// alert's signals, for the alert list's source filter (alertFilter); an
// alert may gather several. Commit notes them as signals join alerts
// (committer.signal).

// queueAlertSources queues the alert_sources rows the commit noted, in one
// statement.
func (c *committer) queueAlertSources() {
	if len(c.alertSources) == 0 {
		return
	}
	rows := make([][3]string, 0, len(c.alertSources))
	for k := range c.alertSources {
		rows = append(rows, k)
	}
	// Sorted, as every row a commit writes: a commit that waits for
	// another's row waits in one order.
	slices.SortFunc(rows, func(a, b [3]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2]))
	})
	var wss, srcs, ids []string
	for _, k := range rows {
		wss, srcs, ids = append(wss, k[0]), append(srcs, text(k[1])), append(ids, k[2])
	}
	c.writes.Queue(`INSERT INTO alert_sources (workspace, source, alert_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, wss, srcs, ids)
}

// countSourceAlerts counts the alerts of a source when the source is the
// only filter, from alert_sources alone (a row an alert and source); ok is
// false for other queries, which probe alert_sources an alert at a time.
func (db *DB) countSourceAlerts(ctx context.Context, workspace string, q store.AlertQuery) (n int, ok bool, err error) {
	if q.Source == "" || len(q.Status) > 0 || q.MinSeverity != nil || q.RuleID != "" || q.Entity != "" ||
		!q.Since.IsZero() || !q.Until.IsZero() || q.ThreatType != "" || q.Country != "" {
		return 0, false, nil
	}
	err = db.pool.QueryRow(ctx, `SELECT count(*) FROM alert_sources WHERE workspace = $1 AND source = $2`,
		workspace, text(q.Source)).Scan(&n)
	if err != nil {
		return 0, true, fmt.Errorf("count alerts of %s from source %s: %w", workspace, q.Source, err)
	}
	return n, true, nil
}
