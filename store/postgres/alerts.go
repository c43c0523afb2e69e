package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

const alertColumns = `status, reason, updated, doc`

// scanAlert reads an alert: its document, with status, reason and update
// time from their columns (SetAlertStatus changes only those).
func scanAlert(row scanner) (alert.Alert, error) {
	var (
		a       alert.Alert
		status  string
		reason  string
		updated int64
		doc     []byte
	)
	if err := row.Scan(&status, &reason, &updated, &doc); err != nil {
		return alert.Alert{}, err
	}
	if err := json.Unmarshal(doc, &a); err != nil {
		return alert.Alert{}, fmt.Errorf("alert: corrupt document: %w", err)
	}
	a.Status, a.Reason, a.Updated = alert.Status(status), alert.Reason(reason), fromNanos(updated)
	// The API shows empty lists as [], as alert.New makes them.
	if a.Entities == nil {
		a.Entities = []alert.Entity{}
	}
	if a.Tactics == nil {
		a.Tactics = []string{}
	}
	if a.Techniques == nil {
		a.Techniques = []string{}
	}
	if a.Evidence == nil {
		a.Evidence = []alert.Evidence{}
	}
	if a.PriorityReasons == nil {
		a.PriorityReasons = []alert.PriorityReason{}
	}
	return a, nil
}

// queueAlert queues the writing of a (insert, or update of what Commit
// changes) and of its entities' index rows.
func queueAlert(b *pgx.Batch, a *alert.Alert) error {
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("alert %s: encode: %w", a.ID, err)
	}
	ip := ""
	// The threat pane's and the filters' columns (migration 2).
	var country, asOrg, city string
	var asn int64
	var lat, lon *float64
	if o := a.Origin; o != nil {
		ip, country, asn, asOrg, city = text(o.IP), text(o.Country), int64(o.ASN), text(o.ASOrg), text(o.City)
		if o.Lat != 0 || o.Lon != 0 {
			lat, lon = &o.Lat, &o.Lon
		}
	}
	b.Queue(`INSERT INTO alerts (id, workspace, dedup_key, status, severity, rule_id, first_seen, last_seen, count,
			priority, origin_ip, created, updated, reason, doc,
			threat_type, origin_country, origin_asn, origin_as_org, origin_city, origin_lat, origin_lon)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (id) DO UPDATE SET
			severity = excluded.severity, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
			count = excluded.count, priority = excluded.priority, origin_ip = excluded.origin_ip,
			updated = excluded.updated, doc = excluded.doc,
			threat_type = excluded.threat_type, origin_country = excluded.origin_country, origin_asn = excluded.origin_asn,
			origin_as_org = excluded.origin_as_org, origin_city = excluded.origin_city,
			origin_lat = excluded.origin_lat, origin_lon = excluded.origin_lon`,
		a.ID, a.Workspace, text(a.DedupKey), string(a.Status), int(a.Severity), text(a.Rule.ID),
		nanos(a.FirstSeen), nanos(a.LastSeen), a.Count, a.Priority, ip, nanos(a.Created), nanos(a.Updated),
		string(a.Reason), doc,
		text(alert.ThreatType(a)), country, asn, asOrg, city, lat, lon)
	for _, e := range a.Entities {
		if !store.Indexable(e.Value) {
			continue
		}
		folded, exact := store.FoldCase(e.Value), e.Value
		if store.EntityIgnoresCase(e.Type, e.Value) {
			exact = ""
		}
		b.Queue(`INSERT INTO alert_entities (workspace, folded, exact, alert_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			a.Workspace, []byte(folded), []byte(exact), a.ID)
	}
	return nil
}

// sqlOpenStatuses is store.OpenStatusesSQL.
var sqlOpenStatuses = store.OpenStatusesSQL

// alertFilter is the WHERE clause of q's filters, its arguments in a.
func alertFilter(workspace string, q store.AlertQuery, a *args) (string, error) {
	where := []string{"workspace = " + a.add(workspace)}
	if len(q.Status) > 0 {
		list := make([]string, len(q.Status))
		for i, s := range q.Status {
			if !s.Valid() {
				return "", fmt.Errorf("alerts of %s: status %q: %w (want new, active, resolved or dismissed)", workspace, s, store.ErrInvalid)
			}
			list[i] = string(s)
		}
		where = append(where, "status = ANY("+a.add(list)+")")
	}
	if q.MinSeverity != nil {
		if *q.MinSeverity < alert.Informational || *q.MinSeverity > alert.Critical {
			return "", fmt.Errorf("alerts of %s: minimum %v: %w", workspace, *q.MinSeverity, store.ErrInvalid)
		}
		where = append(where, "severity >= "+a.add(int(*q.MinSeverity)))
	}
	if q.RuleID != "" {
		where = append(where, "rule_id = "+a.add(text(q.RuleID)))
	}
	if q.Entity != "" {
		where = append(where, "id IN (SELECT alert_id FROM alert_entities WHERE workspace = "+a.add(workspace)+
			" AND folded = "+a.add([]byte(store.FoldCase(q.Entity)))+" AND exact IN ('', "+a.add([]byte(q.Entity))+"))")
	}
	if q.ThreatType != "" {
		where = append(where, "threat_type = "+a.add(text(q.ThreatType)))
	}
	if q.Country != "" {
		where = append(where, "origin_country = "+a.add(text(strings.ToUpper(q.Country))))
	}
	if q.Source != "" {
		where = append(where, "EXISTS (SELECT 1 FROM alert_sources s WHERE s.workspace = alerts.workspace AND s.source = "+
			a.add(text(q.Source))+" AND s.alert_id = alerts.id)")
	}
	if !q.Since.IsZero() {
		where = append(where, "last_seen >= "+a.add(nanos(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "last_seen < "+a.add(nanos(q.Until)))
	}
	return strings.Join(where, " AND "), nil
}

// Cursor kinds of the two alert orders, as store/sqlite names them.
const (
	cursorAlert         = "alert"
	cursorAlertPriority = "alert-priority"
)

// Alerts returns the alerts of workspace matching q in q.Sort's order.
func (db *DB) Alerts(ctx context.Context, workspace string, q store.AlertQuery) ([]alert.Alert, string, error) {
	var a args
	where, err := alertFilter(workspace, q, &a)
	if err != nil {
		return nil, "", err
	}
	o, err := newListOrder("alerts of "+workspace, q.Sort, q.Cursor, q.Limit, cursorAlert, cursorAlertPriority, &a, &where)
	if err != nil {
		return nil, "", err
	}
	out, err := collect(ctx, db.pool, "alerts of "+workspace, scanAlert,
		`SELECT `+alertColumns+` FROM alerts WHERE `+where+o.order+o.limit(&a), a...)
	if err != nil {
		return nil, "", err
	}
	out, next := page(o, out, func(x alert.Alert) (time.Time, string, int) { return x.LastSeen, x.ID, x.Priority })
	return out, next, nil
}

// CountAlerts counts the alerts of workspace matching q's filters.
func (db *DB) CountAlerts(ctx context.Context, workspace string, q store.AlertQuery) (int, error) {
	if n, ok, err := db.countSourceAlerts(ctx, workspace, q); ok || err != nil {
		return n, err
	}
	var a args
	where, err := alertFilter(workspace, q, &a)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE `+where, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count alerts of %s: %w", workspace, err)
	}
	return n, nil
}

