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

// The threat-intelligence pane's counts by UTC day (threat_days) and hour
// (threat_hours): the alerts of each (by last_seen) by threat type,
// severity and origin, kept by Commit as it writes alerts. A range's whole
// days are read from threat_days, the whole hours around them from
// threat_hours, and only its partial first and last hours from the
// alerts' index:
// over 30 days of 100,000 alerts the pane grouped every alert of the
// range three or four times a page (400-600 ms); a day holds as many rows
// as it has distinct origins and types, an hour no more than its alerts.
//
// An alert counts in the day and hour of its last_seen with its severity, origin
// and count as stored; when a commit changes them, its old row is
// decremented and its new one incremented (zero rows are dropped). The
// city is the alert's origin's; a map point reads the city of its place.
const sqlMigrateThreatDays = `
CREATE TABLE threat_days (
	workspace   TEXT NOT NULL,
	slot        INTEGER NOT NULL,
	threat_type TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	country     TEXT NOT NULL,
	asn         INTEGER NOT NULL,
	as_org      TEXT NOT NULL,
	located     INTEGER NOT NULL,
	lat         REAL NOT NULL,
	lon         REAL NOT NULL,
	city        TEXT NOT NULL,
	alerts      INTEGER NOT NULL,
	events      INTEGER NOT NULL,
	PRIMARY KEY (workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city)
) WITHOUT ROWID;
CREATE TABLE threat_hours (
	workspace   TEXT NOT NULL,
	slot        INTEGER NOT NULL,
	threat_type TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	country     TEXT NOT NULL,
	asn         INTEGER NOT NULL,
	as_org      TEXT NOT NULL,
	located     INTEGER NOT NULL,
	lat         REAL NOT NULL,
	lon         REAL NOT NULL,
	city        TEXT NOT NULL,
	alerts      INTEGER NOT NULL,
	events      INTEGER NOT NULL,
	PRIMARY KEY (workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city)
) WITHOUT ROWID;
INSERT INTO threat_days
	SELECT workspace, last_seen / 86400000000000, threat_type, severity, origin_country, origin_asn, origin_as_org,
		origin_lat IS NOT NULL, coalesce(origin_lat, 0), coalesce(origin_lon, 0),
		coalesce(json_extract(doc, '$.origin.city'), ''), count(*), sum(count)
	FROM alerts WHERE threat_type != '' AND last_seen >= 0
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
INSERT INTO threat_hours
	SELECT workspace, last_seen / 3600000000000, threat_type, severity, origin_country, origin_asn, origin_as_org,
		origin_lat IS NOT NULL, coalesce(origin_lat, 0), coalesce(origin_lon, 0),
		coalesce(json_extract(doc, '$.origin.city'), ''), count(*), sum(count)
	FROM alerts WHERE threat_type != '' AND last_seen >= 0
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
`

// paneTable is one of the pane's count tables (store.PaneTables).
type paneTable = store.PaneTable

var paneTables = store.PaneTables

// paneKey is an alert's threat_days row.
type paneKey struct {
	ws, threatType, country, asOrg, city string
	slot, severity, asn                  int64
	located                              bool
	lat, lon                             float64
}

// paneContribution is what an alert adds to the count tables: its row
// (slot holding its last_seen, which each table divides by its unit) and
// events; ok is false for an alert the pane does not count.
func paneContribution(a *alert.Alert) (k paneKey, events int64, ok bool) {
	v := paneValues(a)
	tt := v[0].(string)
	ls := nanos(a.LastSeen)
	if tt == "" || ls < 0 {
		return k, 0, false
	}
	k = paneKey{ws: a.Workspace, threatType: tt, slot: ls, severity: int64(a.Severity),
		country: v[2].(string), asn: v[3].(int64), asOrg: v[4].(string)}
	if v[5] != nil {
		k.located, k.lat, k.lon = true, v[5].(float64), v[6].(float64)
	}
	if a.Origin != nil {
		k.city = a.Origin.City
	}
	return k, int64(a.Count), true
}

// notePaneBefore records what a stored alert counted in threat_days before
// this commit changes it.
func (c *committer) notePaneBefore(a *alert.Alert) {
	if a == nil {
		return
	}
	if _, ok := c.paneBefore[a.ID]; ok {
		return
	}
	if c.paneBefore == nil {
		c.paneBefore = map[string]paneBefore{}
	}
	k, events, ok := paneContribution(a)
	c.paneBefore[a.ID] = paneBefore{k: k, events: events, ok: ok}
}

