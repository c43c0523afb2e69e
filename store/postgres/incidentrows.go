package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// The row-level writes and reads every incident operation shares
// (correlation's ApplyIncidents, the workflow's changes, merges and
// splits), so that an incident is kept one way.

// incidentWorkLock is the class of the transaction advisory locks that
// incident writes take on each workspace they touch (the second key
// hashes the schema and the workspace): an incident is read, changed and
// written back, so two writers of one workspace — in this process or
// another — go one after the other, as SQLite's single writer makes them.
const incidentWorkLock = 0x7669_6735

// incidentWork is one transaction of incident writes: the changes it
// appends to the incident stream are written last (streams.go).
type incidentWork struct {
	ctx     context.Context
	tx      pgx.Tx
	db      *DB
	changes []store.IncidentChange
}

// incidentTx runs fn in one transaction holding the incident locks of
// workspaces, appends the stream changes fn made, and wakes the stream's
// consumers once it committed.
func (db *DB) incidentTx(ctx context.Context, what string, workspaces []string, fn func(w *incidentWork) error) error {
	wrote := false
	err := db.tx(ctx, what, func(tx pgx.Tx) error {
		w := &incidentWork{ctx: ctx, tx: tx, db: db}
		if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock($1, k)) FROM
			(SELECT DISTINCT hashtext(current_schema() || '/' || ws) AS k FROM unnest($2::text[]) AS ws ORDER BY 1) AS keys`,
			int32(incidentWorkLock), workspaces); err != nil {
			return fmt.Errorf("%s: lock: %w", what, err)
		}
		if err := fn(w); err != nil {
			return err
		}
		wrote = len(w.changes) > 0
		return db.appendIncidentChanges(ctx, tx, w.changes)
	})
	if err != nil {
		return err
	}
	if wrote {
		db.streams.incidents.broadcast()
	}
	return nil
}

func newIncidentID() string { return event.NewID().String() }

// asciiLower lowers ASCII letters alone, as the text filter compares.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// put writes inc (insert or replace) with its entities.
func (w *incidentWork) put(inc *incident.Incident) error {
	if inc.Tags == nil {
		inc.Tags = []string{}
	}
	inc.Status = incident.StatusOf(inc.Stage)
	doc, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("incident %s: encode: %w", inc.ID, err)
	}
	tags := make([]string, len(inc.Tags))
	for i, t := range inc.Tags {
		tags[i] = text(t)
	}
	rules := make([]string, len(inc.RuleIDs))
	for i, r := range inc.RuleIDs {
		rules[i] = text(r)
	}
	var values, folds [][]byte
	var types []string
	seen := map[string]bool{}
	for _, e := range inc.Entities {
		v := e.Value
		if store.EntityIgnoresCase(e.Type, v) {
			v = store.FoldCase(v)
		}
		if k := text(e.Type) + "\x00" + v; !seen[k] {
			seen[k] = true
			values, types, folds = append(values, []byte(v)), append(types, text(e.Type)), append(folds, []byte(asciiLower(e.Value)))
		}
	}
	var b pgx.Batch
	b.Queue(`INSERT INTO incidents (workspace, id, stage, status, severity, priority, owner, first_seen, last_seen,
			created, updated, closed, merged_into, title_fold, tags, rule_ids, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (workspace, id) DO UPDATE SET stage = excluded.stage, status = excluded.status,
			severity = excluded.severity, priority = excluded.priority, owner = excluded.owner,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated = excluded.updated,
			closed = excluded.closed, merged_into = excluded.merged_into, title_fold = excluded.title_fold,
			tags = excluded.tags, rule_ids = excluded.rule_ids, doc = excluded.doc`,
		inc.Workspace, inc.ID, string(inc.Stage), string(inc.Status), int(inc.Severity), inc.Priority, text(inc.Owner),
		nanos(inc.FirstSeen), nanos(inc.LastSeen), nanos(inc.Created), nanos(inc.Updated), nullNanos(inc.Closed),
		inc.MergedInto, asciiLower(text(inc.Title)), tags, rules, doc)
	// The entity rows change by difference, in two statements: an
	// incident lists up to hundreds of entities and gains a few at a time.
	b.Queue(`DELETE FROM incident_entities WHERE workspace = $1 AND incident_id = $2
		AND (value, type) NOT IN (SELECT * FROM unnest($3::bytea[], $4::text[]))`, inc.Workspace, inc.ID, values, types)
	b.Queue(`INSERT INTO incident_entities (workspace, value, type, incident_id, fold)
		SELECT $1, v, t, $2, f FROM unnest($3::bytea[], $4::text[], $5::bytea[]) AS e (v, t, f)
		ON CONFLICT DO NOTHING`, inc.Workspace, inc.ID, values, types, folds)
	if err := w.tx.SendBatch(w.ctx, &b).Close(); err != nil {
		return fmt.Errorf("incident %s: write: %w", inc.ID, err)
	}
	return nil
}

// loadIncident reads one incident: store.ErrNotFound when there is none.
func loadIncident(ctx context.Context, q querier, workspace, id string) (incident.Incident, error) {
	var doc []byte
	err := q.QueryRow(ctx, `SELECT doc FROM incidents WHERE workspace = $1 AND id = $2`, workspace, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return incident.Incident{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return incident.Incident{}, fmt.Errorf("incident %s: read: %w", id, err)
	}
	return decodeIncident(doc)
}

func (w *incidentWork) load(workspace, id string) (incident.Incident, error) {
	return loadIncident(w.ctx, w.tx, workspace, id)
}

func decodeIncident(doc []byte) (incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal(doc, &inc); err != nil {
		return inc, fmt.Errorf("incident: decode: %w", err)
	}
	return inc, nil
}

func scanIncidentDoc(r scanner) (incident.Incident, error) {
	var doc []byte
	if err := r.Scan(&doc); err != nil {
		return incident.Incident{}, err
	}
	return decodeIncident(doc)
}

// timeline writes entries to their incident's timeline (each entry names
// its incident), setting their Seq.
func (w *incidentWork) timeline(workspace string, entries []incident.TimelineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var b pgx.Batch
	for i := range entries {
		e := &entries[i]
		doc, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("incident %s: timeline: encode: %w", e.IncidentID, err)
		}
		b.Queue(`INSERT INTO incident_timeline (workspace, incident_id, time, kind, actor, doc) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
			workspace, e.IncidentID, nanos(e.Time), text(e.Kind), text(e.Actor), doc).QueryRow(func(r pgx.Row) error {
			return r.Scan(&e.Seq)
		})
	}
	if err := w.tx.SendBatch(w.ctx, &b).Close(); err != nil {
		return fmt.Errorf("incident %s: timeline: %w", entries[0].IncidentID, err)
	}
	return nil
}