// Alert returns one alert of workspace.
func (db *DB) Alert(ctx context.Context, workspace, id string) (alert.Alert, error) {
	a, err := scanAlert(db.pool.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace = $1 AND id = $2`, workspace, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return alert.Alert{}, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return alert.Alert{}, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, err)
	}
	return a, nil
}

// SetAlertStatus moves an alert to status and writes the audit entry in the
// same transaction; the alert's reason (classification) is cleared. The
// alert's row is locked, so that a Commit merging into it waits, or is
// waited for (setAlertStatusTx).
func (db *DB) SetAlertStatus(ctx context.Context, workspace, id string, status alert.Status, actor string) (alert.Alert, error) {
	return db.ClassifyAlert(ctx, workspace, id, status, "", actor)
}

// intentPeers reads, inside a Commit, the recent alerts of an address that
// the intent estimate weighs (store.EstimateIntents).
type intentPeers struct{ tx pgx.Tx }

func (p intentPeers) RecentAlerts(ctx context.Context, ws, ip string, since time.Time, limit int) ([]alert.Alert, error) {
	return collect(ctx, p.tx, "recent alerts of "+ip, scanAlert, `SELECT `+alertColumns+` FROM alerts
		WHERE origin_ip = $1 AND origin_ip <> '' AND workspace = $2 AND last_seen >= $3
		ORDER BY last_seen DESC LIMIT $4`, text(ip), ws, nanos(since), limit)
}

func (p intentPeers) AlertWorkspaces(ctx context.Context, ip string, since time.Time, limit int) ([]string, error) {
	return collect(ctx, p.tx, "workspaces of "+ip, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT DISTINCT workspace FROM (SELECT workspace FROM alerts
		WHERE origin_ip = $1 AND origin_ip <> '' AND last_seen >= $2 LIMIT $3) AS w`, text(ip), nanos(since), limit)
}
