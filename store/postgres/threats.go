package postgres

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Threats = (*DB)(nil)

// threatRange checks q and gives its bounds as nanoseconds.
func threatRange(workspace string, q store.ThreatQuery) (from, to int64, err error) {
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		return 0, 0, fmt.Errorf("threats of %s: range %v to %v: %w (from must be before to)", workspace, q.From, q.To, store.ErrInvalid)
	}
	return nanos(q.From), nanos(q.To), nil
}

// ThreatSeries counts the alerts of the range by bucket, threat type and
// severity; see store.Threats.
func (db *DB) ThreatSeries(ctx context.Context, workspace string, q store.ThreatQuery) ([]store.ThreatBucket, error) {
	from, to, err := threatRange(workspace, q)
	if err != nil {
		return nil, err
	}
	if q.Bucket <= 0 || q.To.Sub(q.From)/q.Bucket >= store.MaxThreatBuckets {
		return nil, fmt.Errorf("threats of %s: bucket %v over %v: %w (at most %d buckets)",
			workspace, q.Bucket, q.To.Sub(q.From), store.ErrInvalid, store.MaxThreatBuckets)
	}
	if out, ok, err := db.threatSeriesDays(ctx, workspace, q, from, to); ok || err != nil {
		return out, err
	}
	rows, err := collect(ctx, db.pool, "threat series of "+workspace, func(rs scanner) (threatSeriesRow, error) {
		var r threatSeriesRow
		var sev int64
		err := rs.Scan(&r.b, &r.c.ThreatType, &sev, &r.c.Alerts, &r.c.Events)
		r.c.Severity = alert.Severity(sev)
		return r, err
	}, `SELECT (last_seen - $1) / $2 AS b, threat_type, severity, count(*), sum(count)::bigint
		FROM alerts
		WHERE workspace = $3 AND last_seen >= $1 AND last_seen < $4 AND threat_type <> ''
		GROUP BY b, threat_type, severity ORDER BY b, threat_type COLLATE "C", severity`,
		from, int64(q.Bucket), workspace, to)
	if err != nil {
		return nil, err
	}
	return threatBuckets(q, rows), nil
}

// ThreatOrigins counts the alerts of the range by origin country, network
// and threat type; see store.Threats.
func (db *DB) ThreatOrigins(ctx context.Context, workspace string, q store.ThreatQuery) ([]store.ThreatOrigin, error) {
	from, to, err := threatRange(workspace, q)
	if err != nil {
		return nil, err
	}
	if out, ok, err := db.threatOriginsDays(ctx, workspace, from, to); ok || err != nil {
		return out, err
	}
	// max: an ASN has one organisation name in practice.
	return collect(ctx, db.pool, "threat origins of "+workspace, scanThreatOrigin, `SELECT origin_country, origin_asn, threat_type, max(severity), count(*), sum(count)::bigint, max(origin_as_org)
		FROM alerts
		WHERE workspace = $1 AND last_seen >= $2 AND last_seen < $3 AND threat_type <> ''
		GROUP BY origin_country, origin_asn, threat_type
		ORDER BY origin_country COLLATE "C", origin_asn, threat_type COLLATE "C"`, workspace, from, to)
}

// ThreatPoints counts the located alerts of the range by place and threat
// type, those with most alerts first; see store.Threats.
func (db *DB) ThreatPoints(ctx context.Context, workspace string, q store.ThreatQuery, limit int) ([]store.ThreatPoint, error) {
	from, to, err := threatRange(workspace, q)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	if out, ok, err := db.threatPointsDays(ctx, workspace, from, to, limit); ok || err != nil {
		return out, err
	}
	return collect(ctx, db.pool, "threat points of "+workspace, scanThreatPoint, `SELECT origin_lat, origin_lon, max(origin_country), max(origin_city), threat_type, max(severity), count(*), sum(count)::bigint
		FROM alerts
		WHERE workspace = $1 AND last_seen >= $2 AND last_seen < $3 AND threat_type <> '' AND origin_lat IS NOT NULL
		GROUP BY origin_lat, origin_lon, threat_type
		ORDER BY count(*) DESC, origin_lat, origin_lon, threat_type COLLATE "C" LIMIT $4`, workspace, from, to, limit)
}
