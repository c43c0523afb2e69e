package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vigil-sec/vigil/store"
)

// sqlMigrateAlertFilters lets the alert list filter by source, threat type
// and origin country in an index. alert_sources names the sources whose
// batches brought an alert's signals (an alert may gather several), as
// alert_entities names its entities. The two indexes end as the priority
// order does, so that a filtered page in triage order reads no more rows
// than it shows. Alerts stored before this migration have no sources
// recorded: finding which source sent their evidence would mean decoding
// every block they name.
const sqlMigrateAlertFilters = `
CREATE TABLE alert_sources (
	workspace TEXT NOT NULL,
	source    TEXT NOT NULL,
	alert_id  TEXT NOT NULL,
	PRIMARY KEY (workspace, source, alert_id)
) WITHOUT ROWID;
CREATE INDEX alerts_threat_type ON alerts (workspace, threat_type, priority, last_seen, id);
CREATE INDEX alerts_country ON alerts (workspace, origin_country, priority, last_seen, id);
`

// sqlInsertAlertSources writes alert_sources rows given as a JSON array of
// [workspace, source, alert id] triples: one statement a commit.
const sqlInsertAlertSources = `INSERT OR IGNORE INTO alert_sources (workspace, source, alert_id)
	SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)`

// alertSource is one alert_sources row a commit adds.
type alertSource struct{ ws, source, alert string }

// noteSource records that a signal of source joined alert id; the rows are
// written by writeAlertSources.
func (c *committer) noteSource(ws, source, id string) {
	k := alertSource{ws: ws, source: source, alert: id}
	if c.alertSources == nil {
		c.alertSources = map[alertSource]bool{}
	}
	c.alertSources[k] = true
}

// writeAlertSources writes the alert_sources rows the commit noted.
func (c *committer) writeAlertSources() error {
	if len(c.alertSources) == 0 {
		return nil
	}
	rows := make([][3]string, 0, len(c.alertSources))
	for k := range c.alertSources {
		rows = append(rows, [3]string{k.ws, k.source, k.alert})
	}
	list, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("commit: alert sources: %w", err)
	}
	if _, err := c.tx.ExecContext(c.ctx, sqlInsertAlertSources, string(list)); err != nil {
		return fmt.Errorf("commit: write alert sources: %w", err)
	}
	return nil
}

// countSourceAlerts counts the alerts of a source when the source is the
// only filter, from alert_sources alone (a row an alert and source); ok is
// false for other queries. Probing alert_sources for every alert of the
// workspace costs far more: some 650 ms for 100,000 alerts against a few.
func (db *DB) countSourceAlerts(ctx context.Context, workspace string, q store.AlertQuery) (n int, ok bool, err error) {
	if q.Source == "" || len(q.Status) > 0 || q.MinSeverity != nil || q.RuleID != "" || q.Entity != "" ||
		!q.Since.IsZero() || !q.Until.IsZero() || q.ThreatType != "" || q.Country != "" {
		return 0, false, nil
	}
	err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM alert_sources WHERE workspace = ? AND source = ?`,
		workspace, q.Source).Scan(&n)
	if err != nil {
		return 0, true, fmt.Errorf("count alerts of %s from source %s: %w", workspace, q.Source, err)
	}
	return n, true, nil
}

// sqlMigrateAlertStatusIndex lets the alert list filter by status in an
// index: a page of one status in priority order (without it, a status few
// alerts have walks every alert's row, documents and all: a second for
// 100,000 alerts), and a count by status and severity (the overview's
// "open alerts of severity high or more", as long again).
const sqlMigrateAlertStatusIndex = `
CREATE INDEX alerts_status_priority ON alerts (workspace, status, priority, last_seen, id);
CREATE INDEX alerts_status_severity ON alerts (workspace, status, severity);
`
