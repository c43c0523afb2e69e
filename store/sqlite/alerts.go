package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// alertDoc is the part of an alert that is kept as JSON: read whole, never
// filtered on (entities are filtered through alert_entities). Evidence is a
// JSON column of its own: it is the bulk of a busy alert and stops changing
// at alert.MaxEvidence, so Commit neither reads nor rewrites it from then on.
type alertDoc struct {
	Type       string          `json:"type"`
	Rule       alert.RuleRef   `json:"rule"`
	Entities   []alert.Entity  `json:"entities"`
	Tactics    []string        `json:"tactics"`
	Techniques []string        `json:"techniques"`
	Origin     *alert.Origin   `json:"origin,omitempty"`
	Intent     *alert.Intent   `json:"intent,omitempty"`
	Assets     []alert.Asset   `json:"assets,omitempty"`
	Anomalies  []alert.Anomaly `json:"anomalies,omitempty"`
	// Compromised and PriorityReasons are worked out at commit
	// (alert.Assess); the score itself is the priority column.
	Compromised     *alert.Entity          `json:"compromised_entity,omitempty"`
	PriorityReasons []alert.PriorityReason `json:"priority_reasons,omitempty"`
	Reason          alert.Reason           `json:"reason,omitempty"`
}

const alertColumns = `id, workspace, dedup_key, status, severity, rule_id, first_seen, last_seen, count, created, updated, doc, evidence, evidence_n, priority`

func scanAlert(row scanner) (alert.Alert, error) {
	a, _, err := scanAlertEvidence(row)
	return a, err
}

// scanAlertEvidence scans an alert whose evidence column may have been left
// out (NULL) because it is full; evidence then holds evidence_n zero
// placeholders, so that (*alert.Alert).Add adds none, and loaded is false.
func scanAlertEvidence(row scanner) (a alert.Alert, loaded bool, err error) {
	var (
		status, doc                                      string
		evidence                                         sql.NullString
		first, last, created, updated, count, sev, evidN int64
		priority                                         int64
	)
	if err := row.Scan(&a.ID, &a.Workspace, &a.DedupKey, &status, &sev, new(string),
		&first, &last, &count, &created, &updated, &doc, &evidence, &evidN, &priority); err != nil {
		return alert.Alert{}, false, err
	}
	var d alertDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return alert.Alert{}, false, fmt.Errorf("alert %s: corrupt document: %w", a.ID, err)
	}
	if evidence.Valid {
		if err := json.Unmarshal([]byte(evidence.String), &a.Evidence); err != nil {
			return alert.Alert{}, false, fmt.Errorf("alert %s: corrupt evidence: %w", a.ID, err)
		}
	} else {
		a.Evidence = make([]alert.Evidence, evidN)
	}
	a.Status = alert.Status(status)
	a.Severity = alert.Severity(sev)
	a.FirstSeen, a.LastSeen = fromNanos(first), fromNanos(last)
	a.Created, a.Updated = fromNanos(created), fromNanos(updated)
	a.Count = int(count)
	a.Type, a.Rule = d.Type, d.Rule
	a.Entities, a.Tactics, a.Techniques = d.Entities, d.Tactics, d.Techniques
	a.Origin, a.Intent, a.Assets, a.Anomalies = d.Origin, d.Intent, d.Assets, d.Anomalies
	a.Compromised, a.Priority, a.PriorityReasons = d.Compromised, int(priority), d.PriorityReasons
	if a.PriorityReasons == nil {
		a.PriorityReasons = []alert.PriorityReason{}
	}
	a.Reason = d.Reason
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
	return a, evidence.Valid, nil
}