type paneBefore struct {
	k      paneKey
	events int64
	ok     bool
}

// upsertPaneRows and upsertPaneRow add to a count table's rows, given as
// a JSON array of rows or one by one.
func upsertPaneRows(t paneTable) string {
	return `INSERT INTO ` + t.Name + `
	(workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city, alerts, events)
	SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'),
		json_extract(value, '$[4]'), json_extract(value, '$[5]'), json_extract(value, '$[6]'), json_extract(value, '$[7]'),
		json_extract(value, '$[8]'), json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'),
		json_extract(value, '$[12]')
	FROM json_each(?) WHERE true
	ON CONFLICT DO UPDATE SET alerts = alerts + excluded.alerts, events = events + excluded.events`
}

func upsertPaneRow(t paneTable) string {
	return `INSERT INTO ` + t.Name + `
	(workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city, alerts, events)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT DO UPDATE SET alerts = alerts + excluded.alerts, events = events + excluded.events`
}

// writeThreatDays moves the touched alerts' counts in the count tables
// from their rows before this commit to their rows now.
func (c *committer) writeThreatDays() error {
	for _, t := range paneTables {
		if err := c.writePaneTable(t); err != nil {
			return fmt.Errorf("commit: threat counts: %w", err)
		}
	}
	return nil
}

func (c *committer) writePaneTable(t paneTable) error {
	delta := map[paneKey]*[2]int64{}
	add := func(k paneKey, alerts, events int64) {
		k.slot /= t.Unit
		d := delta[k]
		if d == nil {
			d = &[2]int64{}
			delta[k] = d
		}
		d[0] += alerts
		d[1] += events
	}
	for _, a := range c.order {
		if b, ok := c.paneBefore[a.ID]; ok && b.ok {
			add(b.k, -1, -b.events)
		}
		if k, events, ok := paneContribution(a); ok {
			add(k, 1, events)
		}
	}
	var rows [][13]any
	slots := map[[2]any]bool{}
	for k, d := range delta {
		if d[0] == 0 && d[1] == 0 {
			continue
		}
		located := 0
		if k.located {
			located = 1
		}
		r := [13]any{k.ws, k.slot, k.threatType, k.severity, k.country, k.asn, k.asOrg, located, k.lat, k.lon, k.city, d[0], d[1]}
		if d[0] < 0 {
			slots[[2]any{k.ws, k.slot}] = true
		}
		if jsonSafe(k.ws, k.threatType, k.country, k.asOrg, k.city) {
			rows = append(rows, r)
			continue
		}
		if _, err := c.tx.ExecContext(c.ctx, upsertPaneRow(t), r[:]...); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		list, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if _, err := c.tx.ExecContext(c.ctx, upsertPaneRows(t), string(list)); err != nil {
			return err
		}
	}
	for d := range slots {
		if _, err := c.tx.ExecContext(c.ctx, `DELETE FROM `+t.Name+` WHERE workspace = ? AND slot = ? AND alerts <= 0`, d[0], d[1]); err != nil {
			return err
		}
	}
	return nil
}

// paneParts splits [from, to) as store.PaneParts does, unless the
// alerts are to answer every range (paneFromAlerts).
func (db *DB) paneParts(from, to int64) ([]store.PanePart, bool) {
	if db.paneFromAlerts {
		return nil, false
	}
	return store.PaneParts(from, to)
}

