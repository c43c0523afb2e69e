package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Threats = (*DB)(nil)

// paneColumns are an alert's columns for the threat-intelligence pane and
// the intent estimate (migration 8), written with every alert from its
// threat type and origin (paneValues).
const paneColumns = `threat_type, origin_ip, origin_country, origin_asn, origin_as_org, origin_lat, origin_lon`

const sqlMigrate8 = `
ALTER TABLE alerts ADD COLUMN threat_type TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_country TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_asn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN origin_as_org TEXT NOT NULL DEFAULT '';
-- NULL when the GeoIP database has no location (country databases).
ALTER TABLE alerts ADD COLUMN origin_lat REAL;
ALTER TABLE alerts ADD COLUMN origin_lon REAL;
-- The pane groups a workspace's time range in this index alone (it covers
-- every column the grouping reads).
CREATE INDEX alerts_pane ON alerts (workspace, last_seen, threat_type, origin_country, origin_asn, severity, count, origin_as_org);
-- The intent estimate reads the recent alerts of one source address.
CREATE INDEX alerts_origin_ip ON alerts (origin_ip, workspace, last_seen) WHERE origin_ip != '';
`

// sqlMigrateThreatPoints indexes the located alerts alone, in the pane's
// order: the map's points read them without visiting every alert of the
// range (a country database locates none, so the points query had read
// each alert's row to learn that: a second for 100,000 alerts).
const sqlMigrateThreatPoints = `
CREATE INDEX alerts_points ON alerts (workspace, last_seen, threat_type, origin_lat, origin_lon, origin_country, severity, count)
	WHERE origin_lat IS NOT NULL;
`

// paneValues are a's values of paneColumns, in order.
func paneValues(a *alert.Alert) [7]any {
	v := [7]any{alert.ThreatType(a), "", "", int64(0), "", nil, nil}
	if o := a.Origin; o != nil {
		v[1], v[2], v[3], v[4] = o.IP, o.Country, int64(o.ASN), o.ASOrg
		if o.Lat != 0 || o.Lon != 0 {
			v[5], v[6] = o.Lat, o.Lon
		}
	}
	return v
}

// migrate8 fills the pane's columns of the alerts stored so far from their
// documents, a chunk at a time.
func migrate8(ctx context.Context, tx *sql.Tx, _ time.Time) error {
	upd, err := tx.PrepareContext(ctx, `UPDATE alerts SET threat_type = ?, origin_ip = ?, origin_country = ?,
		origin_asn = ?, origin_as_org = ?, origin_lat = ?, origin_lon = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	type row struct{ id, doc string }
	last := ""
	for {
		chunk, err := queryRows(ctx, tx, `SELECT id, doc FROM alerts WHERE id > ? ORDER BY id LIMIT 1000`,
			[]any{last}, func(rs scanner) (row, error) {
				var r row
				err := rs.Scan(&r.id, &r.doc)
				return r, err
			})
		if err != nil || len(chunk) == 0 {
			return err
		}
		for _, r := range chunk {
			var d alertDoc
			if err := json.Unmarshal([]byte(r.doc), &d); err != nil {
				return fmt.Errorf("alert %s: corrupt document: %w", r.id, err)
			}
			a := alert.Alert{Type: d.Type, Rule: d.Rule, Tactics: d.Tactics, Techniques: d.Techniques, Origin: d.Origin}
			v := paneValues(&a)
			if _, err := upd.ExecContext(ctx, append(v[:], r.id)...); err != nil {
				return fmt.Errorf("alert %s: threat type and origin: %w", r.id, err)
			}
		}
		last = chunk[len(chunk)-1].id
	}
}

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
	type row struct {
		b int64
		c store.ThreatCount
	}
	rows, err := list(ctx, db, "threat series of "+workspace, func(rs scanner) (row, error) {
		var r row
		var sev int64
		err := rs.Scan(&r.b, &r.c.ThreatType, &sev, &r.c.Alerts, &r.c.Events)
		r.c.Severity = alert.Severity(sev)
		return r, err
	}, `SELECT (last_seen - ?1) / ?2 AS b, threat_type, severity, count(*), sum(count)
		FROM alerts INDEXED BY alerts_pane
		WHERE workspace = ?3 AND last_seen >= ?1 AND last_seen < ?4 AND threat_type != ''
		GROUP BY b, threat_type, severity ORDER BY b, threat_type, severity`,
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
	if out, ok, err := db.threatOriginsDays(ctx, workspace, from, to); ok || err != nil {
		return out, err
	}
	// max: an ASN has one organisation name in practice.
	return list(ctx, db, "threat origins of "+workspace, func(rs scanner) (store.ThreatOrigin, error) {
		var o store.ThreatOrigin
		var asn, worst int64
		err := rs.Scan(&o.Country, &asn, &o.ThreatType, &worst, &o.Alerts, &o.Events, &o.ASOrg)
		o.ASN, o.Worst = uint32(asn), alert.Severity(worst)
		return o, err
	}, `SELECT origin_country, origin_asn, threat_type, max(severity), count(*), sum(count), max(origin_as_org)
		FROM alerts INDEXED BY alerts_pane
		WHERE workspace = ? AND last_seen >= ? AND last_seen < ? AND threat_type != ''
		GROUP BY origin_country, origin_asn, threat_type
		ORDER BY origin_country, origin_asn, threat_type`, workspace, from, to)
}

// ThreatPoints counts the located alerts of the range by place and threat
// type; see store.Threats.
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
	// The grouping reads the index alone; the city, which only the
	// alert's document holds, is read for the points kept.
	type point struct {
		p     store.ThreatPoint
		rowid int64
	}
	rows, err := list(ctx, db, "threat points of "+workspace, func(rs scanner) (point, error) {
		var p point
		var worst int64
		err := rs.Scan(&p.p.Lat, &p.p.Lon, &p.p.Country, &p.p.ThreatType, &worst, &p.p.Alerts, &p.p.Events, &p.rowid)
		p.p.Worst = alert.Severity(worst)
		return p, err
	}, `SELECT origin_lat, origin_lon, max(origin_country), threat_type, max(severity), count(*), sum(count), max(rowid)
		FROM alerts INDEXED BY alerts_points
		WHERE workspace = ? AND last_seen >= ? AND last_seen < ? AND threat_type != '' AND origin_lat IS NOT NULL
		GROUP BY origin_lat, origin_lon, threat_type`, workspace, from, to)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].p.Alerts > rows[j].p.Alerts })
	if len(rows) > limit {
		rows = rows[:limit]
	}
	pts := make([]store.ThreatPoint, len(rows))
	ids := make([]any, len(rows))
	marks := make([]string, len(rows))
	for i, r := range rows {
		pts[i], ids[i], marks[i] = r.p, r.rowid, "?"
	}
	if len(rows) > 0 {
		cities := map[int64]string{}
		if _, err := list(ctx, db, "threat points' cities of "+workspace, func(rs scanner) (struct{}, error) {
			var id int64
			var city sql.NullString
			err := rs.Scan(&id, &city)
			cities[id] = city.String
			return struct{}{}, err
		}, `SELECT rowid, json_extract(doc, '$.origin.city') FROM alerts WHERE rowid IN (`+strings.Join(marks, ",")+`)`, ids...); err != nil {
			return nil, err
		}
		for i, r := range rows {
			pts[i].City = cities[r.rowid]
		}
	}
	return pts, nil
}