const (
	sqlUpsertAlert = `INSERT INTO alerts (` + alertColumns + `, ` + paneColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			status = excluded.status, severity = excluded.severity, priority = excluded.priority,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen,
			count = excluded.count, updated = excluded.updated, doc = excluded.doc,
			evidence = excluded.evidence, evidence_n = excluded.evidence_n,
			threat_type = excluded.threat_type, origin_ip = excluded.origin_ip,
			origin_country = excluded.origin_country, origin_asn = excluded.origin_asn,
			origin_as_org = excluded.origin_as_org, origin_lat = excluded.origin_lat,
			origin_lon = excluded.origin_lon`
	// sqlUpdateAlert leaves the evidence as it is: for alerts whose evidence
	// was full when loaded.
	sqlUpdateAlert = `UPDATE alerts SET
			status = ?, severity = ?, priority = ?, first_seen = ?, last_seen = ?, count = ?, updated = ?, doc = ?,
			threat_type = ?, origin_ip = ?, origin_country = ?, origin_asn = ?, origin_as_org = ?,
			origin_lat = ?, origin_lon = ?
		WHERE id = ?`
	sqlInsertAlertEntity = `INSERT OR IGNORE INTO alert_entities (workspace, folded, exact, alert_id) VALUES (?, ?, ?, ?)`
)

// alertEntityKey is e's row in alert_entities: its folded value, and exact
// its value when it compares exactly, empty when it ignores case.
func alertEntityKey(e alert.Entity) (folded, exact string) {
	if store.EntityIgnoresCase(e.Type, e.Value) {
		return store.FoldCase(e.Value), ""
	}
	return store.FoldCase(e.Value), e.Value
}

// encodeAlertDoc is a's doc column.
func encodeAlertDoc(a *alert.Alert) ([]byte, error) {
	return json.Marshal(alertDoc{Type: a.Type, Rule: a.Rule, Entities: a.Entities,
		Tactics: a.Tactics, Techniques: a.Techniques, Origin: a.Origin, Intent: a.Intent, Assets: a.Assets, Anomalies: a.Anomalies,
		Compromised: a.Compromised, PriorityReasons: a.PriorityReasons, Reason: a.Reason})
}

// writeAlert inserts or updates a and its entity index rows; keepEvidence
// leaves the stored evidence untouched.
func (c *committer) writeAlert(a *alert.Alert, keepEvidence bool) error {
	doc, err := encodeAlertDoc(a)
	if err != nil {
		return fmt.Errorf("alert %s: encode: %w", a.ID, err)
	}
	pane := paneValues(a)
	if keepEvidence {
		_, err = c.stmt(c.db.st.updateAlert).ExecContext(c.ctx, append([]any{
			string(a.Status), int64(a.Severity), int64(a.Priority), nanos(a.FirstSeen), nanos(a.LastSeen), a.Count,
			nanos(a.Updated), string(doc)}, append(pane[:], a.ID)...)...)
	} else {
		var evidence []byte
		if evidence, err = json.Marshal(a.Evidence); err != nil {
			return fmt.Errorf("alert %s: encode evidence: %w", a.ID, err)
		}
		_, err = c.stmt(c.db.st.upsertAlert).ExecContext(c.ctx,
			a.ID, a.Workspace, a.DedupKey, string(a.Status), int64(a.Severity), a.Rule.ID,
			nanos(a.FirstSeen), nanos(a.LastSeen), a.Count, nanos(a.Created), nanos(a.Updated),
			string(doc), string(evidence), len(a.Evidence), int64(a.Priority),
			pane[0], pane[1], pane[2], pane[3], pane[4], pane[5], pane[6])
	}
	if err != nil {
		return fmt.Errorf("write alert %s: %w", a.ID, err)
	}
	for _, e := range a.Entities {
		if !indexable(e.Value) {
			continue
		}
		folded, exact := alertEntityKey(e)
		if _, err := c.stmt(c.db.st.insertAlertEntity).ExecContext(c.ctx, a.Workspace, folded, exact, a.ID); err != nil {
			return fmt.Errorf("write alert %s: entity %q: %w", a.ID, e.Value, err)
		}
	}
	return nil
}

// alertFilter is the WHERE clause (and its arguments) of q's filters.
func alertFilter(workspace string, q store.AlertQuery) (string, []any, error) {
	where := []string{"workspace = ?"}
	args := []any{workspace}
	if len(q.Status) > 0 {
		ph := make([]string, len(q.Status))
		for i, s := range q.Status {
			if !s.Valid() {
				return "", nil, fmt.Errorf("alerts of %s: status %q: %w (want new, active, resolved or dismissed)", workspace, s, store.ErrInvalid)
			}
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if q.MinSeverity != nil {
		if *q.MinSeverity < alert.Informational || *q.MinSeverity > alert.Critical {
			return "", nil, fmt.Errorf("alerts of %s: minimum %v: %w", workspace, *q.MinSeverity, store.ErrInvalid)
		}
		where = append(where, "severity >= ?")
		args = append(args, int64(*q.MinSeverity))
	}
	if q.RuleID != "" {
		where = append(where, "rule_id = ?")
		args = append(args, q.RuleID)
	}
	if q.Entity != "" {
		where = append(where, "id IN (SELECT alert_id FROM alert_entities WHERE workspace = ? AND folded = ? AND exact IN ('', ?))")
		args = append(args, workspace, store.FoldCase(q.Entity), q.Entity)
	}
	if q.ThreatType != "" {
		where = append(where, "threat_type = ?")
		args = append(args, q.ThreatType)
	}
	if q.Country != "" {
		where = append(where, "origin_country = ?")
		args = append(args, strings.ToUpper(q.Country))
	}
	if q.Source != "" {
		// A probe a row, not "id IN (…)": SQLite would drive that from
		// the source's alerts and sort them all to find a page; this way
		// it walks the order's index and stops at a page.
		where = append(where, "EXISTS (SELECT 1 FROM alert_sources s WHERE s.workspace = alerts.workspace AND s.source = ? AND s.alert_id = alerts.id)")
		args = append(args, q.Source)
	}
	if !q.Since.IsZero() {
		where = append(where, "last_seen >= ?")
		args = append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "last_seen < ?")
		args = append(args, nanos(q.Until))
	}
	return strings.Join(where, " AND "), args, nil
}

// Cursor kinds of the two alert orders: a cursor of one order is refused
// by the other.
const (
	cursorAlert         = "alert"
	cursorAlertPriority = "alert-priority"
)

// alertList is the alerts' triage order.
func alertList(workspace string) triageList[alert.Alert] {
	return triageList[alert.Alert]{
		what: "alerts of " + workspace, kindLast: cursorAlert, kindPriority: cursorAlertPriority,
		sortLast: store.AlertSortLastSeen, sortPriority: store.AlertSortPriority,
		selectFrom: `SELECT ` + alertColumns + ` FROM alerts`, scan: scanAlert,
		key: func(a alert.Alert) (time.Time, string, int) { return a.LastSeen, a.ID, a.Priority },
	}
}

// Alerts returns the alerts of workspace matching q in q.Sort's order.
func (db *DB) Alerts(ctx context.Context, workspace string, q store.AlertQuery) ([]alert.Alert, string, error) {
	where, args, err := alertFilter(workspace, q)
	if err != nil {
		return nil, "", err
	}
	return alertList(workspace).page(ctx, db, where, args, q.Sort, q.Cursor, q.Limit)
}

// CountAlerts counts the alerts of workspace matching q's filters.
func (db *DB) CountAlerts(ctx context.Context, workspace string, q store.AlertQuery) (int, error) {
	if n, ok, err := db.countSourceAlerts(ctx, workspace, q); ok || err != nil {
		return n, err
	}
	where, args, err := alertFilter(workspace, q)
	if err != nil {
		return 0, err
	}
	return alertList(workspace).count(ctx, db, "alerts", where, args)
}

// Alert returns one alert of workspace.
func (db *DB) Alert(ctx context.Context, workspace, id string) (alert.Alert, error) {
	a, err := scanAlert(db.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace = ? AND id = ?`, workspace, id))
	if errors.Is(err, sql.ErrNoRows) {
		return alert.Alert{}, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return alert.Alert{}, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, err)
	}
	return a, nil
}

