package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The incident workflow's writes (store.Incidents), as store/sqlite makes
// them: incidents made, fed, merged and split by hand, responders'
// changes, task templates, and what vigil itself adds to an incident. Each
// runs in one transaction (incidentTx) that also writes the timeline, the
// incident stream and the audit log, so that no change goes unrecorded.

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
	var inc incident.Incident
	err = db.incidentTx(ctx, "create incident in "+workspace, []string{workspace}, func(w *incidentWork) error {
		inc = incident.Incident{ID: newIncidentID(), Workspace: workspace, Title: strings.TrimSpace(title),
			Stage: incident.StageDetect, Tags: []string{}, Created: now, Updated: now}
		summaries, err := w.handAlerts(workspace, ids)
		if err != nil {
			return err
		}
		templates, err := w.templates(workspace)
		if err != nil {
			return err
		}
		losers, err := w.moveAlerts(workspace, inc.ID, ids, actor, now)
		if err != nil {
			return err
		}
		if err := w.refresh(&inc); err != nil {
			return err
		}
		if inc.Title == "" {
			inc.Title = store.HandTitle(summaries)
		}
		incident.StartTasks(&inc, templates, newIncidentID)
		if err := w.put(&inc); err != nil {
			return err
		}
		entries := []incident.TimelineEntry{{IncidentID: inc.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor,
			Summary: fmt.Sprintf("created by hand from %d %s", len(ids), store.PluralWord(len(ids), "alert", "alerts"))}}
		entries = append(entries, store.HandAlertEntries(inc.ID, ids, summaries, actor)...)
		if err := w.timeline(workspace, entries); err != nil {
			return err
		}
		w.change(&inc, store.IncidentCreated, actor, now)
		detail := fmt.Sprintf("%q from %d alerts", inc.Title, len(ids))
		if len(losers) > 0 {
			detail += " taken from " + strings.Join(losers, ", ")
		}
		return w.audit(workspace, actor, "incident.create", inc.ID, detail, now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
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
	err = db.incidentTx(ctx, "add alerts to incident "+id, []string{workspace}, func(w *incidentWork) error {
		var err error
		if inc, err = w.load(workspace, id); err != nil {
			return err
		}
		if inc.MergedInto != "" {
			return store.Refusedf("incident %s was merged into %s: add the alerts there", id, inc.MergedInto)
		}
		summaries, err := w.handAlerts(workspace, ids)
		if err != nil {
			return err
		}
		of, err := w.linked(workspace, ids)
		if err != nil {
			return err
		}
		add := slices.DeleteFunc(slices.Clone(ids), func(a string) bool { return of[a] == id })
		if len(add) == 0 {
			return nil
		}
		losers, err := w.moveAlerts(workspace, id, add, actor, now)
		if err != nil {
			return err
		}
		if err := w.refresh(&inc); err != nil {
			return err
		}
		inc.Updated = now
		if err := w.put(&inc); err != nil {
			return err
		}
		if err := w.timeline(workspace, store.HandAlertEntries(id, add, summaries, actor)); err != nil {
			return err
		}
		w.change(&inc, store.IncidentUpdated, actor, now)
		detail := fmt.Sprintf("%d %s added: %s", len(add), store.PluralWord(len(add), "alert", "alerts"), strings.Join(add, ", "))
		if len(losers) > 0 {
			detail += "; taken from " + strings.Join(losers, ", ")
		}
		return w.audit(workspace, actor, "incident.alerts", id, detail, now)
	})
	if err != nil {
		return incident.Incident{}, err
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
	err := db.incidentTx(ctx, "change incident "+id, []string{workspace}, func(w *incidentWork) error {
		var err error
		if inc, err = w.load(workspace, id); err != nil {
			return err
		}
		templates, err := w.templates(workspace)
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
		if err := w.put(&inc); err != nil {
			return err
		}
		if err := w.timeline(workspace, entries); err != nil {
			return err
		}
		kind := store.IncidentUpdated
		if ch.Stage != nil {
			kind = store.IncidentStaged
		}
		w.change(&inc, kind, actor, now)
		for _, e := range entries {
			if err := w.audit(workspace, actor, store.IncidentAuditAction(e), id, store.IncidentAuditDetail(e), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return incident.Incident{}, err
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
	err := db.incidentTx(ctx, "merge into incident "+into, []string{workspace}, func(w *incidentWork) error {
		var err error
		if inc, err = w.load(workspace, into); err != nil {
			return err
		}
		if inc.MergedInto != "" || inc.Stage == incident.StageClose {
			return store.Refusedf("incident %s is closed: reopen it before merging into it", into)
		}
		var entries []incident.TimelineEntry
		moved := 0
		for _, f := range from {
			other, err := w.load(workspace, f)
			if err != nil {
				return err
			}
			if other.MergedInto != "" {
				return store.Refusedf("incident %s was merged into %s already", f, other.MergedInto)
			}
			ids, err := w.held(workspace, f)
			if err != nil {
				return err
			}
			if err := w.link(workspace, into, ids, now); err != nil {
				return err
			}
			moved += len(ids)
			inc.Tags = store.UnionTags(inc.Tags, other.Tags)
			if err := w.closeMerged(&other, into, actor, now); err != nil {
				return err
			}
			entries = append(entries, incident.TimelineEntry{IncidentID: into, Time: now, Kind: incident.TimelineMerge, Actor: actor,
				Summary: fmt.Sprintf("incident %s (%q, %d %s) merged into this one", f, other.Title, len(ids), store.PluralWord(len(ids), "alert", "alerts"))})
		}
		if err := w.refresh(&inc); err != nil {
			return err
		}
		inc.Updated = now
		if err := w.put(&inc); err != nil {
			return err
		}
		if err := w.timeline(workspace, entries); err != nil {
			return err
		}
		w.change(&inc, store.IncidentMerged, actor, now)
		return w.audit(workspace, actor, "incident.merge", into, fmt.Sprintf("merged %s (%d alerts)", strings.Join(from, ", "), moved), now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
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
	err = db.incidentTx(ctx, "split incident "+id, []string{workspace}, func(w *incidentWork) error {
		inc, err := w.load(workspace, id)
		if err != nil {
			return err
		}
		if inc.MergedInto != "" {
			return store.Refusedf("incident %s was merged into %s: split that one", id, inc.MergedInto)
		}
		held, err := w.held(workspace, id)
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
		summaries, err := w.handAlerts(workspace, ids)
		if err != nil {
			return err
		}
		templates, err := w.templates(workspace)
		if err != nil {
			return err
		}
		split = incident.Incident{ID: newIncidentID(), Workspace: workspace, Stage: incident.StageDetect,
			Owner: inc.Owner, Tags: slices.Clone(inc.Tags), Created: now, Updated: now}
		if err := w.link(workspace, split.ID, ids, now); err != nil {
			return err
		}
		if err := w.refresh(&split); err != nil {
			return err
		}
		split.Title = store.HandTitle(summaries)
		incident.StartTasks(&split, templates, newIncidentID)
		if err := w.refresh(&inc); err != nil {
			return err
		}
		inc.Updated = now
		for _, i := range []*incident.Incident{&split, &inc} {
			if err := w.put(i); err != nil {
				return err
			}
		}
		n := fmt.Sprintf("%d %s", len(ids), store.PluralWord(len(ids), "alert", "alerts"))
		entries := []incident.TimelineEntry{
			{IncidentID: id, Time: now, Kind: incident.TimelineSplit, Actor: actor, Summary: fmt.Sprintf("%s split off into incident %s", n, split.ID)},
			{IncidentID: split.ID, Time: now, Kind: incident.TimelineCreated, Actor: actor, Summary: fmt.Sprintf("split from incident %s (%q) with %s", id, inc.Title, n)},
		}
		entries = append(entries, store.HandAlertEntries(split.ID, ids, summaries, actor)...)
		if err := w.timeline(workspace, entries); err != nil {
			return err
		}
		w.change(&inc, store.IncidentSplit, actor, now)
		w.change(&split, store.IncidentCreated, actor, now)
		return w.audit(workspace, actor, "incident.split", id, fmt.Sprintf("%s into %s: %s", n, split.ID, strings.Join(ids, ", ")), now)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	return split, nil
}

// TaskTemplates returns the workspace's task templates, one for each stage
// in stage order, or incident.DefaultTaskTemplates when it has set none.
func (db *DB) TaskTemplates(ctx context.Context, workspace string) ([]incident.TaskTemplate, error) {
	return taskTemplates(ctx, db.pool, workspace)
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
	return db.incidentTx(ctx, "set task templates of "+ws, []string{ws}, func(w *incidentWork) error {
		if _, err := workspace(ctx, w.tx, ws); err != nil {
			return err
		}
		if _, err := w.tx.Exec(ctx, `DELETE FROM incident_task_templates WHERE workspace = $1`, ws); err != nil {
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
			if _, err := w.tx.Exec(ctx, `INSERT INTO incident_task_templates (workspace, stage, tasks, updated) VALUES ($1, $2, $3, $4)`,
				ws, string(s), doc, nanos(now)); err != nil {
				return fmt.Errorf("task templates of %s: %w", ws, err)
			}
			counts = append(counts, fmt.Sprintf("%s %d", s, len(tasks)))
		}
		return w.audit(ws, actor, "incident.templates", "task-templates", strings.Join(counts, ", "), now)
	})
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
	return db.incidentTx(ctx, "timeline of incident "+id, []string{workspace}, func(w *incidentWork) error {
		if _, err := w.load(workspace, id); err != nil {
			return err
		}
		if err := w.timeline(workspace, entries); err != nil {
			return err
		}
		for _, e := range entries {
			if err := w.audit(workspace, e.Actor, store.IncidentAuditAction(e), id, store.IncidentAuditDetail(e), now); err != nil {
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
	return db.incidentTx(ctx, "assessment of incident "+id, []string{workspace}, func(w *incidentWork) error {
		inc, err := w.load(workspace, id)
		if err != nil {
			return err
		}
		next := incident.KeepLocked(inc.Assessment, a)
		if store.SameAssessment(inc.Assessment, next) {
			return nil
		}
		next.Updated = now
		inc.Assessment, inc.Updated = next, now
		if err := w.put(&inc); err != nil {
			return err
		}
		summary := store.AssessmentSummary(next)
		e := []incident.TimelineEntry{{IncidentID: id, Time: now, Kind: incident.TimelineAssessment, Actor: store.ActorAssessment, Summary: summary}}
		if err := w.timeline(workspace, e); err != nil {
			return err
		}
		w.change(&inc, store.IncidentUpdated, store.ActorAssessment, now)
		return w.audit(workspace, store.ActorAssessment, "incident.assessment", id, summary, now)
	})
}