// threatSeriesDays is ThreatSeries from the count tables where every
// bucket starts on a slot's start (from and the bucket whole hours or
// days); ok is false otherwise.
func (db *DB) threatSeriesDays(ctx context.Context, workspace string, q store.ThreatQuery, from, to int64) ([]store.ThreatBucket, bool, error) {
	bucket := int64(q.Bucket)
	if db.paneFromAlerts {
		return nil, false, nil
	}
	parts, ok := store.PaneSeriesParts(from, to, bucket)
	if !ok {
		return nil, false, nil
	}
	type key struct {
		b   int64
		tt  string
		sev int64
	}
	sum := map[key]*store.ThreatCount{}
	scan := func(rs scanner) (struct{}, error) {
		var k key
		var alerts, events int64
		if err := rs.Scan(&k.b, &k.tt, &k.sev, &alerts, &events); err != nil {
			return struct{}{}, err
		}
		c := sum[k]
		if c == nil {
			c = &store.ThreatCount{ThreatType: k.tt, Severity: alert.Severity(k.sev)}
			sum[k] = c
		}
		c.Alerts += alerts
		c.Events += events
		return struct{}{}, nil
	}
	for _, p := range parts {
		var err error
		if p.Table != nil {
			_, err = list(ctx, db, "threat series of "+workspace, scan,
				`SELECT (slot * ?1 - ?2) / ?3 AS b, threat_type, severity, sum(alerts), sum(events)
				FROM `+p.Table.Name+` WHERE workspace = ?4 AND slot >= ?5 AND slot < ?6 AND alerts > 0
				GROUP BY b, threat_type, severity`, p.Table.Unit, from, bucket, workspace, p.From, p.To)
		} else {
			_, err = list(ctx, db, "threat series of "+workspace, scan,
				`SELECT (last_seen - ?1) / ?2 AS b, threat_type, severity, count(*), sum(count)
				FROM alerts INDEXED BY alerts_pane
				WHERE workspace = ?3 AND last_seen >= ?4 AND last_seen < ?5 AND threat_type != ''
				GROUP BY b, threat_type, severity`, from, bucket, workspace, p.From, p.To)
		}
		if err != nil {
			return nil, true, err
		}
	}
	keys := make([]key, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.b != b.b {
			return a.b < b.b
		}
		if a.tt != b.tt {
			return a.tt < b.tt
		}
		return a.sev < b.sev
	})
	var out []store.ThreatBucket
	for _, k := range keys {
		start := q.From.Add(time.Duration(k.b) * q.Bucket).UTC()
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, store.ThreatBucket{Start: start})
		}
		b := &out[len(out)-1]
		b.Counts = append(b.Counts, *sum[k])
	}
	return out, true, nil
}

// threatOriginsDays is ThreatOrigins from the count tables and the
// partial hours' alerts; ok is false when the range holds no whole hour.
func (db *DB) threatOriginsDays(ctx context.Context, workspace string, from, to int64) ([]store.ThreatOrigin, bool, error) {
	parts, ok := db.paneParts(from, to)
	if !ok {
		return nil, false, nil
	}
	type key struct {
		country, tt string
		asn         int64
	}
	sum := map[key]*store.ThreatOrigin{}
	scan := func(rs scanner) (struct{}, error) {
		var o store.ThreatOrigin
		var k key
		var worst int64
		if err := rs.Scan(&k.country, &k.asn, &k.tt, &worst, &o.Alerts, &o.Events, &o.ASOrg); err != nil {
			return struct{}{}, err
		}
		s := sum[k]
		if s == nil {
			s = &store.ThreatOrigin{Country: k.country, ASN: uint32(k.asn), ThreatType: k.tt, Worst: alert.Severity(worst), ASOrg: o.ASOrg}
			sum[k] = s
		} else {
			s.Worst = max(s.Worst, alert.Severity(worst))
			s.ASOrg = max(s.ASOrg, o.ASOrg)
		}
		s.Alerts += o.Alerts
		s.Events += o.Events
		return struct{}{}, nil
	}
	for _, p := range parts {
		var err error
		if p.Table != nil {
			_, err = list(ctx, db, "threat origins of "+workspace, scan,
				`SELECT country, asn, threat_type, max(severity), sum(alerts), sum(events), max(as_org)
				FROM `+p.Table.Name+` WHERE workspace = ? AND slot >= ? AND slot < ? AND alerts > 0
				GROUP BY country, asn, threat_type`, workspace, p.From, p.To)
		} else {
			_, err = list(ctx, db, "threat origins of "+workspace, scan,
				`SELECT origin_country, origin_asn, threat_type, max(severity), count(*), sum(count), max(origin_as_org)
				FROM alerts INDEXED BY alerts_pane
				WHERE workspace = ? AND last_seen >= ? AND last_seen < ? AND threat_type != ''
				GROUP BY origin_country, origin_asn, threat_type`, workspace, p.From, p.To)
		}
		if err != nil {
			return nil, true, err
		}
	}
	out := make([]store.ThreatOrigin, 0, len(sum))
	for _, o := range sum {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Country != b.Country {
			return a.Country < b.Country
		}
		if a.ASN != b.ASN {
			return a.ASN < b.ASN
		}
		return a.ThreatType < b.ThreatType
	})
	return out, true, nil
}

