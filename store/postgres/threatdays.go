package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// The threat-intelligence pane's counts by UTC day (threat_days) and hour
// (threat_hours), kept by Commit in its transaction (migration 7), as
// store/sqlite keeps them: a range's whole days are read from threat_days,
// the whole hours around them from threat_hours, and only its partial
// first and last hours from the alerts, so that a month's pane groups
// rows by day and origin, not every alert of the month.
//
// An alert counts in the day and hour of its last_seen with its threat
// type, severity, origin and count as its columns hold them; when a commit
// changes them, the alert's old row is decremented and its new one
// incremented, and rows that reach zero are deleted.

// paneTable is one of the pane's count tables (store.PaneTables).
type paneTable = store.PaneTable

var paneTables = store.PaneTables

// paneKey is an alert's row in a count table, slot holding its last_seen
// in nanoseconds until a table divides it by its unit.
type paneKey struct {
	ws, threatType, country, asOrg, city string
	slot, severity, asn                  int64
	located                              bool
	lat, lon                             float64
}

// paneCount is what an alert adds to the count tables; ok is false for an
// alert the pane does not count (no threat type: source health).
type paneCount struct {
	k      paneKey
	events int64
	ok     bool
}

// paneCountOf is a's count from the values queueAlert writes into its
// columns.
func paneCountOf(a *alert.Alert) paneCount {
	k := paneKey{ws: a.Workspace, threatType: text(alert.ThreatType(a)), slot: nanos(a.LastSeen), severity: int64(a.Severity)}
	if o := a.Origin; o != nil {
		k.country, k.asn, k.asOrg, k.city = text(o.Country), int64(o.ASN), text(o.ASOrg), text(o.City)
		if o.Lat != 0 || o.Lon != 0 {
			k.located, k.lat, k.lon = true, o.Lat, o.Lon
		}
	}
	return paneCount{k: k, events: int64(a.Count), ok: k.threatType != "" && k.slot >= 0}
}

// paneColumns are the alert's columns the count tables are kept from, as
// paneScan reads them (the alert's count before a commit changes it).
const paneColumns = `last_seen, threat_type, severity, origin_country, origin_asn, origin_as_org,
	origin_lat, origin_lon, origin_city, count`

// paneScan reads paneColumns.
type paneScan struct {
	c        paneCount
	lat, lon *float64
}

func (p *paneScan) dest() []any {
	k := &p.c.k
	return []any{&k.slot, &k.threatType, &k.severity, &k.country, &k.asn, &k.asOrg, &p.lat, &p.lon, &k.city, &p.c.events}
}

// count is the alert's count in workspace ws.
func (p *paneScan) count(ws string) paneCount {
	c := p.c
	c.k.ws = ws
	if p.lat != nil && p.lon != nil {
		c.k.located, c.k.lat, c.k.lon = true, *p.lat, *p.lon
	}
	c.ok = c.k.threatType != "" && c.k.slot >= 0
	return c
}

// queuePaneCounts queues the moves of the touched alerts' counts from
// their rows before this commit (c.paneBefore) to their rows now: one
// upsert a table, its rows in key order (concurrent commits take them in
// one order, so never wait on each other in a cycle), then the deletion of
// the rows this commit took to zero, all of them rows it holds.
func (c *committer) queuePaneCounts() {
	for _, t := range paneTables {
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
			if b := c.paneBefore[a.ID]; b.ok {
				add(b.k, -1, -b.events)
			}
			if n := paneCountOf(a); n.ok {
				add(n.k, 1, n.events)
			}
		}
		keys := make([]paneKey, 0, len(delta))
		for k, d := range delta {
			if d[0] != 0 || d[1] != 0 {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue
		}
		slices.SortFunc(keys, comparePaneKeys)
		var (
			ws, tts, countries, orgs, cities []string
			slots, sevs, asns, alerts, evs   []int64
			located                          []bool
			lats, lons                       []float64
			decremented                      []int
		)
		for i, k := range keys {
			d := delta[k]
			ws, tts, countries, orgs, cities = append(ws, k.ws), append(tts, k.threatType), append(countries, k.country), append(orgs, k.asOrg), append(cities, k.city)
			slots, sevs, asns, alerts, evs = append(slots, k.slot), append(sevs, k.severity), append(asns, k.asn), append(alerts, d[0]), append(evs, d[1])
			located, lats, lons = append(located, k.located), append(lats, k.lat), append(lons, k.lon)
			if d[0] < 0 {
				decremented = append(decremented, i+1)
			}
		}
		cols := `workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city`
		rows := `unnest($1::text[], $2::bigint[], $3::text[], $4::integer[], $5::text[], $6::bigint[], $7::text[],
			$8::boolean[], $9::double precision[], $10::double precision[], $11::text[], $12::bigint[], $13::bigint[])
			WITH ORDINALITY AS r(` + cols + `, alerts, events, n)`
		args := []any{ws, slots, tts, sevs, countries, asns, orgs, located, lats, lons, cities, alerts, evs}
		c.writes.Queue(`INSERT INTO `+t.Name+` (`+cols+`, alerts, events)
			SELECT `+cols+`, alerts, events FROM `+rows+` ORDER BY n
			ON CONFLICT (`+cols+`) DO UPDATE SET alerts = `+t.Name+`.alerts + excluded.alerts, events = `+t.Name+`.events + excluded.events`,
			args...)
		if len(decremented) > 0 {
			c.writes.Queue(`DELETE FROM `+t.Name+` t USING (SELECT * FROM `+rows+` WHERE n = ANY($14::bigint[])) AS r
				WHERE (t.workspace, t.slot, t.threat_type, t.severity, t.country, t.asn, t.as_org, t.located, t.lat, t.lon, t.city) =
					(r.workspace, r.slot, r.threat_type, r.severity, r.country, r.asn, r.as_org, r.located, r.lat, r.lon, r.city)
					AND t.alerts <= 0`, append(args, decremented)...)
		}
	}
}

