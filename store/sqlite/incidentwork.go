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
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The incident workflow's writes (store.Incidents): incidents made, fed,
// merged and split by hand, responders' changes, task templates, and what
// vigil itself adds to an incident (timeline entries, the automatic
// assessment). Each runs in one transaction that also writes the timeline,
// the incident stream and the audit log, so that no change goes
// unrecorded, and broadcasts the stream's signal once committed.

func newIncidentID() string { return event.NewID().String() }

// CreateIncident makes an incident by hand from alerts, moving them out of
// the incidents they were in (an incident left without alerts is closed as
// merged into the new one). An empty title is made from the alerts.
func (db *DB) CreateIncident(ctx context.Context, workspace, title string, alertIDs []string, actor string) (incident.Incident, error) {
	ids, err := store.CheckHandAlerts(alertIDs, actor)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("create incident: %w", err)
	}
	if err := store.CheckIncidentTitle(title); err != nil {
		return incident.Incident{}, fmt.Errorf("create incident: %w", err)
	}
	now := db.now().UTC()
	inc := incident.Incident{ID: newIncidentID(), Workspace: workspace, Title: strings.TrimSpace(title),
		Stage: incident.StageDetect, Tags: []string{}, Created: now, Updated: now}
	what := "create incident in " + workspace
	err = db.write(ctx, what, func(tx *sql.Tx) error {
		summaries, err := handAlerts(ctx, tx, workspace, ids)
		if err != nil {
			return err
		}
		templates, err := taskTemplates(ctx, tx, workspace)
		if err != nil {
			return err
		}
		losers, err := moveAlerts(ctx, tx, workspace, inc.ID, ids, actor, now)
		if err != nil {
			return err
		}
		if err := refreshIncident(ctx, tx, &inc); err != nil {
			return err
		}
		if inc.Title == "" {
			inc.Title = store.HandTitle(summaries)
		}
		incident.StartTasks(&inc, templates, newIncidentID)
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		entries := []incident.TimelineEntry{{IncidentID: inc.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor,
			Summary: fmt.Sprintf("created by hand from %d %s", len(ids), store.PluralWord(len(ids), "alert", "alerts"))}}
		entries = append(entries, store.HandAlertEntries(inc.ID, ids, summaries, actor)...)
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentCreated, actor, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("%q from %d alerts", inc.Title, len(ids))
		if len(losers) > 0 {
			detail += " taken from " + strings.Join(losers, ", ")
		}
		return auditIncident(ctx, tx, workspace, actor, "incident.create", inc.ID, detail, now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	db.incidentChanges.broadcast()
	return inc, nil
}

// AddAlerts adds alerts to an incident by hand, moving them out of the
// incidents they were in. Alerts it holds already are left as they are; a
// request that adds none writes nothing.
func (db *DB) AddAlerts(ctx context.Context, workspace, id string, alertIDs []string, actor string) (incident.Incident, error) {
	ids, err := store.CheckHandAlerts(alertIDs, actor)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("add alerts to incident %s: %w", id, err)
	}
	now := db.now().UTC()
	var inc incident.Incident
	wrote := false
	err = db.write(ctx, "add alerts to incident "+id, func(tx *sql.Tx) error {
		if inc, err = loadIncident(ctx, tx, workspace, id); err != nil {
			return err
		}
		if inc.MergedInto != "" {
			return store.Refusedf("incident %s was merged into %s: add the alerts there", id, inc.MergedInto)
		}
		summaries, err := handAlerts(ctx, tx, workspace, ids)
		if err != nil {
			return err
		}
		of, err := linkedIncidents(ctx, tx, workspace, ids)
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(a string) bool { return of[a] == id })
		if len(ids) == 0 {
			return nil
		}
		losers, err := moveAlerts(ctx, tx, workspace, id, ids, actor, now)
		if err != nil {
			return err
		}
		if err := refreshIncident(ctx, tx, &inc); err != nil {
			return err
		}
		inc.Updated = now
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		if err := appendTimeline(ctx, tx, workspace, store.HandAlertEntries(id, ids, summaries, actor)); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentUpdated, actor, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("%d %s added: %s", len(ids), store.PluralWord(len(ids), "alert", "alerts"), strings.Join(ids, ", "))
		if len(losers) > 0 {
			detail += "; taken from " + strings.Join(losers, ", ")
		}
		wrote = true
		return auditIncident(ctx, tx, workspace, actor, "incident.alerts", id, detail, now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	if wrote {
		db.incidentChanges.broadcast()
	}
	return inc, nil
}

// ChangeIncident applies a responder's or automation's change
// (incident.Apply) in one transaction: the incident, one timeline entry
// and one audit line per action, and one entry of the incident stream
// (kind stage when the change moved the stage). A refused change is
// store.ErrInvalid wrapping the *incident.StageError or the reason, and
// writes nothing; a change that changes nothing writes nothing either.
func (db *DB) ChangeIncident(ctx context.Context, workspace, id string, ch incident.Change, actor string) (incident.Incident, error) {
	now := db.now().UTC()
	var inc incident.Incident
	wrote := false
	err := db.write(ctx, "change incident "+id, func(tx *sql.Tx) error {
		var err error
		if inc, err = loadIncident(ctx, tx, workspace, id); err != nil {
			return err
		}
		templates, err := taskTemplates(ctx, tx, workspace)
		if err != nil {
			return err
		}
		entries, err := incident.Apply(&inc, ch, templates, actor, now, newIncidentID)
		if err != nil {
			return fmt.Errorf("incident %s: %w: %w", id, store.ErrInvalid, err)
		}
		if len(entries) == 0 {
			return nil
		}
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		kind := store.IncidentUpdated
		if ch.Stage != nil {
			kind = store.IncidentStaged
		}
		if err := appendIncidentChange(ctx, tx, &inc, kind, actor, now); err != nil {
			return err
		}
		for _, e := range entries {
			if err := auditIncident(ctx, tx, workspace, actor, store.IncidentAuditAction(e), id, store.IncidentAuditDetail(e), now); err != nil {
				return err
			}
		}
		wrote = true
		return nil
	})
	if err != nil {
		return incident.Incident{}, err
	}
	if wrote {
		db.incidentChanges.broadcast()
	}
	return inc, nil
}

// MergeIncidents moves every alert of the incidents from into into, adds
// their tags to its own, and closes them with MergedInto set. into must be
// open: merging into a closed incident would hide the alerts.
func (db *DB) MergeIncidents(ctx context.Context, workspace, into string, from []string, actor string) (incident.Incident, error) {
	if err := store.CheckMerge(into, from, actor); err != nil {
		return incident.Incident{}, fmt.Errorf("merge into incident %s: %w", into, err)
	}
	now := db.now().UTC()
	var inc incident.Incident
	err := db.write(ctx, "merge into incident "+into, func(tx *sql.Tx) error {
		var err error
		if inc, err = loadIncident(ctx, tx, workspace, into); err != nil {
			return err
		}
		if inc.MergedInto != "" || inc.Stage == incident.StageClose {
			return store.Refusedf("incident %s is closed: reopen it before merging into it", into)
		}
		var entries []incident.TimelineEntry
		moved := 0
		for _, f := range from {
			other, err := loadIncident(ctx, tx, workspace, f)
			if err != nil {
				return err
			}
			if other.MergedInto != "" {
				return store.Refusedf("incident %s was merged into %s already", f, other.MergedInto)
			}
			ids, err := heldAlerts(ctx, tx, workspace, f)
			if err != nil {
				return err
			}
			if err := linkAlerts(ctx, tx, workspace, into, ids, now); err != nil {
				return err
			}
			moved += len(ids)
			inc.Tags = store.UnionTags(inc.Tags, other.Tags)
			if err := closeMerged(ctx, tx, &other, into, actor, now); err != nil {
				return err
			}
			entries = append(entries, incident.TimelineEntry{IncidentID: into, Time: now, Kind: incident.TimelineMerge, Actor: actor,
				Summary: fmt.Sprintf("incident %s (%q, %d %s) merged into this one", f, other.Title, len(ids), store.PluralWord(len(ids), "alert", "alerts"))})
		}
		if err := refreshIncident(ctx, tx, &inc); err != nil {
			return err
		}
		inc.Updated = now
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentMerged, actor, now); err != nil {
			return err
		}
		return auditIncident(ctx, tx, workspace, actor, "incident.merge", into,
			fmt.Sprintf("merged %s (%d alerts)", strings.Join(from, ", "), moved), now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	db.incidentChanges.broadcast()
	return inc, nil
}

// SplitIncident moves alertIDs out of the incident into a new one, in
// detect with the same owner and tags, and returns the new one. The
// incident keeps at least one alert: moving all of them is a rename, not
// a split.
func (db *DB) SplitIncident(ctx context.Context, workspace, id string, alertIDs []string, actor string) (incident.Incident, error) {
	ids, err := store.CheckHandAlerts(alertIDs, actor)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("split incident %s: %w", id, err)
	}
	now := db.now().UTC()
	var split incident.Incident
	err = db.write(ctx, "split incident "+id, func(tx *sql.Tx) error {
		inc, err := loadIncident(ctx, tx, workspace, id)
		if err != nil {
			return err
		}
		if inc.MergedInto != "" {
			return store.Refusedf("incident %s was merged into %s: split that one", id, inc.MergedInto)
		}
		held, err := heldAlerts(ctx, tx, workspace, id)
		if err != nil {
			return err
		}
		for _, a := range ids {
			if !slices.Contains(held, a) {
				return store.Refusedf("alert %s is not in incident %s", a, id)
			}
		}
		if len(ids) == len(held) {
			return store.Refusedf("splitting off all %d alerts of incident %s would leave it empty", len(held), id)
		}
		summaries, err := handAlerts(ctx, tx, workspace, ids)
		if err != nil {
			return err
		}
		templates, err := taskTemplates(ctx, tx, workspace)
		if err != nil {
			return err
		}
		split = incident.Incident{ID: newIncidentID(), Workspace: workspace, Stage: incident.StageDetect,
			Owner: inc.Owner, Tags: slices.Clone(inc.Tags), Created: now, Updated: now}
		if err := linkAlerts(ctx, tx, workspace, split.ID, ids, now); err != nil {
			return err
		}
		if err := refreshIncident(ctx, tx, &split); err != nil {
			return err
		}
		split.Title = store.HandTitle(summaries)
		incident.StartTasks(&split, templates, newIncidentID)
		if err := refreshIncident(ctx, tx, &inc); err != nil {
			return err
		}
		inc.Updated = now
		for _, i := range []*incident.Incident{&split, &inc} {
			if err := putIncident(ctx, tx, i); err != nil {
				return err
			}
		}
		n := fmt.Sprintf("%d %s", len(ids), store.PluralWord(len(ids), "alert", "alerts"))
		entries := []incident.TimelineEntry{
			{IncidentID: id, Time: now, Kind: incident.TimelineSplit, Actor: actor, Summary: fmt.Sprintf("%s split off into incident %s", n, split.ID)},
			{IncidentID: split.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor, Summary: fmt.Sprintf("split from incident %s (%q) with %s", id, inc.Title, n)},
		}
		entries = append(entries, store.HandAlertEntries(split.ID, ids, summaries, actor)...)
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentSplit, actor, now); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &split, store.IncidentCreated, actor, now); err != nil {
			return err
		}
		return auditIncident(ctx, tx, workspace, actor, "incident.split", id,
			fmt.Sprintf("%s into %s: %s", n, split.ID, strings.Join(ids, ", ")), now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	db.incidentChanges.broadcast()
	return split, nil
}

// TaskTemplates returns the workspace's task templates, one for each stage
// in stage order, or incident.DefaultTaskTemplates when it has set none.
func (db *DB) TaskTemplates(ctx context.Context, workspace string) ([]incident.TaskTemplate, error) {
	return taskTemplates(ctx, db.r, workspace)
}

// SetTaskTemplates replaces the workspace's task templates; a stage they
// leave out gets no checklist (an empty list is kept as such, not as the
// defaults).
func (db *DB) SetTaskTemplates(ctx context.Context, ws string, t []incident.TaskTemplate, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return fmt.Errorf("task templates of %s: %w", ws, store.Refusedf("a change needs an actor"))
	}
	if err := incident.CheckTaskTemplates(t); err != nil {
		return fmt.Errorf("task templates of %s: %w: %w", ws, store.ErrInvalid, err)
	}
	now := db.now().UTC()
	return db.write(ctx, "set task templates of "+ws, func(tx *sql.Tx) error {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_task_templates WHERE workspace = ?`, ws); err != nil {
			return fmt.Errorf("task templates of %s: %w", ws, err)
		}
		var counts []string
		for _, s := range incident.Stages {
			tasks := []string{}
			for _, tt := range t {
				if tt.Stage == s && tt.Tasks != nil {
					tasks = tt.Tasks
				}
			}
			doc, err := json.Marshal(tasks)
			if err != nil {
				return fmt.Errorf("task templates of %s: encode: %w", ws, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_task_templates (workspace, stage, tasks, updated) VALUES (?, ?, ?, ?)`,
				ws, string(s), string(doc), nanos(now)); err != nil {
				return fmt.Errorf("task templates of %s: %w", ws, err)
			}
			counts = append(counts, fmt.Sprintf("%s %d", s, len(tasks)))
		}
		return auditIncident(ctx, tx, ws, actor, "incident.templates", "task-templates", strings.Join(counts, ", "), now)
	})
}

// rowsQuerier is what taskTemplates reads through: the read pool or a
// transaction.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func taskTemplates(ctx context.Context, q rowsQuerier, workspace string) ([]incident.TaskTemplate, error) {
	rows, err := q.QueryContext(ctx, `SELECT stage, tasks FROM incident_task_templates WHERE workspace = ?`, workspace)
	if err != nil {
		return nil, fmt.Errorf("task templates of %s: %w", workspace, err)
	}
	defer rows.Close()
	byStage := map[incident.Stage][]string{}
	for rows.Next() {
		var stage, doc string
		if err := rows.Scan(&stage, &doc); err != nil {
			return nil, fmt.Errorf("task templates of %s: %w", workspace, err)
		}
		var tasks []string
		if err := json.Unmarshal([]byte(doc), &tasks); err != nil {
			return nil, fmt.Errorf("task templates of %s: stage %s: decode: %w", workspace, stage, err)
		}
		byStage[incident.Stage(stage)] = tasks
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("task templates of %s: %w", workspace, err)
	}
	if len(byStage) == 0 {
		return incident.DefaultTaskTemplates(), nil
	}
	out := make([]incident.TaskTemplate, 0, len(incident.Stages))
	for _, s := range incident.Stages {
		tasks := byStage[s]
		if tasks == nil {
			tasks = []string{}
		}
		out = append(out, incident.TaskTemplate{Stage: s, Tasks: tasks})
	}
	return out, nil
}

// AppendTimeline adds entries vigil wrote (automation, playbooks,
// decisions) to an incident's timeline, each with an audit line
// (incident.<kind>). It leaves the incident and its stream alone: the
// entries record what was done to the world, not a change of the
// incident, so that automation reading the stream does not see its own
// notes as news.
func (db *DB) AppendTimeline(ctx context.Context, workspace, id string, entries []incident.TimelineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := db.now().UTC()
	entries, err := store.CheckTimelineEntries(id, entries, now)
	if err != nil {
		return fmt.Errorf("timeline of incident %s: %w", id, err)
	}
	return db.write(ctx, "timeline of incident "+id, func(tx *sql.Tx) error {
		if _, err := loadIncident(ctx, tx, workspace, id); err != nil {
			return err
		}
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		for _, e := range entries {
			if err := auditIncident(ctx, tx, workspace, e.Actor, store.IncidentAuditAction(e), id, store.IncidentAuditDetail(e), now); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetAssessment stores an automatic assessment, keeping the sections a
// responder edited (Locked) as they are. An assessment equal to the stored
// one writes nothing; a different one writes the incident, a timeline
// entry, an audit line and an updated entry of the incident stream (by
// vigil:assessment).
func (db *DB) SetAssessment(ctx context.Context, workspace, id string, a incident.Assessment) error {
	now := db.now().UTC()
	wrote := false
	err := db.write(ctx, "assessment of incident "+id, func(tx *sql.Tx) error {
		inc, err := loadIncident(ctx, tx, workspace, id)
		if err != nil {
			return err
		}
		next := incident.KeepLocked(inc.Assessment, a)
		if store.SameAssessment(inc.Assessment, next) {
			return nil
		}
		next.Updated = now
		inc.Assessment, inc.Updated = next, now
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		summary := store.AssessmentSummary(next)
		e := []incident.TimelineEntry{{IncidentID: id, Time: now, Kind: incident.TimelineAssessment, Actor: store.ActorAssessment, Summary: summary}}
		if err := appendTimeline(ctx, tx, workspace, e); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentUpdated, store.ActorAssessment, now); err != nil {
			return err
		}
		wrote = true
		return auditIncident(ctx, tx, workspace, store.ActorAssessment, "incident.assessment", id, summary, now)
	})
	if err != nil {
		return err
	}
	if wrote {
		db.incidentChanges.broadcast()
	}
	return nil
}

// refreshIncident works out inc's aggregates from the alerts it holds in
// the alerts table: AlertCount, Severity (the worst), Priority (the
// highest), Tactics in kill-chain order, Techniques and RuleIDs in the
// order first seen, Entities (union, at most maxIncidentEntities) and
// FirstSeen/LastSeen. An incident without alerts keeps its time span and
// severity for the record. Every operation that moves alerts between
// incidents calls it on the incidents that gained or lost some.
func refreshIncident(ctx context.Context, tx *sql.Tx, inc *incident.Incident) error {
	rows, err := tx.QueryContext(ctx, `SELECT severity, rule_id, first_seen, last_seen, priority, doc FROM alerts
		WHERE workspace = ? AND id IN (SELECT alert_id FROM incident_alerts WHERE workspace = ? AND incident_id = ?)
		ORDER BY first_seen, id`, inc.Workspace, inc.Workspace, inc.ID)
	if err != nil {
		return fmt.Errorf("incident %s: read its alerts: %w", inc.ID, err)
	}
	defer rows.Close()
	var as []alert.Alert
	for rows.Next() {
		var (
			a                      alert.Alert
			sev, first, last, prio int64
			rule, doc              string
		)
		if err := rows.Scan(&sev, &rule, &first, &last, &prio, &doc); err != nil {
			return fmt.Errorf("incident %s: read its alerts: %w", inc.ID, err)
		}
		var d alertDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return fmt.Errorf("incident %s: an alert's document: %w", inc.ID, err)
		}
		a.Severity, a.Priority = alert.Severity(sev), int(prio)
		a.Rule, a.Rule.ID = d.Rule, rule
		a.FirstSeen, a.LastSeen = fromNanos(first), fromNanos(last)
		a.Tactics, a.Techniques, a.Entities = d.Tactics, d.Techniques, d.Entities
		a.Type, a.Compromised, a.Assets, a.Origin, a.Intent = d.Type, d.Compromised, d.Assets, d.Origin, d.Intent
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("incident %s: read its alerts: %w", inc.ID, err)
	}
	store.AggregateAlerts(inc, as)
	return nil
}

// moveAlerts puts alerts in incident to, out of the incidents they were
// in. Each incident that lost alerts gets its aggregates worked out again,
// a timeline entry and a stream entry; one left without alerts is closed
// as merged into to. It returns the ids of the incidents that lost
// alerts.
func moveAlerts(ctx context.Context, tx *sql.Tx, workspace, to string, ids []string, actor string, now time.Time) ([]string, error) {
	of, err := linkedIncidents(ctx, tx, workspace, ids)
	if err != nil {
		return nil, err
	}
	lost := map[string]int{}
	var losers []string
	for _, a := range ids {
		if from, ok := of[a]; ok && from != to {
			if lost[from] == 0 {
				losers = append(losers, from)
			}
			lost[from]++
		}
	}
	if err := linkAlerts(ctx, tx, workspace, to, ids, now); err != nil {
		return nil, err
	}
	for _, from := range losers {
		inc, err := loadIncident(ctx, tx, workspace, from)
		if err != nil {
			return nil, err
		}
		if err := refreshIncident(ctx, tx, &inc); err != nil {
			return nil, err
		}
		if inc.AlertCount == 0 && inc.MergedInto == "" {
			if err := closeMerged(ctx, tx, &inc, to, actor, now); err != nil {
				return nil, err
			}
			continue
		}
		inc.Updated = now
		if err := putIncident(ctx, tx, &inc); err != nil {
			return nil, err
		}
		n := lost[from]
		e := []incident.TimelineEntry{{IncidentID: from, Time: now, Kind: incident.TimelineSplit, Actor: actor,
			Summary: fmt.Sprintf("%d %s moved to incident %s", n, store.PluralWord(n, "alert", "alerts"), to)}}
		if err := appendTimeline(ctx, tx, workspace, e); err != nil {
			return nil, err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentSplit, actor, now); err != nil {
			return nil, err
		}
	}
	return losers, nil
}

// closeMerged closes inc as merged into into: its alerts are gone (moved
// already), it is closed without a classification of its own (into's will
// be the one that counts), and its stream and timeline say so.
func closeMerged(ctx context.Context, tx *sql.Tx, inc *incident.Incident, into, actor string, now time.Time) error {
	if err := refreshIncident(ctx, tx, inc); err != nil {
		return err
	}
	wasClosed := inc.Stage == incident.StageClose
	inc.Stage, inc.MergedInto, inc.Updated = incident.StageClose, into, now
	if !wasClosed {
		closed := now
		inc.Closed, inc.CloseReason = &closed, "merged into incident "+into
	}
	if err := putIncident(ctx, tx, inc); err != nil {
		return err
	}
	e := []incident.TimelineEntry{{IncidentID: inc.ID, Time: now, Kind: incident.TimelineMerge, Actor: actor, Stage: incident.StageClose,
		Summary: "merged into incident " + into}}
	if err := appendTimeline(ctx, tx, inc.Workspace, e); err != nil {
		return err
	}
	return appendIncidentChange(ctx, tx, inc, store.IncidentMerged, actor, now)
}

// handAlerts reads the alerts a hand operation names: each must be an
// alert of the workspace.
func handAlerts(ctx context.Context, tx *sql.Tx, workspace string, ids []string) (map[string]store.HandAlert, error) {
	out := make(map[string]store.HandAlert, len(ids))
	for _, id := range ids {
		var (
			sev, first int64
			doc        string
		)
		err := tx.QueryRowContext(ctx, `SELECT severity, first_seen, doc FROM alerts WHERE workspace = ? AND id = ?`, workspace, id).Scan(&sev, &first, &doc)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.Refusedf("no alert %s in workspace %s", id, workspace)
		}
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", id, err)
		}
		var d alertDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("alert %s: corrupt document: %w", id, err)
		}
		out[id] = store.HandAlert{Title: d.Rule.Title, Severity: alert.Severity(sev), First: fromNanos(first)}
	}
	return out, nil
}

// linkedIncidents maps each of ids that is in an incident to it.
func linkedIncidents(ctx context.Context, tx *sql.Tx, workspace string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		var inc string
		err := tx.QueryRowContext(ctx, `SELECT incident_id FROM incident_alerts WHERE workspace = ? AND alert_id = ?`, workspace, id).Scan(&inc)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("incident of alert %s: %w", id, err)
		}
		out[id] = inc
	}
	return out, nil
}

// heldAlerts lists the ids of an incident's alerts, oldest link
// first.
func heldAlerts(ctx context.Context, tx *sql.Tx, workspace, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT alert_id FROM incident_alerts WHERE workspace = ? AND incident_id = ? ORDER BY added, alert_id`, workspace, id)
	if err != nil {
		return nil, fmt.Errorf("alerts of incident %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("alerts of incident %s: %w", id, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts of incident %s: %w", id, err)
	}
	return out, nil
}

// auditIncident writes an incident action's audit line in tx.
func auditIncident(ctx context.Context, tx *sql.Tx, workspace, actor, action, target, detail string, now time.Time) error {
	return insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor, Action: action, Target: target, Detail: detail})
}