// threatPointsDays is ThreatPoints from the count tables and the partial
// hours' alerts; ok is false when the range holds no whole hour.
func (db *DB) threatPointsDays(ctx context.Context, workspace string, from, to int64, limit int) ([]store.ThreatPoint, bool, error) {
	parts, ok := db.paneParts(from, to)
	if !ok {
		return nil, false, nil
	}
	type key struct {
		lat, lon float64
		tt       string
	}
	type point struct {
		p     store.ThreatPoint
		rowid int64 // the newest alert of the partial hours there, for its city
	}
	sum := map[key]*point{}
	merge := func(p store.ThreatPoint, rowid int64) {
		k := key{p.Lat, p.Lon, p.ThreatType}
		s := sum[k]
		if s == nil {
			sum[k] = &point{p: p, rowid: rowid}
			return
		}
		s.p.Country = max(s.p.Country, p.Country)
		s.p.Worst = max(s.p.Worst, p.Worst)
		s.p.City = max(s.p.City, p.City)
		s.p.Alerts += p.Alerts
		s.p.Events += p.Events
		s.rowid = max(s.rowid, rowid)
	}
	for _, part := range parts {
		var err error
		if part.Table != nil {
			_, err = list(ctx, db, "threat points of "+workspace, func(rs scanner) (struct{}, error) {
				var p store.ThreatPoint
				var worst int64
				err := rs.Scan(&p.Lat, &p.Lon, &p.Country, &p.ThreatType, &worst, &p.Alerts, &p.Events, &p.City)
				p.Worst = alert.Severity(worst)
				if err == nil {
					merge(p, 0)
				}
				return struct{}{}, err
			}, `SELECT lat, lon, max(country), threat_type, max(severity), sum(alerts), sum(events), max(city)
				FROM `+part.Table.Name+` WHERE workspace = ? AND slot >= ? AND slot < ? AND located = 1 AND alerts > 0
				GROUP BY lat, lon, threat_type`, workspace, part.From, part.To)
		} else {
			_, err = list(ctx, db, "threat points of "+workspace, func(rs scanner) (struct{}, error) {
				var p store.ThreatPoint
				var worst, rowid int64
				err := rs.Scan(&p.Lat, &p.Lon, &p.Country, &p.ThreatType, &worst, &p.Alerts, &p.Events, &rowid)
				p.Worst = alert.Severity(worst)
				if err == nil {
					merge(p, rowid)
				}
				return struct{}{}, err
			}, `SELECT origin_lat, origin_lon, max(origin_country), threat_type, max(severity), count(*), sum(count), max(rowid)
				FROM alerts INDEXED BY alerts_points
				WHERE workspace = ? AND last_seen >= ? AND last_seen < ? AND threat_type != '' AND origin_lat IS NOT NULL
				GROUP BY origin_lat, origin_lon, threat_type`, workspace, part.From, part.To)
		}
		if err != nil {
			return nil, true, err
		}
	}
	rows := make([]*point, 0, len(sum))
	for _, p := range sum {
		rows = append(rows, p)
	}
	// The grouping's order, then most alerts first, as ThreatPoints
	// orders them.
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i].p, rows[j].p
		if a.Lat != b.Lat {
			return a.Lat < b.Lat
		}
		if a.Lon != b.Lon {
			return a.Lon < b.Lon
		}
		return a.ThreatType < b.ThreatType
	})
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].p.Alerts > rows[j].p.Alerts })
	if len(rows) > limit {
		rows = rows[:limit]
	}
	var ids []any
	var marks []string
	for _, r := range rows {
		if r.p.City == "" && r.rowid != 0 {
			ids, marks = append(ids, r.rowid), append(marks, "?")
		}
	}
	if len(ids) > 0 {
		cities := map[int64]string{}
		if _, err := list(ctx, db, "threat points' cities of "+workspace, func(rs scanner) (struct{}, error) {
			var id int64
			var city sql.NullString
			err := rs.Scan(&id, &city)
			cities[id] = city.String
			return struct{}{}, err
		}, `SELECT rowid, json_extract(doc, '$.origin.city') FROM alerts WHERE rowid IN (`+strings.Join(marks, ",")+`)`, ids...); err != nil {
			return nil, true, err
		}
		for _, r := range rows {
			if r.p.City == "" && r.rowid != 0 {
				r.p.City = cities[r.rowid]
			}
		}
	}
	pts := make([]store.ThreatPoint, len(rows))
	for i, r := range rows {
		pts[i] = r.p
	}
	return pts, true, nil
}
