package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

var (
	_ store.Incidents           = (*DB)(nil)
	_ store.IncidentCorrelation = (*DB)(nil)
)

// incidentFilter is the WHERE clause (and its arguments) of q's filters.
func incidentFilter(workspace string, q store.IncidentQuery) (string, []any, error) {
	where := []string{"workspace = ?"}
	args := []any{workspace}
	if len(q.Stage) > 0 {
		ph := make([]string, len(q.Stage))
		for i, s := range q.Stage {
			if !s.Valid() {
				return "", nil, fmt.Errorf("incidents of %s: stage %q: %w (want detect, assess, diagnose, stabilize or close)", workspace, s, store.ErrInvalid)
			}
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "stage IN ("+strings.Join(ph, ", ")+")")
	}
	if len(q.Status) > 0 {
		ph := make([]string, len(q.Status))
		for i, s := range q.Status {
			if !slices.Contains(incident.Statuses[:], s) {
				return "", nil, fmt.Errorf("incidents of %s: status %q: %w (want new, active or closed)", workspace, s, store.ErrInvalid)
			}
			ph[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if q.MinSeverity != nil {
		if *q.MinSeverity < alert.Informational || *q.MinSeverity > alert.Critical {
			return "", nil, fmt.Errorf("incidents of %s: minimum %v: %w", workspace, *q.MinSeverity, store.ErrInvalid)
		}
		where = append(where, "severity >= ?")
		args = append(args, int64(*q.MinSeverity))
	}
	if q.Owner != "" {
		where = append(where, "owner = ?")
		args = append(args, q.Owner)
	}
	if q.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE json_each.value = ?)")
		args = append(args, q.Tag)
	}
	if q.Entity != "" {
		// incident_entities keeps the values of types compared without
		// regard to case folded (putIncident): the exact value matches
		// any type, the folded one those types.
		folded := store.FoldCase(q.Entity)
		where = append(where, `id IN (SELECT incident_id FROM incident_entities WHERE workspace = ? AND (value = ?
			OR (value = ? AND (type IN ('ip', 'host', 'account', 'database', 'application', 'cloud_resource', 'hash') OR ?))))`)
		args = append(args, workspace, q.Entity, folded, store.EntityIgnoresCase(alert.EntityFile, q.Entity))
	}
	if q.Text != "" {
		// LIKE folds ASCII letters only; enough for a board's text box.
		like := "%" + likeEscaper.Replace(q.Text) + "%"
		where = append(where, `(id = ? OR title LIKE ? ESCAPE '\'
			OR id IN (SELECT incident_id FROM incident_entities WHERE workspace = ? AND value LIKE ? ESCAPE '\'))`)
		args = append(args, q.Text, like, workspace, like)
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

// likeEscaper makes text a literal part of a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// Cursor kinds of the two incident orders.
const (
	cursorIncident         = "incident"
	cursorIncidentPriority = "incident-priority"
	cursorTimeline         = "timeline"
)

func scanIncidentDoc(r scanner) (incident.Incident, error) {
	var doc string
	if err := r.Scan(&doc); err != nil {
		return incident.Incident{}, err
	}
	return decodeIncident(doc)
}

// incidentList is the incidents' triage order.
func incidentList(workspace string) triageList[incident.Incident] {
	return triageList[incident.Incident]{
		what: "incidents of " + workspace, kindLast: cursorIncident, kindPriority: cursorIncidentPriority,
		sortLast: store.IncidentSortLastSeen, sortPriority: store.IncidentSortPriority,
		selectFrom: `SELECT doc FROM incidents`, scan: scanIncidentDoc,
		key: func(i incident.Incident) (time.Time, string, int) { return i.LastSeen, i.ID, i.Priority },
	}
}

// Incidents returns the incidents of workspace matching q in q.Sort's
// order: the latest activity first, or the highest priority first.
func (db *DB) Incidents(ctx context.Context, workspace string, q store.IncidentQuery) ([]incident.Incident, string, error) {
	where, args, err := incidentFilter(workspace, q)
	if err != nil {
		return nil, "", err
	}
	return incidentList(workspace).page(ctx, db, where, args, q.Sort, q.Cursor, q.Limit)
}

// CountIncidents counts the incidents of workspace matching q's filters.
func (db *DB) CountIncidents(ctx context.Context, workspace string, q store.IncidentQuery) (int, error) {
	where, args, err := incidentFilter(workspace, q)
	if err != nil {
		return 0, err
	}
	return incidentList(workspace).count(ctx, db, "incidents", where, args)
}

// Incident returns one incident of workspace.
func (db *DB) Incident(ctx context.Context, workspace, id string) (incident.Incident, error) {
	inc, err := loadIncident(ctx, db.r, workspace, id)
	if err != nil {
		return inc, fmt.Errorf("workspace %s: %w", workspace, err)
	}
	return inc, nil
}

// IncidentAlerts returns the ids of an incident's alerts, in the order
// they joined it.
func (db *DB) IncidentAlerts(ctx context.Context, workspace, id string) ([]string, error) {
	if _, err := db.Incident(ctx, workspace, id); err != nil {
		return nil, err
	}
	out, err := list(ctx, db, "alerts of incident "+id, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT alert_id FROM incident_alerts WHERE workspace = ? AND incident_id = ? ORDER BY added, alert_id`, workspace, id)
	if out == nil && err == nil {
		out = []string{}
	}
	return out, err
}

// IncidentOfAlerts maps those of alertIDs that belong to an incident to
// its id.
func (db *DB) IncidentOfAlerts(ctx context.Context, workspace string, alertIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(alertIDs))
	for chunk := range slices.Chunk(alertIDs, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, workspace)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := list(ctx, db, "incidents of alerts", func(r scanner) ([2]string, error) {
			var p [2]string
			return p, r.Scan(&p[0], &p[1])
		}, `SELECT alert_id, incident_id FROM incident_alerts WHERE workspace = ? AND alert_id IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("workspace %s: %w", workspace, err)
		}
		for _, p := range rows {
			out[p[0]] = p[1]
		}
	}
	return out, nil
}

// Timeline pages an incident's timeline, oldest first (by time, then by
// the order it was written).
func (db *DB) Timeline(ctx context.Context, workspace, id string, q store.TimelineQuery) ([]incident.TimelineEntry, string, error) {
	if _, err := db.Incident(ctx, workspace, id); err != nil {
		return nil, "", err
	}
	n := limit(q.Limit)
	where, args := "workspace = ? AND incident_id = ?", []any{workspace, id}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, cursorTimeline)
		if err != nil {
			return nil, "", fmt.Errorf("timeline of incident %s: %w", id, err)
		}
		where += " AND (time, seq) > (?, ?)"
		args = append(args, c.n, c.m)
	}
	args = append(args, n+1)
	out, err := list(ctx, db, "timeline of incident "+id, func(r scanner) (incident.TimelineEntry, error) {
		var seq int64
		var doc string
		if err := r.Scan(&seq, &doc); err != nil {
			return incident.TimelineEntry{}, err
		}
		var e incident.TimelineEntry
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return e, fmt.Errorf("timeline entry %d: %w", seq, err)
		}
		e.Seq = seq
		return e, nil
	}, `SELECT seq, doc FROM incident_timeline WHERE `+where+` ORDER BY time, seq LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []incident.TimelineEntry{}
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		next = encodeCursor(cursorTimeline, cursor{n: nanos(last.Time), m: last.Seq})
	}
	return out, next, nil
}

// SimilarIncidents lists up to limit other incidents of workspace most
// like incident id: the score is the mean of the overlap (Jaccard index)
// of their rule ids and of their entities, so that an incident with the
// same rules against the same systems scores 1, and one sharing either
// alone at most 0.5. Incidents merged into another are left out.
func (db *DB) SimilarIncidents(ctx context.Context, workspace, id string, n int) ([]incident.Similar, error) {
	inc, err := db.Incident(ctx, workspace, id)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 10
	}
	n = min(n, 100)
	rules, err := json.Marshal(inc.RuleIDs)
	if err != nil {
		return nil, fmt.Errorf("incidents like %s: %w", id, err)
	}
	ids, err := list(ctx, db, "incidents like "+id, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT id FROM (
			SELECT i.id, i.last_seen FROM incidents i
			WHERE i.workspace = ?1 AND i.id != ?2 AND i.merged_into = '' AND i.id IN (
				SELECT e.incident_id FROM incident_entities e
				JOIN incident_entities mine ON mine.workspace = e.workspace AND mine.value = e.value AND mine.type = e.type
				WHERE mine.workspace = ?1 AND mine.incident_id = ?2)
			ORDER BY i.last_seen DESC LIMIT ?3)
		UNION
		SELECT id FROM (
			SELECT i.id, i.last_seen FROM incidents i
			WHERE i.workspace = ?1 AND i.id != ?2 AND i.merged_into = '' AND EXISTS (
				SELECT 1 FROM json_each(i.doc, '$.rule_ids') r WHERE r.value IN (SELECT value FROM json_each(?4)))
			ORDER BY i.last_seen DESC LIMIT ?3)`,
		workspace, id, store.SimilarCandidates, string(rules))
	if err != nil {
		return nil, err
	}
	var out []incident.Similar
	for _, other := range ids {
		o, err := loadIncident(ctx, db.r, workspace, other)
		if errors.Is(err, store.ErrNotFound) {
			continue // gone since the query
		}
		if err != nil {
			return nil, fmt.Errorf("incidents like %s: %w", id, err)
		}
		if score, shared := store.Similarity(inc, o); score > 0 {
			out = append(out, incident.Similar{Incident: o, Score: score, Shared: shared})
		}
	}
	return store.SortSimilar(out, n), nil
}

