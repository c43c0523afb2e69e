package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// Peers are read without their evidence, which the estimate does not need.
var sqlIntentPeers = `SELECT ` + strings.Replace(alertColumns, "evidence, evidence_n", "NULL, 0", 1) + `
	FROM alerts INDEXED BY alerts_origin_ip
	WHERE origin_ip = ? AND origin_ip != '' AND workspace = ? AND last_seen >= ?
	ORDER BY last_seen DESC LIMIT ?`

const sqlIntentWorkspaces = `SELECT DISTINCT workspace FROM (SELECT workspace FROM alerts INDEXED BY alerts_origin_ip
	WHERE origin_ip = ? AND origin_ip != '' AND last_seen >= ? LIMIT ?)`

// estimateIntents sets the intent of every alert the commit touched
// (store.EstimateIntents), reading through the commit's transaction.
func (c *committer) estimateIntents() error {
	if err := store.EstimateIntents(c.ctx, c.order, intentSource{c}); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// intentSource reads the intent estimate's peers inside a commit.
type intentSource struct{ c *committer }

func (s intentSource) RecentAlerts(ctx context.Context, ws, ip string, since time.Time, limit int) ([]alert.Alert, error) {
	return queryRows(ctx, s.c.tx, sqlIntentPeers, []any{ip, ws, nanos(since), limit}, scanAlert)
}

func (s intentSource) AlertWorkspaces(ctx context.Context, ip string, since time.Time, limit int) ([]string, error) {
	return queryRows(ctx, s.c.tx, sqlIntentWorkspaces, []any{ip, nanos(since), limit}, func(rs scanner) (string, error) {
		var n string
		return n, rs.Scan(&n)
	})
}
