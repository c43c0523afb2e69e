package sqlite

import (
	"context"
	"fmt"
)

// ChangeHeads returns the Seq of the newest change in the alert stream and
// in the incident stream (0 for an empty one): where a follower that wants
// only what happens from now on starts, without reading the streams
// through. A purged stream's head may be lower than a Seq once given; a
// follower after it still sees every later change, whose Seq is higher.
func (db *DB) ChangeHeads(ctx context.Context) (alerts, incidents int64, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(max(seq), 0) FROM alert_changes),
		(SELECT COALESCE(max(seq), 0) FROM incident_changes)`).Scan(&alerts, &incidents)
	if err != nil {
		return 0, 0, fmt.Errorf("heads of the alert and incident streams: %w", err)
	}
	return alerts, incidents, nil
}
