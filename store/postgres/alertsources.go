package postgres

import (
	"cmp"
	"slices"
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
