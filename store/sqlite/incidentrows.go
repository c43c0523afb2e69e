package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The row-level writes and reads every incident operation shares
// (correlation's ApplyIncidents, the workflow's changes, merges and
// splits), so that an incident is kept one way. Writers call them inside
// db.write and, once it committed, db.incidentChanges.broadcast() when
// they appended to the incident stream.

// putIncident writes inc (insert or replace) with its entities.
func putIncident(ctx context.Context, tx *sql.Tx, inc *incident.Incident) error {
	if inc.Tags == nil {
		inc.Tags = []string{}
	}
	inc.Status = incident.StatusOf(inc.Stage)
	doc, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("incident %s: encode: %w", inc.ID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO incidents
		(workspace, id, stage, status, severity, priority, owner, first_seen, last_seen, created, updated, closed, merged_into, doc, title)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace, id) DO UPDATE SET stage = excluded.stage, status = excluded.status,
			severity = excluded.severity, priority = excluded.priority, owner = excluded.owner,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated = excluded.updated,
			closed = excluded.closed, merged_into = excluded.merged_into, doc = excluded.doc, title = excluded.title`,
		inc.Workspace, inc.ID, string(inc.Stage), string(inc.Status), int(inc.Severity), inc.Priority, inc.Owner,
		nanos(inc.FirstSeen), nanos(inc.LastSeen), nanos(inc.Created), nanos(inc.Updated), nullNanos(inc.Closed),
		inc.MergedInto, string(doc), inc.Title)
	if err != nil {
		return fmt.Errorf("incident %s: write: %w", inc.ID, err)
	}
	// The entity rows change by difference: an incident lists up to
	// hundreds of entities and gains a few at a time, and a statement a
	// row is the dearest part of a write.
	type row struct{ value, typ string }
	have, err := queryRows(ctx, tx, `SELECT value, type FROM incident_entities WHERE workspace = ? AND incident_id = ?`,
		[]any{inc.Workspace, inc.ID}, func(r scanner) (row, error) {
			var x row
			return x, r.Scan(&x.value, &x.typ)
		})
	if err != nil {
		return fmt.Errorf("incident %s: entities: %w", inc.ID, err)
	}
	stored := make(map[row]bool, len(have))
	for _, x := range have {
		stored[x] = true
	}
	want := make(map[row]bool, len(inc.Entities))
	for _, e := range inc.Entities {
		v := e.Value
		if store.EntityIgnoresCase(e.Type, v) {
			v = store.FoldCase(v)
		}
		x := row{v, e.Type}
		if want[x] {
			continue
		}
		want[x] = true
		if stored[x] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO incident_entities (workspace, value, type, incident_id) VALUES (?, ?, ?, ?)`,
			inc.Workspace, v, e.Type, inc.ID); err != nil {
			return fmt.Errorf("incident %s: entity %s %s: %w", inc.ID, e.Type, e.Value, err)
		}
	}
	for _, x := range have {
		if want[x] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_entities WHERE workspace = ? AND value = ? AND type = ? AND incident_id = ?`,
			inc.Workspace, x.value, x.typ, inc.ID); err != nil {
			return fmt.Errorf("incident %s: entity %s %s: %w", inc.ID, x.typ, x.value, err)
		}
	}
	return nil
}

// loadIncident reads one incident: store.ErrNotFound when there is none.
func loadIncident(ctx context.Context, q querier, workspace, id string) (incident.Incident, error) {
	var doc string
	err := q.QueryRowContext(ctx, `SELECT doc FROM incidents WHERE workspace = ? AND id = ?`, workspace, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Incident{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return incident.Incident{}, fmt.Errorf("incident %s: read: %w", id, err)
	}
	return decodeIncident(doc)
}

func decodeIncident(doc string) (incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal([]byte(doc), &inc); err != nil {
		return inc, fmt.Errorf("incident: decode: %w", err)
	}
	return inc, nil
}

// appendTimeline writes entries to their incident's timeline (each entry
// names its incident), setting their Seq.
func appendTimeline(ctx context.Context, tx *sql.Tx, workspace string, entries []incident.TimelineEntry) error {
	for i := range entries {
		e := &entries[i]
		doc, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("incident %s: timeline: encode: %w", e.IncidentID, err)
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO incident_timeline (workspace, incident_id, time, kind, actor, doc) VALUES (?, ?, ?, ?, ?, ?)`,
			workspace, e.IncidentID, nanos(e.Time), e.Kind, e.Actor, string(doc))
		if err != nil {
			return fmt.Errorf("incident %s: timeline: %w", e.IncidentID, err)
		}
		if e.Seq, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("incident %s: timeline: %w", e.IncidentID, err)
		}
	}
	return nil
}

// appendIncidentChange writes one entry of the incident stream.
func appendIncidentChange(ctx context.Context, tx *sql.Tx, inc *incident.Incident, kind store.IncidentChangeKind, actor string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_changes (workspace, incident_id, kind, stage, actor, at) VALUES (?, ?, ?, ?, ?, ?)`,
		inc.Workspace, inc.ID, string(kind), string(inc.Stage), actor, nanos(at))
	if err != nil {
		return fmt.Errorf("incident %s: append %s change: %w", inc.ID, kind, err)
	}
	return nil
}

// linkAlerts puts alerts in an incident, moving them out of any other:
// an alert belongs to one incident at a time.
func linkAlerts(ctx context.Context, tx *sql.Tx, workspace, incidentID string, alertIDs []string, at time.Time) error {
	for _, id := range alertIDs {
		_, err := tx.ExecContext(ctx, `INSERT INTO incident_alerts (workspace, alert_id, incident_id, added) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace, alert_id) DO UPDATE SET incident_id = excluded.incident_id, added = excluded.added`,
			workspace, id, incidentID, nanos(at))
		if err != nil {
			return fmt.Errorf("incident %s: link alert %s: %w", incidentID, id, err)
		}
	}
	return nil
}