// SetAlertStatus moves an alert to status and writes the audit entry in the
// same transaction, so that no change goes unrecorded. The alert's reason
// (classification) is cleared.
func (db *DB) SetAlertStatus(ctx context.Context, workspace, id string, status alert.Status, actor string) (alert.Alert, error) {
	return db.setAlertStatus(ctx, workspace, id, status, "", actor)
}

func (db *DB) setAlertStatus(ctx context.Context, workspace, id string, status alert.Status, reason alert.Reason, actor string) (alert.Alert, error) {
	// The refusals name the alert, as they did before several could be
	// changed at once.
	if !status.Valid() {
		return alert.Alert{}, fmt.Errorf("alert %s: status %q: %w (want new, active, resolved or dismissed)", id, status, store.ErrInvalid)
	}
	if err := alert.CheckReason(status, reason); err != nil {
		return alert.Alert{}, fmt.Errorf("alert %s: %w: %w", id, store.ErrInvalid, err)
	}
	if actor == "" {
		return alert.Alert{}, fmt.Errorf("alert %s: status change without an actor: %w", id, store.ErrInvalid)
	}
	out, err := db.setAlertsStatus(ctx, workspace, []string{id}, status, reason, actor)
	if err != nil {
		return alert.Alert{}, err
	}
	return out[0], nil
}

