package postgres

import (
	"context"
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

// incidentFilter is the WHERE clause of q's filters, its arguments in a.
func incidentFilter(workspace string, q store.IncidentQuery, a *args) (string, error) {
	where := []string{"workspace = " + a.add(workspace)}
	if len(q.Stage) > 0 {
		list := make([]string, len(q.Stage))
		for i, s := range q.Stage {
			if !s.Valid() {
				return "", fmt.Errorf("incidents of %s: stage %q: %w (want detect, assess, diagnose, stabilize or close)", workspace, s, store.ErrInvalid)
			}
			list[i] = string(s)
		}
		where = append(where, "stage = ANY("+a.add(list)+")")
	}
	if len(q.Status) > 0 {
		list := make([]string, len(q.Status))
		for i, s := range q.Status {
			if !slices.Contains(incident.Statuses[:], s) {
				return "", fmt.Errorf("incidents of %s: status %q: %w (want new, active or closed)", workspace, s, store.ErrInvalid)
			}
			list[i] = string(s)
		}
		where = append(where, "status = ANY("+a.add(list)+")")
	}
	if q.MinSeverity != nil {
		if *q.MinSeverity < alert.Informational || *q.MinSeverity > alert.Critical {
			return "", fmt.Errorf("incidents of %s: minimum %v: %w", workspace, *q.MinSeverity, store.ErrInvalid)
		}
		where = append(where, "severity >= "+a.add(int(*q.MinSeverity)))
	}
	if q.Owner != "" {
		where = append(where, "owner = "+a.add(text(q.Owner)))
	}
	if q.Tag != "" {
		where = append(where, a.add(text(q.Tag))+" = ANY(tags)")
	}
	if q.Entity != "" {
		// incident_entities keeps the values of types compared without
		// regard to case folded (put): the exact value matches any type,
		// the folded one those types.
		where = append(where, `id IN (SELECT incident_id FROM incident_entities WHERE workspace = `+a.add(workspace)+
			` AND (value = `+a.add([]byte(q.Entity))+` OR (value = `+a.add([]byte(store.FoldCase(q.Entity)))+
			` AND (type IN ('ip', 'host', 'account', 'database', 'application', 'cloud_resource', 'hash') OR `+
			a.add(store.EntityIgnoresCase(alert.EntityFile, q.Entity))+`))))`)
	}
	if q.Text != "" {
		// ASCII letters compared without regard to case, as SQLite's
		// LIKE: both sides lowered so.
		like := "%" + likeEscaper.Replace(asciiLower(q.Text)) + "%"
		where = append(where, `(id = `+a.add(text(q.Text))+` OR title_fold LIKE `+a.add(text(like))+
			` OR id IN (SELECT incident_id FROM incident_entities WHERE workspace = `+a.add(workspace)+
			` AND fold LIKE `+a.add([]byte(like))+`))`)
	}
	if !q.Since.IsZero() {
		where = append(where, "last_seen >= "+a.add(nanos(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "last_seen < "+a.add(nanos(q.Until)))
	}
	return strings.Join(where, " AND "), nil
}

// likeEscaper makes text a literal part of a LIKE pattern (whose escape
// is the backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// Cursor kinds of the incident orders and the timeline, as store/sqlite
// names them.
const (
	cursorIncident         = "incident"
	cursorIncidentPriority = "incident-priority"
	cursorTimeline         = "timeline"
)

// Incidents returns the incidents of workspace matching q in q.Sort's
// order: the latest activity first, or the highest priority first.
func (db *DB) Incidents(ctx context.Context, workspace string, q store.IncidentQuery) ([]incident.Incident, string, error) {
	var a args
	where, err := incidentFilter(workspace, q, &a)
	if err != nil {
		return nil, "", err
	}
	o, err := newListOrder("incidents of "+workspace, q.Sort, q.Cursor, q.Limit, cursorIncident, cursorIncidentPriority, &a, &where)
	if err != nil {
		return nil, "", err
	}
	out, err := collect(ctx, db.pool, "incidents of "+workspace, scanIncidentDoc,
		`SELECT doc FROM incidents WHERE `+where+o.order+o.limit(&a), a...)
	if err != nil {
		return nil, "", err
	}
	out, next := page(o, out, func(x incident.Incident) (time.Time, string, int) { return x.LastSeen, x.ID, int(x.Priority) })
	return out, next, nil
}

// CountIncidents counts the incidents of workspace matching q's filters.
func (db *DB) CountIncidents(ctx context.Context, workspace string, q store.IncidentQuery) (int, error) {
	var a args
	where, err := incidentFilter(workspace, q, &a)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE `+where, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents of %s: %w", workspace, err)
	}
	return n, nil
}

// Incident returns one incident of workspace.
func (db *DB) Incident(ctx context.Context, workspace, id string) (incident.Incident, error) {
	inc, err := loadIncident(ctx, db.pool, workspace, id)
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
	return incidentAlerts(ctx, db.pool, workspace, id)
}

// IncidentOfAlerts maps those of alertIDs that belong to an incident to
// its id.
func (db *DB) IncidentOfAlerts(ctx context.Context, workspace string, alertIDs []string) (map[string]string, error) {
	return incidentOfAlerts(ctx, db.pool, workspace, alertIDs)
}

// Timeline pages an incident's timeline, oldest first (by time, then by
// the order it was written).
func (db *DB) Timeline(ctx context.Context, workspace, id string, q store.TimelineQuery) ([]incident.TimelineEntry, string, error) {
	if _, err := db.Incident(ctx, workspace, id); err != nil {
		return nil, "", err
	}
	n := store.PageLimit(q.Limit)
	var a args
	where := "workspace = " + a.add(workspace) + " AND incident_id = " + a.add(id)
	if q.Cursor != "" {
		c, err := store.DecodeCursor(q.Cursor, cursorTimeline)
		if err != nil {
			return nil, "", fmt.Errorf("timeline of incident %s: %w", id, err)
		}
		where += " AND (time, seq) > (" + a.add(c.N) + ", " + a.add(c.M) + ")"
	}
	out, err := collect(ctx, db.pool, "timeline of incident "+id, func(r scanner) (incident.TimelineEntry, error) {
		var seq int64
		var doc []byte
		if err := r.Scan(&seq, &doc); err != nil {
			return incident.TimelineEntry{}, err
		}
		var e incident.TimelineEntry
		if err := json.Unmarshal(doc, &e); err != nil {
			return e, fmt.Errorf("timeline entry %d: %w", seq, err)
		}
		e.Seq = seq
		return e, nil
	}, `SELECT seq, doc FROM incident_timeline WHERE `+where+` ORDER BY time, seq LIMIT `+a.add(n+1), a...)
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
		next = store.EncodeCursor(cursorTimeline, store.Cursor{N: nanos(last.Time), M: last.Seq})
	}
	return out, next, nil
}

// SimilarIncidents lists up to limit other incidents of workspace most
// like incident id (store.Similarity), of the most recent that share an
// entity or a rule with it. Incidents merged into another are left out.
func (db *DB) SimilarIncidents(ctx context.Context, workspace, id string, n int) ([]incident.Similar, error) {
	inc, err := db.Incident(ctx, workspace, id)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 10
	}
	n = min(n, 100)
	rules := make([]string, len(inc.RuleIDs))
	for i, r := range inc.RuleIDs {
		rules[i] = text(r)
	}
	others, err := collect(ctx, db.pool, "incidents like "+id, scanIncidentDoc, `SELECT doc FROM incidents
		WHERE workspace = $1 AND id IN (
			SELECT id FROM (
				SELECT i.id FROM incidents i
				WHERE i.workspace = $1 AND i.id <> $2 AND i.merged_into = '' AND i.id IN (
					SELECT e.incident_id FROM incident_entities e
					JOIN incident_entities mine ON mine.workspace = e.workspace AND mine.value = e.value AND mine.type = e.type
					WHERE mine.workspace = $1 AND mine.incident_id = $2)
				ORDER BY i.last_seen DESC LIMIT $3) AS by_entity
			UNION
			SELECT id FROM (
				SELECT i.id FROM incidents i
				WHERE i.workspace = $1 AND i.id <> $2 AND i.merged_into = '' AND i.rule_ids && $4::text[]
				ORDER BY i.last_seen DESC LIMIT $3) AS by_rule)`,
		workspace, id, store.SimilarCandidates, rules)
	if err != nil {
		return nil, err
	}
	var out []incident.Similar
	for _, o := range others {
		if score, shared := store.Similarity(inc, o); score > 0 {
			out = append(out, incident.Similar{Incident: o, Score: score, Shared: shared})
		}
	}
	return store.SortSimilar(out, n), nil
}

// CorrelationCandidates; see store.IncidentCorrelation.
func (db *DB) CorrelationCandidates(ctx context.Context, closedSince time.Time) ([]incident.Incident, error) {
	return collect(ctx, db.pool, "correlation candidates", scanIncidentDoc,
		`SELECT doc FROM incidents WHERE merged_into = '' AND (status <> 'closed' OR closed >= $1) ORDER BY workspace, first_seen, id`,
		nanos(closedSince))
}

// ApplyIncidents writes correlation's updates and moves consumer's cursor
// to seq in one transaction (see store.IncidentCorrelation), as
// store/sqlite's does: an update is merged into the stored incident
// (store.MergeCorrelation) rather than written over it; an update of an
// incident closed meanwhile reopens it; one merged into another goes to
// the incident it was merged into. Each ups[i].Incident is set to the
// incident as stored, for the correlator to take back.
func (db *DB) ApplyIncidents(ctx context.Context, consumer string, seq int64, ups []store.IncidentUpdate) error {
	if consumer == "" || seq < 0 {
		return fmt.Errorf("apply incidents for consumer %q at %d: %w (want a name and a seq of 0 or more)", consumer, seq, store.ErrInvalid)
	}
	var wss []string
	for _, up := range ups {
		if up.Incident.ID == "" || up.Incident.Workspace == "" {
			return fmt.Errorf("incident update without id or workspace: %w", store.ErrInvalid)
		}
		wss = append(wss, up.Incident.Workspace)
	}
	now := db.now().UTC()
	// A failed attempt must leave ups as they came: the caller may retry.
	work := make([]store.IncidentUpdate, len(ups))
	err := db.incidentTx(ctx, "apply incident updates", wss, func(w *incidentWork) error {
		for i := range ups {
			work[i] = ups[i]
			work[i].Timeline = slices.Clone(ups[i].Timeline)
			if err := w.apply(&work[i], now); err != nil {
				return err
			}
		}
		return setCursor(ctx, w.tx, consumer, seq, now)
	})
	if err != nil {
		return err
	}
	copy(ups, work)
	return nil
}

func (w *incidentWork) apply(up *store.IncidentUpdate, now time.Time) error {
	inc := up.Incident
	kind := store.IncidentUpdated
	switch {
	case up.New:
		kind = store.IncidentCreated
	case up.Reopened:
		kind = store.IncidentReopened
	}
	if !up.New {
		stored, err := w.load(inc.Workspace, inc.ID)
		for hops := 0; err == nil && stored.MergedInto != "" && hops < store.MaxMergeHops; hops++ {
			stored, err = w.load(inc.Workspace, stored.MergedInto)
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
		templates, err := w.templates(inc.Workspace)
		if err != nil {
			return err
		}
		if kind == store.IncidentCreated {
			incident.StartTasks(&inc, templates, newIncidentID)
		} else {
			incident.AddStageTasks(&inc, templates, incident.StageAssess, newIncidentID)
		}
	}
	if err := w.link(inc.Workspace, inc.ID, up.AddAlerts, now); err != nil {
		return err
	}
	if !up.New {
		if err := w.tx.QueryRow(w.ctx, `SELECT count(*) FROM incident_alerts WHERE workspace = $1 AND incident_id = $2`,
			inc.Workspace, inc.ID).Scan(&inc.AlertCount); err != nil {
			return fmt.Errorf("incident %s: count alerts: %w", inc.ID, err)
		}
	}
	if err := w.put(&inc); err != nil {
		return err
	}
	for i := range up.Timeline {
		up.Timeline[i].IncidentID = inc.ID
	}
	if err := w.timeline(inc.Workspace, up.Timeline); err != nil {
		return err
	}
	w.change(&inc, kind, incident.CorrelationActor, now)
	up.Incident = inc
	return nil
}