// IncidentChanges; see store.Incidents.
func (db *DB) IncidentChanges(ctx context.Context, afterSeq int64, n int) ([]store.IncidentChange, error) {
	return list(ctx, db, "incident changes", func(r scanner) (store.IncidentChange, error) {
		var c store.IncidentChange
		var kind, stage string
		var at int64
		err := r.Scan(&c.Seq, &c.Workspace, &c.IncidentID, &kind, &stage, &c.Actor, &at)
		c.Kind, c.Stage, c.At = store.IncidentChangeKind(kind), incident.Stage(stage), fromNanos(at)
		return c, err
	}, `SELECT seq, workspace, incident_id, kind, stage, actor, at FROM incident_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		afterSeq, limit(n))
}

// IncidentChangesSignal; see store.Incidents.
func (db *DB) IncidentChangesSignal() <-chan struct{} { return db.incidentChanges.wait() }

// PurgeIncidentChanges deletes the incident stream's changes made before
// before and returns how many went. Unlike the alert stream's purge it
// goes by age alone: the stream's consumers keep their cursors beside the
// alert stream's, under names of their own, so no cursor tells which
// stream it follows.
func (db *DB) PurgeIncidentChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "purge incident changes", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM incident_changes WHERE at < ?`, nanos(before))
		if err != nil {
			return fmt.Errorf("purge incident changes: %w", err)
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}

// CorrelationCandidates; see store.IncidentCorrelation.
func (db *DB) CorrelationCandidates(ctx context.Context, closedSince time.Time) ([]incident.Incident, error) {
	return list(ctx, db, "correlation candidates", scanIncidentDoc,
		`SELECT doc FROM incidents WHERE merged_into = '' AND (status != 'closed' OR closed >= ?) ORDER BY workspace, first_seen, id`,
		nanos(closedSince))
}

// ApplyIncidents writes correlation's updates and moves consumer's cursor
// to seq in one transaction (see store.IncidentCorrelation). Responders
// may have changed an incident since the correlator last saw it, so an
// update is merged into the stored incident rather than written over it:
// the workflow's fields (stage, owner, tags, classification, tasks,
// assessment) stay as stored, the alerts' aggregates (entities, tactics,
// techniques, rules, span, severity, priority) are the union of both, and
// the alert count is counted again. An update of an incident closed
// meanwhile reopens it; one merged into another goes to the incident it
// was merged into. Each ups[i].Incident is set to the incident as
// stored, for the correlator to take back.
func (db *DB) ApplyIncidents(ctx context.Context, consumer string, seq int64, ups []store.IncidentUpdate) error {
	if consumer == "" || seq < 0 {
		return fmt.Errorf("apply incidents for consumer %q at %d: %w (want a name and a seq of 0 or more)", consumer, seq, store.ErrInvalid)
	}
	now := db.now().UTC()
	err := db.write(ctx, "apply incident updates", func(tx *sql.Tx) error {
		for i := range ups {
			if err := applyIncident(ctx, tx, &ups[i], now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO stream_cursors (name, seq, updated) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), updated = excluded.updated`,
			consumer, seq, nanos(now))
		if err != nil {
			return fmt.Errorf("cursor of alert stream consumer %q: %w", consumer, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(ups) > 0 {
		db.incidentChanges.broadcast()
	}
	return nil
}

func applyIncident(ctx context.Context, tx *sql.Tx, up *store.IncidentUpdate, now time.Time) error {
	inc := up.Incident
	if inc.ID == "" || inc.Workspace == "" {
		return fmt.Errorf("incident update without id or workspace: %w", store.ErrInvalid)
	}
	kind := store.IncidentUpdated
	switch {
	case up.New:
		kind = store.IncidentCreated
	case up.Reopened:
		kind = store.IncidentReopened
	}
	if !up.New {
		stored, err := loadIncident(ctx, tx, inc.Workspace, inc.ID)
		for hops := 0; err == nil && stored.MergedInto != "" && hops < store.MaxMergeHops; hops++ {
			stored, err = loadIncident(ctx, tx, inc.Workspace, stored.MergedInto)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			kind = store.IncidentCreated // deleted meanwhile: written anew
		case err != nil:
			return err
		default:
			var reopened bool
			inc, reopened = store.MergeCorrelation(stored, inc, now)
			switch {
			case reopened:
				kind = store.IncidentReopened
				if !up.Reopened {
					up.Timeline = append([]incident.TimelineEntry{{
						Time: now, Kind: incident.TimelineReopened, Actor: incident.CorrelationActor,
						Summary: "reopened by a new alert", Stage: incident.StageAssess,
					}}, up.Timeline...)
				}
			case up.Reopened:
				// Reopened by hand meanwhile: not reopened again.
				kind = store.IncidentUpdated
				up.Timeline = slices.DeleteFunc(up.Timeline, func(e incident.TimelineEntry) bool { return e.Kind == incident.TimelineReopened })
			}
		}
	}
	// A new incident gets the workspace's checklist of its first stage; a
	// reopened one that of assess (once: tasks of a stage are not added
	// twice).
	if kind == store.IncidentCreated || kind == store.IncidentReopened {
		templates, err := taskTemplates(ctx, tx, inc.Workspace)
		if err != nil {
			return err
		}
		if kind == store.IncidentCreated {
			incident.StartTasks(&inc, templates, newIncidentID)
		} else {
			incident.AddStageTasks(&inc, templates, incident.StageAssess, newIncidentID)
		}
	}
	if err := linkAlerts(ctx, tx, inc.Workspace, inc.ID, up.AddAlerts, now); err != nil {
		return err
	}
	if !up.New {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM incident_alerts WHERE workspace = ? AND incident_id = ?`,
			inc.Workspace, inc.ID).Scan(&inc.AlertCount); err != nil {
			return fmt.Errorf("incident %s: count alerts: %w", inc.ID, err)
		}
	}
	if err := putIncident(ctx, tx, &inc); err != nil {
		return err
	}
	for i := range up.Timeline {
		up.Timeline[i].IncidentID = inc.ID
	}
	if err := appendTimeline(ctx, tx, inc.Workspace, up.Timeline); err != nil {
		return err
	}
	if err := appendIncidentChange(ctx, tx, &inc, kind, incident.CorrelationActor, now); err != nil {
		return err
	}
	up.Incident = inc
	return nil
}