// change notes an entry of the incident stream, written when the
// transaction ends.
func (w *incidentWork) change(inc *incident.Incident, kind store.IncidentChangeKind, actor string, at time.Time) {
	w.changes = append(w.changes, store.IncidentChange{Workspace: inc.Workspace, IncidentID: inc.ID, Kind: kind,
		Stage: inc.Stage, Actor: actor, At: at})
}

// link puts alerts in an incident, moving them out of any other: an alert
// belongs to one incident at a time.
func (w *incidentWork) link(workspace, incidentID string, alertIDs []string, at time.Time) error {
	if len(alertIDs) == 0 {
		return nil
	}
	ids := slices.Clone(alertIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids) // an upsert may not touch a row twice
	_, err := w.tx.Exec(w.ctx, `INSERT INTO incident_alerts (workspace, alert_id, incident_id, added)
		SELECT $1, a, $2, $3 FROM unnest($4::text[]) AS a
		ON CONFLICT (workspace, alert_id) DO UPDATE SET incident_id = excluded.incident_id, added = excluded.added`,
		workspace, incidentID, nanos(at), ids)
	if err != nil {
		return fmt.Errorf("incident %s: link %d alerts: %w", incidentID, len(ids), err)
	}
	return nil
}

// refresh works out inc's aggregates from the alerts it holds
// (store.AggregateAlerts). Every operation that moves alerts between
// incidents calls it on the incidents that gained or lost some.
func (w *incidentWork) refresh(inc *incident.Incident) error {
	as, err := collect(w.ctx, w.tx, "incident "+inc.ID+": its alerts", scanAlert, `SELECT `+alertColumns+` FROM alerts
		WHERE workspace = $1 AND id IN (SELECT alert_id FROM incident_alerts WHERE workspace = $1 AND incident_id = $2)
		ORDER BY first_seen, id`, inc.Workspace, inc.ID)
	if err != nil {
		return err
	}
	store.AggregateAlerts(inc, as)
	return nil
}

// audit writes an incident action's audit line.
func (w *incidentWork) audit(workspace, actor, action, target, detail string, now time.Time) error {
	return insertAudit(w.ctx, w.tx, store.AuditEntry{Workspace: workspace, Time: now, Actor: actor, Action: action, Target: target, Detail: detail})
}

// handAlerts reads the alerts a hand operation names: each must be an
// alert of the workspace.
func (w *incidentWork) handAlerts(workspace string, ids []string) (map[string]store.HandAlert, error) {
	out := make(map[string]store.HandAlert, len(ids))
	rows, err := w.tx.Query(w.ctx, `SELECT id, severity, first_seen, doc FROM alerts WHERE workspace = $1 AND id = ANY($2)`, workspace, ids)
	if err != nil {
		return nil, fmt.Errorf("alerts of workspace %s: %w", workspace, err)
	}
	var (
		id         string
		sev        int
		first      int64
		doc        []byte
		d          struct{ Rule alert.RuleRef }
		decodeFail error
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &sev, &first, &doc}, func() error {
		d.Rule = alert.RuleRef{}
		if err := json.Unmarshal(doc, &d); err != nil {
			decodeFail = fmt.Errorf("alert %s: corrupt document: %w", id, err)
			return decodeFail
		}
		out[id] = store.HandAlert{Title: d.Rule.Title, Severity: alert.Severity(sev), First: fromNanos(first)}
		return nil
	})
	if decodeFail != nil {
		return nil, decodeFail
	}
	if err != nil {
		return nil, fmt.Errorf("alerts of workspace %s: %w", workspace, err)
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, store.Refusedf("no alert %s in workspace %s", id, workspace)
		}
	}
	return out, nil
}

