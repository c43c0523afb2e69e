package postgres

import (
	"context"
	"fmt"
	"time"

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
	type row struct {
		b int64
		c store.ThreatCount
	}
	rows, err := collect(ctx, db.pool, "threat series of "+workspace, func(rs scanner) (row, error) {
		var r row
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
	var out []store.ThreatBucket
	for _, r := range rows {
		start := q.From.Add(time.Duration(r.b) * q.Bucket).UTC()
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, store.ThreatBucket{Start: start})
		}
		b := &out[len(out)-1]
		b.Counts = append(b.Counts, r.c)
	}
	return out, nil
}

// ThreatOrigins counts the alerts of the range by origin country, network
// and threat type; see store.Threats.
func (db *DB) ThreatOrigins(ctx context.Context, workspace string, q store.ThreatQuery) ([]store.ThreatOrigin, error) {
	from, to, err := threatRange(workspace, q)
	if err != nil {
		return nil, err
	}
	// max: an ASN has one organisation name in practice.
	return collect(ctx, db.pool, "threat origins of "+workspace, func(rs scanner) (store.ThreatOrigin, error) {
		var o store.ThreatOrigin
		var asn, worst int64
		err := rs.Scan(&o.Country, &asn, &o.ThreatType, &worst, &o.Alerts, &o.Events, &o.ASOrg)
		o.ASN, o.Worst = uint32(asn), alert.Severity(worst)
		return o, err
	}, `SELECT origin_country, origin_asn, threat_type, max(severity), count(*), sum(count)::bigint, max(origin_as_org)
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
	return collect(ctx, db.pool, "threat points of "+workspace, func(rs scanner) (store.ThreatPoint, error) {
		var p store.ThreatPoint
		var worst int64
		err := rs.Scan(&p.Lat, &p.Lon, &p.Country, &p.City, &p.ThreatType, &worst, &p.Alerts, &p.Events)
		p.Worst = alert.Severity(worst)
		return p, err
	}, `SELECT origin_lat, origin_lon, max(origin_country), max(origin_city), threat_type, max(severity), count(*), sum(count)::bigint
		FROM alerts
		WHERE workspace = $1 AND last_seen >= $2 AND last_seen < $3 AND threat_type <> '' AND origin_lat IS NOT NULL
		GROUP BY origin_lat, origin_lon, threat_type
		ORDER BY count(*) DESC, origin_lat, origin_lon, threat_type COLLATE "C" LIMIT $4`, workspace, from, to, limit)
}