func comparePaneKeys(a, b paneKey) int {
	return cmp.Or(strings.Compare(a.ws, b.ws), cmp.Compare(a.slot, b.slot), strings.Compare(a.threatType, b.threatType),
		cmp.Compare(a.severity, b.severity), strings.Compare(a.country, b.country), cmp.Compare(a.asn, b.asn),
		strings.Compare(a.asOrg, b.asOrg), compareBool(a.located, b.located), cmp.Compare(a.lat, b.lat),
		cmp.Compare(a.lon, b.lon), strings.Compare(a.city, b.city))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// paneParts splits [from, to) as store.PaneParts does, unless the
// alerts are to answer every range (paneFromAlerts).
func (db *DB) paneParts(from, to int64) ([]store.PanePart, bool) {
	if db.paneFromAlerts {
		return nil, false
	}
	return store.PaneParts(from, to)
}

// paneUnion is the SQL of a range's rows from its parts, as one UNION ALL
// of the count tables' rows and the partial hours' alerts, each with the
// columns cols names (the tables' names; the alerts' are aliased to
// them), with last_seen standing in for a slot's first nanosecond.
func paneUnion(parts []store.PanePart, workspace string, a *args, cols string, located bool) string {
	tableExtra, alertExtra := "", ""
	if located {
		tableExtra, alertExtra = " AND located", " AND origin_lat IS NOT NULL"
	}
	ws := a.add(workspace)
	var q []string
	for _, p := range parts {
		lo, hi := a.add(p.From), a.add(p.To)
		if p.Table != nil {
			q = append(q, `SELECT slot * `+a.add(p.Table.Unit)+` AS last_seen, `+cols+`, alerts, events FROM `+p.Table.Name+`
				WHERE workspace = `+ws+` AND slot >= `+lo+` AND slot < `+hi+` AND alerts > 0`+tableExtra)
			continue
		}
		q = append(q, `SELECT last_seen, `+paneAlertColumns(cols)+`, 1::bigint AS alerts, count AS events FROM alerts
			WHERE workspace = `+ws+` AND last_seen >= `+lo+` AND last_seen < `+hi+` AND threat_type <> ''`+alertExtra)
	}
	return strings.Join(q, " UNION ALL ")
}

// paneAlertColumns names the alerts' columns as the count tables name
// them.
func paneAlertColumns(cols string) string {
	r := strings.NewReplacer("country", "origin_country AS country", "as_org", "origin_as_org AS as_org",
		"asn", "origin_asn AS asn", "lat", "origin_lat AS lat", "lon", "origin_lon AS lon", "city", "origin_city AS city")
	return r.Replace(cols)
}

// threatSeriesDays is ThreatSeries from the count tables where every
// bucket starts on a slot's start (from and the bucket whole hours, or
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
	var a args
	union := paneUnion(parts, workspace, &a, "threat_type, severity", false)
	rows, err := collect(ctx, db.pool, "threat series of "+workspace, func(rs scanner) (threatSeriesRow, error) {
		var r threatSeriesRow
		var sev int64
		err := rs.Scan(&r.b, &r.c.ThreatType, &sev, &r.c.Alerts, &r.c.Events)
		r.c.Severity = alert.Severity(sev)
		return r, err
	}, `SELECT (last_seen - `+a.add(from)+`) / `+a.add(bucket)+` AS b, threat_type, severity, sum(alerts)::bigint, sum(events)::bigint
		FROM (`+union+`) AS u
		GROUP BY b, threat_type, severity ORDER BY b, threat_type COLLATE "C", severity`, a...)
	if err != nil {
		return nil, true, err
	}
	return threatBuckets(q, rows), true, nil
}