// linked maps each of ids that is in an incident to it.
func (w *incidentWork) linked(workspace string, ids []string) (map[string]string, error) {
	return incidentOfAlerts(w.ctx, w.tx, workspace, ids)
}

func incidentOfAlerts(ctx context.Context, q querier, workspace string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	rows, err := q.Query(ctx, `SELECT alert_id, incident_id FROM incident_alerts WHERE workspace = $1 AND alert_id = ANY($2)`, workspace, ids)
	if err != nil {
		return nil, fmt.Errorf("incidents of alerts in %s: %w", workspace, err)
	}
	var a, i string
	if _, err := pgx.ForEachRow(rows, []any{&a, &i}, func() error {
		out[a] = i
		return nil
	}); err != nil {
		return nil, fmt.Errorf("incidents of alerts in %s: %w", workspace, err)
	}
	return out, nil
}

// held lists the ids of an incident's alerts, oldest link first.
func (w *incidentWork) held(workspace, id string) ([]string, error) {
	return incidentAlerts(w.ctx, w.tx, workspace, id)
}

func incidentAlerts(ctx context.Context, q querier, workspace, id string) ([]string, error) {
	out, err := collect(ctx, q, "alerts of incident "+id, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT alert_id FROM incident_alerts WHERE workspace = $1 AND incident_id = $2 ORDER BY added, alert_id`, workspace, id)
	if out == nil && err == nil {
		out = []string{}
	}
	return out, err
}

// moveAlerts puts alerts in incident to, out of the incidents they were
// in. Each incident that lost alerts gets its aggregates worked out again,
// a timeline entry and a stream entry; one left without alerts is closed
// as merged into to. It returns the ids of the incidents that lost
// alerts.
func (w *incidentWork) moveAlerts(workspace, to string, ids []string, actor string, now time.Time) ([]string, error) {
	of, err := w.linked(workspace, ids)
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
	if err := w.link(workspace, to, ids, now); err != nil {
		return nil, err
	}
	for _, from := range losers {
		inc, err := w.load(workspace, from)
		if err != nil {
			return nil, err
		}
		if err := w.refresh(&inc); err != nil {
			return nil, err
		}
		if inc.AlertCount == 0 && inc.MergedInto == "" {
			if err := w.closeMerged(&inc, to, actor, now); err != nil {
				return nil, err
			}
			continue
		}
		inc.Updated = now
		if err := w.put(&inc); err != nil {
			return nil, err
		}
		n := lost[from]
		e := []incident.TimelineEntry{{IncidentID: from, Time: now, Kind: incident.TimelineSplit, Actor: actor,
			Summary: fmt.Sprintf("%d %s moved to incident %s", n, store.PluralWord(n, "alert", "alerts"), to)}}
		if err := w.timeline(workspace, e); err != nil {
			return nil, err
		}
		w.change(&inc, store.IncidentSplit, actor, now)
	}
	return losers, nil
}

// closeMerged closes inc as merged into into: its alerts are gone (moved
// already), it is closed without a classification of its own (into's will
// be the one that counts), and its stream and timeline say so.
func (w *incidentWork) closeMerged(inc *incident.Incident, into, actor string, now time.Time) error {
	if err := w.refresh(inc); err != nil {
		return err
	}
	wasClosed := inc.Stage == incident.StageClose
	inc.Stage, inc.MergedInto, inc.Updated = incident.StageClose, into, now
	if !wasClosed {
		closed := now
		inc.Closed, inc.CloseReason = &closed, "merged into incident "+into
	}
	if err := w.put(inc); err != nil {
		return err
	}
	e := []incident.TimelineEntry{{IncidentID: inc.ID, Time: now, Kind: incident.TimelineMerge, Actor: actor, Stage: incident.StageClose,
		Summary: "merged into incident " + into}}
	if err := w.timeline(inc.Workspace, e); err != nil {
		return err
	}
	w.change(inc, store.IncidentMerged, actor, now)
	return nil
}

func taskTemplates(ctx context.Context, q querier, workspace string) ([]incident.TaskTemplate, error) {
	rows, err := q.Query(ctx, `SELECT stage, tasks FROM incident_task_templates WHERE workspace = $1`, workspace)
	if err != nil {
		return nil, fmt.Errorf("task templates of %s: %w", workspace, err)
	}
	byStage := map[incident.Stage][]string{}
	var stage string
	var doc []byte
	if _, err := pgx.ForEachRow(rows, []any{&stage, &doc}, func() error {
		var tasks []string
		if err := json.Unmarshal(doc, &tasks); err != nil {
			return fmt.Errorf("stage %s: decode: %w", stage, err)
		}
		byStage[incident.Stage(stage)] = tasks
		return nil
	}); err != nil {
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

func (w *incidentWork) templates(workspace string) ([]incident.TaskTemplate, error) {
	return taskTemplates(w.ctx, w.tx, workspace)
}