// SetAlertsStatus moves several alerts of workspace to status (with
// reason) in one transaction, each change audited on its own line as
// SetAlertStatus audits it: all of them, or none when one is missing or
// may not move (the error names it).
func (db *DB) SetAlertsStatus(ctx context.Context, workspace string, ids []string, status alert.Status, reason alert.Reason, actor string) ([]alert.Alert, error) {
	return db.setAlertsStatus(ctx, workspace, ids, status, reason, actor)
}

func (db *DB) setAlertsStatus(ctx context.Context, workspace string, ids []string, status alert.Status, reason alert.Reason, actor string) ([]alert.Alert, error) {
	if !status.Valid() {
		return nil, fmt.Errorf("alerts of %s: status %q: %w (want new, active, resolved or dismissed)", workspace, status, store.ErrInvalid)
	}
	if err := alert.CheckReason(status, reason); err != nil {
		return nil, fmt.Errorf("alerts of %s: %w: %w", workspace, store.ErrInvalid, err)
	}
	if actor == "" {
		return nil, fmt.Errorf("alerts of %s: status change without an actor: %w", workspace, store.ErrInvalid)
	}
	var out []alert.Alert
	changed := false
	err := db.write(ctx, "set alert status", func(tx *sql.Tx) error {
		out, changed = out[:0], false
		now := db.now().UTC()
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue // one change an alert, however often it is named
			}
			seen[id] = true
			a, ch, err := setAlertStatusTx(ctx, db, tx, workspace, id, status, reason, actor, now)
			if err != nil {
				return &store.AlertError{ID: id, Err: err}
			}
			changed = changed || ch
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed {
		db.changes.broadcast()
	}
	return out, nil
}

// setAlertStatusTx is one alert's status change inside tx: the alert, its
// change on the alert stream and its audit line. changed reports whether
// the stream got an entry.
func setAlertStatusTx(ctx context.Context, db *DB, tx *sql.Tx, workspace, id string, status alert.Status, reason alert.Reason, actor string, now time.Time) (alert.Alert, bool, error) {
	a, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace = ? AND id = ?`, workspace, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, store.ErrNotFound)
	}
	if err != nil {
		return a, false, fmt.Errorf("alert %s in workspace %s: %w", id, workspace, err)
	}
	old, oldReason := a.Status, a.Reason
	if err := alert.CheckTransition(old, status); err != nil {
		return a, false, fmt.Errorf("alert %s: %w: %w", id, store.ErrConflict, err)
	}
	a.Status, a.Updated, a.Reason = status, now, reason
	// The reason lives in the alert's document; json_remove keeps a
	// document without one as it was.
	if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, updated = ?,
		doc = CASE WHEN ?3 = '' THEN json_remove(doc, '$.reason') ELSE json_set(doc, '$.reason', ?3) END
		WHERE workspace = ? AND id = ?`,
		string(status), nanos(now), string(reason), workspace, id); err != nil {
		return a, false, fmt.Errorf("alert %s: set status: %w", id, err)
	}
	changed := false
	if old != status || oldReason != reason {
		if err := appendChange(ctx, tx.StmtContext(ctx, db.st.insertAlertChange).ExecContext, &a, store.ChangeStatus, now); err != nil {
			return a, false, err
		}
		changed = true
	}
	detail := string(old) + " -> " + string(status)
	if reason != "" {
		detail += " (" + string(reason) + ")"
	}
	return a, changed, insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor,
		Action: "alert.status", Target: id, Detail: detail})
}

// sqlOpenStatuses is store.OpenStatusesSQL.
var sqlOpenStatuses = store.OpenStatusesSQL

// sqlOpenAlert finds the open alert of a dedup key seen last, leaving out
// its evidence when full. The index is named: without statistics SQLite
// would rather walk alerts_last_seen, which avoids a sort but reads every
// alert of the workspace when the key has none open.
var sqlOpenAlert = `SELECT ` + strings.Replace(alertColumns, "evidence,",
	"CASE WHEN evidence_n < "+strconv.Itoa(alert.MaxEvidence)+" THEN evidence END,", 1) + ` FROM alerts
	INDEXED BY alerts_dedup
	WHERE workspace = ? AND dedup_key = ? AND status IN ` + sqlOpenStatuses + `
	ORDER BY last_seen DESC, id DESC LIMIT 1`
