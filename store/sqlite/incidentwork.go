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
	"unicode"

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

const (
	// maxIncidentEntities bounds an incident's entity list: an incident
	// spread over more is read through its alerts.
	maxIncidentEntities = 200
	// maxHandAlerts bounds the alerts one request moves by hand.
	maxHandAlerts = 1000
	maxTitle      = 200
	// actorAssessment is who SetAssessment's writes are by.
	actorAssessment = "vigil:assessment"
)

func newIncidentID() string { return event.NewID().String() }

// refusedf is a refused request: store.ErrInvalid with the reason.
func refusedf(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), store.ErrInvalid)
}

// CreateIncident makes an incident by hand from alerts, moving them out of
// the incidents they were in (an incident left without alerts is closed as
// merged into the new one). An empty title is made from the alerts.
func (db *DB) CreateIncident(ctx context.Context, workspace, title string, alertIDs []string, actor string) (incident.Incident, error) {
	ids, err := checkHandAlerts(alertIDs, actor)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("create incident: %w", err)
	}
	if err := checkIncidentTitle(title); err != nil {
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
			inc.Title = handTitle(summaries)
		}
		incident.StartTasks(&inc, templates, newIncidentID)
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		entries := []incident.TimelineEntry{{IncidentID: inc.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor,
			Summary: fmt.Sprintf("created by hand from %d %s", len(ids), pluralWord(len(ids), "alert", "alerts"))}}
		entries = append(entries, alertEntries(inc.ID, ids, summaries, actor)...)
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
	ids, err := checkHandAlerts(alertIDs, actor)
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
			return refusedf("incident %s was merged into %s: add the alerts there", id, inc.MergedInto)
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
		if err := appendTimeline(ctx, tx, workspace, alertEntries(id, ids, summaries, actor)); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentUpdated, actor, now); err != nil {
			return err
		}
		detail := fmt.Sprintf("%d %s added: %s", len(ids), pluralWord(len(ids), "alert", "alerts"), strings.Join(ids, ", "))
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
			if err := auditIncident(ctx, tx, workspace, actor, auditAction(e), id, auditDetail(e), now); err != nil {
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
	if strings.TrimSpace(actor) == "" {
		return incident.Incident{}, fmt.Errorf("merge into incident %s: %w", into, refusedf("a merge needs an actor"))
	}
	if len(from) == 0 {
		return incident.Incident{}, fmt.Errorf("merge into incident %s: %w", into, refusedf("name the incidents to merge"))
	}
	for i, f := range from {
		if f == into {
			return incident.Incident{}, fmt.Errorf("merge into incident %s: %w", into, refusedf("an incident is not merged into itself"))
		}
		if slices.Contains(from[:i], f) {
			return incident.Incident{}, fmt.Errorf("merge into incident %s: %w", into, refusedf("incident %s named twice", f))
		}
	}
	now := db.now().UTC()
	var inc incident.Incident
	err := db.write(ctx, "merge into incident "+into, func(tx *sql.Tx) error {
		var err error
		if inc, err = loadIncident(ctx, tx, workspace, into); err != nil {
			return err
		}
		if inc.MergedInto != "" || inc.Stage == incident.StageClose {
			return refusedf("incident %s is closed: reopen it before merging into it", into)
		}
		var entries []incident.TimelineEntry
		moved := 0
		for _, f := range from {
			other, err := loadIncident(ctx, tx, workspace, f)
			if err != nil {
				return err
			}
			if other.MergedInto != "" {
				return refusedf("incident %s was merged into %s already", f, other.MergedInto)
			}
			ids, err := heldAlerts(ctx, tx, workspace, f)
			if err != nil {
				return err
			}
			if err := linkAlerts(ctx, tx, workspace, into, ids, now); err != nil {
				return err
			}
			moved += len(ids)
			inc.Tags = unionTags(inc.Tags, other.Tags)
			if err := closeMerged(ctx, tx, &other, into, actor, now); err != nil {
				return err
			}
			entries = append(entries, incident.TimelineEntry{IncidentID: into, Time: now, Kind: incident.TimelineMerge, Actor: actor,
				Summary: fmt.Sprintf("incident %s (%q, %d %s) merged into this one", f, other.Title, len(ids), pluralWord(len(ids), "alert", "alerts"))})
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
	ids, err := checkHandAlerts(alertIDs, actor)
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
			return refusedf("incident %s was merged into %s: split that one", id, inc.MergedInto)
		}
		held, err := heldAlerts(ctx, tx, workspace, id)
		if err != nil {
			return err
		}
		for _, a := range ids {
			if !slices.Contains(held, a) {
				return refusedf("alert %s is not in incident %s", a, id)
			}
		}
		if len(ids) == len(held) {
			return refusedf("splitting off all %d alerts of incident %s would leave it empty", len(held), id)
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
		split.Title = handTitle(summaries)
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
		n := fmt.Sprintf("%d %s", len(ids), pluralWord(len(ids), "alert", "alerts"))
		entries := []incident.TimelineEntry{
			{IncidentID: id, Time: now, Kind: incident.TimelineSplit, Actor: actor, Summary: fmt.Sprintf("%s split off into incident %s", n, split.ID)},
			{IncidentID: split.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor, Summary: fmt.Sprintf("split from incident %s (%q) with %s", id, inc.Title, n)},
		}
		entries = append(entries, alertEntries(split.ID, ids, summaries, actor)...)
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
		return fmt.Errorf("task templates of %s: %w", ws, refusedf("a change needs an actor"))
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
	entries = slices.Clone(entries)
	for i := range entries {
		e := &entries[i]
		switch {
		case e.IncidentID != "" && e.IncidentID != id:
			return fmt.Errorf("timeline of incident %s: %w", id, refusedf("entry %d names incident %s", i, e.IncidentID))
		case e.Kind == "" || strings.TrimSpace(e.Actor) == "":
			return fmt.Errorf("timeline of incident %s: %w", id, refusedf("entry %d needs a kind and an actor", i))
		case strings.IndexFunc(e.Kind, func(r rune) bool { return r != '_' && !unicode.IsLower(r) }) >= 0:
			return fmt.Errorf("timeline of incident %s: %w", id, refusedf("entry %d: kind %q: lower-case letters and _ only", i, e.Kind))
		}
		e.IncidentID, e.Seq = id, 0
		if e.Time.IsZero() {
			e.Time = now
		}
	}
	return db.write(ctx, "timeline of incident "+id, func(tx *sql.Tx) error {
		if _, err := loadIncident(ctx, tx, workspace, id); err != nil {
			return err
		}
		if err := appendTimeline(ctx, tx, workspace, entries); err != nil {
			return err
		}
		for _, e := range entries {
			if err := auditIncident(ctx, tx, workspace, e.Actor, auditAction(e), id, auditDetail(e), now); err != nil {
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
		if sameAssessment(inc.Assessment, next) {
			return nil
		}
		next.Updated = now
		inc.Assessment, inc.Updated = next, now
		if err := putIncident(ctx, tx, &inc); err != nil {
			return err
		}
		summary := "assessment filled in from the evidence"
		if len(next.Locked) > 0 {
			summary += " (edited sections kept: " + strings.Join(next.Locked, ", ") + ")"
		}
		e := []incident.TimelineEntry{{IncidentID: id, Time: now, Kind: incident.TimelineAssessment, Actor: actorAssessment, Summary: summary}}
		if err := appendTimeline(ctx, tx, workspace, e); err != nil {
			return err
		}
		if err := appendIncidentChange(ctx, tx, &inc, store.IncidentUpdated, actorAssessment, now); err != nil {
			return err
		}
		wrote = true
		return auditIncident(ctx, tx, workspace, actorAssessment, "incident.assessment", id, summary, now)
	})
	if err != nil {
		return err
	}
	if wrote {
		db.incidentChanges.broadcast()
	}
	return nil
}

// sameAssessment compares two assessments apart from when they were made.
func sameAssessment(a, b incident.Assessment) bool {
	a.Updated, b.Updated = time.Time{}, time.Time{}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
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
	aggregateAlerts(inc, as)
	return nil
}

// aggregateAlerts sets inc's aggregates from its alerts (oldest first).
func aggregateAlerts(inc *incident.Incident, as []alert.Alert) {
	inc.AlertCount = len(as)
	inc.Tactics, inc.Techniques, inc.RuleIDs, inc.Entities = []string{}, []string{}, []string{}, []alert.Entity{}
	if len(as) == 0 {
		return
	}
	seen := map[alert.Entity]bool{}
	inc.Severity, inc.Priority = as[0].Severity, as[0].Priority
	inc.FirstSeen, inc.LastSeen = as[0].FirstSeen, as[0].LastSeen
	for _, a := range as {
		inc.Severity = max(inc.Severity, a.Severity)
		inc.Priority = max(inc.Priority, a.Priority)
		if a.FirstSeen.Before(inc.FirstSeen) {
			inc.FirstSeen = a.FirstSeen
		}
		if a.LastSeen.After(inc.LastSeen) {
			inc.LastSeen = a.LastSeen
		}
		inc.Tactics = appendNew(inc.Tactics, a.Tactics...)
		inc.Techniques = appendNew(inc.Techniques, a.Techniques...)
		inc.RuleIDs = appendNew(inc.RuleIDs, a.Rule.ID)
		for _, e := range a.Entities {
			k := e
			if store.EntityIgnoresCase(e.Type, e.Value) {
				k.Value = store.FoldCase(e.Value)
			}
			if seen[k] || len(inc.Entities) >= maxIncidentEntities {
				continue
			}
			seen[k] = true
			inc.Entities = append(inc.Entities, e)
		}
	}
	slices.SortStableFunc(inc.Tactics, func(a, b string) int { return incident.TacticRank(a) - incident.TacticRank(b) })
}

func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
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
			Summary: fmt.Sprintf("%d %s moved to incident %s", n, pluralWord(n, "alert", "alerts"), to)}}
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

// handSummary is what a hand operation needs of an alert for its
// timeline entry and a title.
type handSummary struct {
	title    string
	severity alert.Severity
	first    time.Time
}

// handAlerts reads the alerts a hand operation names: each must be an
// alert of the workspace.
func handAlerts(ctx context.Context, tx *sql.Tx, workspace string, ids []string) (map[string]handSummary, error) {
	out := make(map[string]handSummary, len(ids))
	for _, id := range ids {
		var (
			sev, first int64
			doc        string
		)
		err := tx.QueryRowContext(ctx, `SELECT severity, first_seen, doc FROM alerts WHERE workspace = ? AND id = ?`, workspace, id).Scan(&sev, &first, &doc)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, refusedf("no alert %s in workspace %s", id, workspace)
		}
		if err != nil {
			return nil, fmt.Errorf("alert %s: %w", id, err)
		}
		var d alertDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("alert %s: corrupt document: %w", id, err)
		}
		out[id] = handSummary{title: d.Rule.Title, severity: alert.Severity(sev), first: fromNanos(first)}
	}
	return out, nil
}

// handTitle names an incident made by hand after its most severe alert.
func handTitle(s map[string]handSummary) string {
	var best handSummary
	found := false
	for _, h := range s {
		if !found || h.severity > best.severity || (h.severity == best.severity && h.title < best.title) {
			best, found = h, true
		}
	}
	if n := len(s) - 1; n > 0 {
		return fmt.Sprintf("%s and %d more %s", best.title, n, pluralWord(n, "alert", "alerts"))
	}
	return best.title
}

// alertEntries are the timeline entries of alerts joining an incident by
// hand, at each alert's first activity.
func alertEntries(incidentID string, ids []string, s map[string]handSummary, actor string) []incident.TimelineEntry {
	out := make([]incident.TimelineEntry, 0, len(ids))
	for _, id := range ids {
		out = append(out, incident.TimelineEntry{IncidentID: incidentID, Time: s[id].first, Kind: incident.TimelineAlert,
			Actor: actor, Summary: s[id].title, AlertID: id})
	}
	return out
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

func checkHandAlerts(ids []string, actor string) ([]string, error) {
	if strings.TrimSpace(actor) == "" {
		return nil, refusedf("a change needs an actor")
	}
	if len(ids) == 0 {
		return nil, refusedf("name at least one alert")
	}
	if len(ids) > maxHandAlerts {
		return nil, refusedf("%d alerts, at most %d at a time", len(ids), maxHandAlerts)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "" {
			return nil, refusedf("an empty alert id")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func checkIncidentTitle(t string) error {
	if len(t) > maxTitle {
		return refusedf("title of %d bytes, at most %d", len(t), maxTitle)
	}
	if strings.IndexFunc(t, unicode.IsControl) >= 0 {
		return refusedf("title %q: one line, no control characters", t)
	}
	return nil
}

func unionTags(tags, more []string) []string {
	for _, t := range more {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// auditIncident writes an incident action's audit line in tx.
func auditIncident(ctx context.Context, tx *sql.Tx, workspace, actor, action, target, detail string, now time.Time) error {
	return insertAudit(ctx, tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor, Action: action, Target: target, Detail: detail})
}

// auditAction names a timeline entry's action in the audit log.
func auditAction(e incident.TimelineEntry) string {
	switch e.Kind {
	case incident.TimelineStage:
		if e.Stage == incident.StageClose {
			return "incident.close"
		}
		return "incident.stage"
	case incident.TimelineReopened:
		return "incident.reopen"
	case incident.TimelineOwner:
		return "incident.assign"
	}
	return "incident." + e.Kind
}

// auditDetail is a timeline entry as an audit line's detail: its summary,
// and its text (a comment, a close reason, a failure) up to 500 bytes.
func auditDetail(e incident.TimelineEntry) string {
	if e.Text == "" {
		return e.Summary
	}
	text := e.Text
	if len(text) > 500 {
		text = strings.ToValidUTF8(text[:500], "") + "…"
	}
	return e.Summary + ": " + text
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