// threatOriginsDays is ThreatOrigins from the count tables and the partial
// hours' alerts; ok is false when the range holds no whole hour.
func (db *DB) threatOriginsDays(ctx context.Context, workspace string, from, to int64) ([]store.ThreatOrigin, bool, error) {
	parts, ok := db.paneParts(from, to)
	if !ok {
		return nil, false, nil
	}
	var a args
	union := paneUnion(parts, workspace, &a, "threat_type, severity, country, asn, as_org", false)
	out, err := collect(ctx, db.pool, "threat origins of "+workspace, scanThreatOrigin,
		`SELECT country, asn, threat_type, max(severity), sum(alerts)::bigint, sum(events)::bigint, max(as_org)
		FROM (`+union+`) AS u
		GROUP BY country, asn, threat_type
		ORDER BY country COLLATE "C", asn, threat_type COLLATE "C"`, a...)
	return out, true, err
}

// threatPointsDays is ThreatPoints from the count tables and the partial
// hours' alerts; ok is false when the range holds no whole hour.
func (db *DB) threatPointsDays(ctx context.Context, workspace string, from, to int64, limit int) ([]store.ThreatPoint, bool, error) {
	parts, ok := db.paneParts(from, to)
	if !ok {
		return nil, false, nil
	}
	var a args
	union := paneUnion(parts, workspace, &a, "threat_type, severity, country, lat, lon, city", true)
	out, err := collect(ctx, db.pool, "threat points of "+workspace, scanThreatPoint,
		`SELECT lat, lon, max(country), max(city), threat_type, max(severity), sum(alerts)::bigint, sum(events)::bigint
		FROM (`+union+`) AS u
		GROUP BY lat, lon, threat_type
		ORDER BY sum(alerts) DESC, lat, lon, threat_type COLLATE "C" LIMIT `+a.add(limit), a...)
	return out, true, err
}

type threatSeriesRow struct {
	b int64
	c store.ThreatCount
}

// threatBuckets gathers a series' rows (in bucket order) into buckets.
func threatBuckets(q store.ThreatQuery, rows []threatSeriesRow) []store.ThreatBucket {
	var out []store.ThreatBucket
	for _, r := range rows {
		start := q.From.Add(time.Duration(r.b) * q.Bucket).UTC()
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, store.ThreatBucket{Start: start})
		}
		b := &out[len(out)-1]
		b.Counts = append(b.Counts, r.c)
	}
	return out
}

func scanThreatOrigin(rs scanner) (store.ThreatOrigin, error) {
	var o store.ThreatOrigin
	var asn, worst int64
	err := rs.Scan(&o.Country, &asn, &o.ThreatType, &worst, &o.Alerts, &o.Events, &o.ASOrg)
	o.ASN, o.Worst = uint32(asn), alert.Severity(worst)
	return o, err
}

func scanThreatPoint(rs scanner) (store.ThreatPoint, error) {
	var p store.ThreatPoint
	var worst int64
	err := rs.Scan(&p.Lat, &p.Lon, &p.Country, &p.City, &p.ThreatType, &worst, &p.Alerts, &p.Events)
	p.Worst = alert.Severity(worst)
	return p, err
}

// rebuildPaneCounts counts the pane's tables afresh from the alerts' columns,
// as migration 7 does: what tests compare Commit's increments with.
func rebuildPaneCounts(ctx context.Context, tx pgx.Tx) error {
	for _, t := range paneTables {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t.Name); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+t.Name+`
			SELECT workspace, last_seen / $1, threat_type, severity, origin_country, origin_asn, origin_as_org,
				origin_lat IS NOT NULL, coalesce(origin_lat, 0), coalesce(origin_lon, 0), origin_city, count(*), sum(count)
			FROM alerts WHERE threat_type <> '' AND last_seen >= 0
			GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11`, t.Unit); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return nil
}
