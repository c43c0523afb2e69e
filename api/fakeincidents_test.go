package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

var _ store.Incidents = (*fakeStore)(nil)

// fakeIncidents is the fake store's incident side: enough of the workflow
// (stage moves by the transition table, owner, tags, severity, comments,
// tasks, assessment) for the API's tests; the real one is store/sqlite's.
type fakeIncidents struct {
	list      []incident.Incident
	alerts    map[string][]string // incident id -> alert ids, in joining order
	timeline  []incident.TimelineEntry
	templates map[string][]incident.TaskTemplate
	next      int
	seq       int64
	signal    chan struct{}
}

// inc returns the incident side, made on first use; s.mu is held.
func (s *fakeStore) inc() *fakeIncidents {
	if s.incidents == nil {
		s.incidents = &fakeIncidents{alerts: map[string][]string{}, templates: map[string][]incident.TaskTemplate{}, signal: make(chan struct{})}
	}
	return s.incidents
}

func (fi *fakeIncidents) find(ws, id string) (int, error) {
	i := slices.IndexFunc(fi.list, func(x incident.Incident) bool { return x.Workspace == ws && x.ID == id })
	if i < 0 {
		return -1, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return i, nil
}

func (fi *fakeIncidents) append(inc *incident.Incident, at time.Time, kind, actor, summary string, edit func(*incident.TimelineEntry)) {
	fi.seq++
	e := incident.TimelineEntry{Seq: fi.seq, IncidentID: inc.ID, Time: at, Kind: kind, Actor: actor, Summary: summary}
	if edit != nil {
		edit(&e)
	}
	fi.timeline = append(fi.timeline, e)
}

// alertOf is an alert of ws; s.mu is held.
func (s *fakeStore) alertOf(ws, id string) (alert.Alert, bool) {
	for _, a := range s.alerts {
		if a.Workspace == ws && a.ID == id {
			return a, true
		}
	}
	return alert.Alert{}, false
}

// recompute sets what an incident's alerts decide: severity, priority,
// tactics, entities, rules, time span; s.mu is held.
func (s *fakeStore) recompute(inc *incident.Incident) {
	ids := s.inc().alerts[inc.ID]
	inc.AlertCount = len(ids)
	inc.Tactics, inc.Techniques, inc.Entities, inc.RuleIDs = []string{}, []string{}, []alert.Entity{}, []string{}
	inc.FirstSeen, inc.LastSeen = time.Time{}, time.Time{}
	for _, id := range ids {
		a, ok := s.alertOf(inc.Workspace, id)
		if !ok {
			continue
		}
		inc.Severity = max(inc.Severity, a.Severity)
		inc.Priority = max(inc.Priority, a.Priority)
		for _, t := range a.Tactics {
			if !slices.Contains(inc.Tactics, t) {
				inc.Tactics = append(inc.Tactics, t)
			}
		}
		for _, e := range a.Entities {
			if !slices.Contains(inc.Entities, e) {
				inc.Entities = append(inc.Entities, e)
			}
		}
		if !slices.Contains(inc.RuleIDs, a.Rule.ID) {
			inc.RuleIDs = append(inc.RuleIDs, a.Rule.ID)
		}
		if inc.FirstSeen.IsZero() || a.FirstSeen.Before(inc.FirstSeen) {
			inc.FirstSeen = a.FirstSeen
		}
		if a.LastSeen.After(inc.LastSeen) {
			inc.LastSeen = a.LastSeen
		}
	}
	slices.SortStableFunc(inc.Tactics, func(a, b string) int { return incident.TacticRank(a) - incident.TacticRank(b) })
}

// take moves alerts into incident id, out of the incidents they were in;
// s.mu is held.
func (s *fakeStore) take(ws, id string, alertIDs []string, actor string, at time.Time) error {
	fi := s.inc()
	for _, aid := range alertIDs {
		a, ok := s.alertOf(ws, aid)
		if !ok {
			return fmt.Errorf("alert %s: %w", aid, store.ErrNotFound)
		}
		for other, ids := range fi.alerts {
			if j := slices.Index(ids, aid); j >= 0 {
				fi.alerts[other] = slices.Delete(ids, j, j+1)
				if i, err := fi.find(ws, other); err == nil {
					s.recompute(&fi.list[i])
				}
			}
		}
		fi.alerts[id] = append(fi.alerts[id], aid)
		i, _ := fi.find(ws, id)
		fi.append(&fi.list[i], a.FirstSeen, incident.TimelineAlert, actor, "alert "+a.Rule.Title, func(e *incident.TimelineEntry) { e.AlertID = aid })
	}
	return nil
}

func (s *fakeStore) audited(ws, actor, action, target, detail string) {
	s.audit = append(s.audit, store.AuditEntry{ID: int64(len(s.audit) + 1), Workspace: ws, Actor: actor, Action: action, Target: target, Detail: detail, Count: 1})
}

func (s *fakeStore) Incidents(_ context.Context, ws string, q store.IncidentQuery) ([]incident.Incident, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Sort != "" && q.Sort != store.IncidentSortLastSeen && q.Sort != store.IncidentSortPriority {
		return nil, "", fmt.Errorf("incidents of %s: sort %q: %w", ws, q.Sort, store.ErrInvalid)
	}
	var out []incident.Incident
	for _, x := range s.inc().list {
		if x.Workspace != ws ||
			len(q.Stage) > 0 && !slices.Contains(q.Stage, x.Stage) ||
			len(q.Status) > 0 && !slices.Contains(q.Status, x.Status) ||
			q.MinSeverity != nil && x.Severity < *q.MinSeverity ||
			q.Owner != "" && x.Owner != q.Owner ||
			q.Tag != "" && !slices.Contains(x.Tags, q.Tag) ||
			q.Entity != "" && !slices.ContainsFunc(x.Entities, func(e alert.Entity) bool { return strings.EqualFold(e.Value, q.Entity) }) ||
			q.Text != "" && !fakeTextMatch(x, q.Text) ||
			!q.Since.IsZero() && x.LastSeen.Before(q.Since) ||
			!q.Until.IsZero() && !x.LastSeen.Before(q.Until) {
			continue
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b incident.Incident) int {
		if q.Sort == store.IncidentSortPriority && a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return page(out, q.Limit, q.Cursor)
}

func (s *fakeStore) CountIncidents(ctx context.Context, ws string, q store.IncidentQuery) (int, error) {
	q.Limit, q.Cursor = 1<<30, ""
	list, _, err := s.Incidents(ctx, ws, q)
	return len(list), err
}

func (s *fakeStore) Incident(_ context.Context, ws, id string) (incident.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.inc().find(ws, id)
	if err != nil {
		return incident.Incident{}, err
	}
	return s.inc().list[i], nil
}

func (s *fakeStore) IncidentAlerts(_ context.Context, ws, id string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.inc().find(ws, id); err != nil {
		return nil, err
	}
	return slices.Clone(s.inc().alerts[id]), nil
}

func (s *fakeStore) IncidentOfAlerts(_ context.Context, ws string, alertIDs []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for id, ids := range s.inc().alerts {
		if _, err := s.inc().find(ws, id); err != nil {
			continue
		}
		for _, a := range alertIDs {
			if slices.Contains(ids, a) {
				out[a] = id
			}
		}
	}
	return out, nil
}

func (s *fakeStore) Timeline(_ context.Context, ws, id string, q store.TimelineQuery) ([]incident.TimelineEntry, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.inc().find(ws, id); err != nil {
		return nil, "", err
	}
	var out []incident.TimelineEntry
	for _, e := range s.inc().timeline {
		if e.IncidentID == id {
			out = append(out, e)
		}
	}
	return page(out, q.Limit, q.Cursor)
}

func (s *fakeStore) SimilarIncidents(_ context.Context, ws, id string, limit int) ([]incident.Similar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.inc().find(ws, id)
	if err != nil {
		return nil, err
	}
	me := s.inc().list[i]
	var out []incident.Similar
	for _, x := range s.inc().list {
		if x.Workspace != ws || x.ID == id {
			continue
		}
		var shared []string
		for _, r := range x.RuleIDs {
			if slices.Contains(me.RuleIDs, r) {
				shared = append(shared, "rule "+r)
			}
		}
		for _, e := range x.Entities {
			if slices.Contains(me.Entities, e) {
				shared = append(shared, e.Type+" "+e.Value)
			}
		}
		if len(shared) > 0 {
			n := len(me.RuleIDs) + len(me.Entities)
			out = append(out, incident.Similar{Incident: x, Score: float64(len(shared)) / float64(max(n, 1)), Shared: shared})
		}
	}
	slices.SortStableFunc(out, func(a, b incident.Similar) int { return len(b.Shared) - len(a.Shared) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *fakeStore) CreateIncident(_ context.Context, ws, title string, alertIDs []string, actor string) (incident.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(alertIDs) == 0 {
		return incident.Incident{}, fmt.Errorf("incident of %s: no alerts: %w", ws, store.ErrInvalid)
	}
	if title == "" {
		title = "alerts " + strings.Join(alertIDs, ", ")
	}
	for _, aid := range alertIDs {
		if _, ok := s.alertOf(ws, aid); !ok {
			return incident.Incident{}, fmt.Errorf("alert %s: %w", aid, store.ErrNotFound)
		}
	}
	fi := s.inc()
	fi.next++
	now := t0.Add(time.Duration(fi.next) * time.Second)
	inc := incident.Incident{ID: fmt.Sprintf("inc-%s-%03d", ws, fi.next), Workspace: ws, Title: title, Stage: incident.StageDetect,
		Status: incident.StatusNew, Tags: []string{}, Tasks: []incident.Task{}, Created: now, Updated: now}
	fi.list = append(fi.list, inc)
	i := len(fi.list) - 1
	fi.append(&fi.list[i], now, incident.TimelineCreated, actor, "created by hand", nil)
	if err := s.take(ws, inc.ID, alertIDs, actor, now); err != nil {
		return incident.Incident{}, err
	}
	s.recompute(&fi.list[i])
	s.audited(ws, actor, "incident.create", inc.ID, title)
	return fi.list[i], nil
}

func (s *fakeStore) AddAlerts(_ context.Context, ws, id string, alertIDs []string, actor string) (incident.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi := s.inc()
	i, err := fi.find(ws, id)
	if err != nil {
		return incident.Incident{}, err
	}
	if err := s.take(ws, id, alertIDs, actor, t0); err != nil {
		return incident.Incident{}, err
	}
	s.recompute(&fi.list[i])
	s.audited(ws, actor, "incident.alerts", id, strings.Join(alertIDs, ","))
	return fi.list[i], nil
}

// ChangeIncident applies the parts of a change the API tests use, with
// the transition table's checks.
func (s *fakeStore) ChangeIncident(_ context.Context, ws, id string, ch incident.Change, actor string) (incident.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi := s.inc()
	i, err := fi.find(ws, id)
	if err != nil {
		return incident.Incident{}, err
	}
	inc := fi.list[i]
	inc.Tags = slices.Clone(inc.Tags)
	inc.Tasks = slices.Clone(inc.Tasks)
	var entries []string
	if ch.Stage != nil {
		check := incident.CheckStage(inc.Stage, *ch.Stage)
		if *ch.Stage == incident.StageClose {
			check = incident.CheckClose(inc.Stage, ch.Classification, ch.Reason)
		}
		if check != nil {
			return incident.Incident{}, fmt.Errorf("incident %s: %w: %w", id, store.ErrInvalid, check)
		}
		if inc.Stage == incident.StageClose {
			inc.Reopened++
		}
		inc.Stage, inc.Status = *ch.Stage, incident.StatusOf(*ch.Stage)
		if inc.Stage == incident.StageClose {
			inc.Classification, inc.CloseReason = ch.Classification, ch.Reason
		}
		entries = append(entries, incident.TimelineStage+":"+string(inc.Stage))
	}
	if ch.Owner != nil {
		inc.Owner = *ch.Owner
		entries = append(entries, incident.TimelineOwner+":"+inc.Owner)
	}
	for _, t := range ch.AddTags {
		if !slices.Contains(inc.Tags, t) {
			inc.Tags = append(inc.Tags, t)
		}
	}
	inc.Tags = slices.DeleteFunc(inc.Tags, func(t string) bool { return slices.Contains(ch.RemoveTags, t) })
	if len(ch.AddTags)+len(ch.RemoveTags) > 0 {
		entries = append(entries, incident.TimelineTag+":"+strings.Join(inc.Tags, ","))
	}
	if ch.Severity != nil {
		inc.Severity = *ch.Severity
		entries = append(entries, incident.TimelineSeverity+":"+inc.Severity.String())
	}
	if ch.Comment != "" {
		entries = append(entries, incident.TimelineComment+":"+ch.Comment)
	}
	if ch.AddTask != nil {
		t := *ch.AddTask
		if t.Stage == "" {
			t.Stage = inc.Stage
		}
		t.ID = fmt.Sprintf("task-%d", len(inc.Tasks)+1)
		inc.Tasks = append(inc.Tasks, t)
		entries = append(entries, incident.TimelineTask+":"+t.Title)
	}
	for tid, done := range ch.TaskDone {
		j := slices.IndexFunc(inc.Tasks, func(t incident.Task) bool { return t.ID == tid })
		if j < 0 {
			return incident.Incident{}, fmt.Errorf("incident %s: no task %s: %w", id, tid, store.ErrInvalid)
		}
		inc.Tasks[j].Done = done
		entries = append(entries, incident.TimelineTask+":"+tid)
	}
	if ch.Assessment != nil {
		for _, sec := range ch.Sections {
			switch sec {
			case incident.SectionIntent:
				inc.Assessment.Intent = ch.Assessment.Intent
			case incident.SectionNature:
				inc.Assessment.Nature = ch.Assessment.Nature
			case incident.SectionOrigin:
				inc.Assessment.Origin = ch.Assessment.Origin
			case incident.SectionCompromised:
				inc.Assessment.Compromised = ch.Assessment.Compromised
			case incident.SectionDataAccessed:
				inc.Assessment.DataAccessed = ch.Assessment.DataAccessed
			}
			if !slices.Contains(inc.Assessment.Locked, sec) {
				inc.Assessment.Locked = append(inc.Assessment.Locked, sec)
			}
		}
		entries = append(entries, incident.TimelineAssessment+":"+strings.Join(ch.Sections, ","))
	}
	fi.list[i] = inc
	for _, e := range entries {
		kind, text, _ := strings.Cut(e, ":")
		fi.append(&fi.list[i], t0.Add(time.Hour), kind, actor, e, func(x *incident.TimelineEntry) {
			if kind == incident.TimelineComment {
				x.Text = text
			}
		})
		s.audited(ws, actor, "incident."+kind, id, text)
	}
	return inc, nil
}

func (s *fakeStore) MergeIncidents(_ context.Context, ws, into string, from []string, actor string) (incident.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi := s.inc()
	i, err := fi.find(ws, into)
	if err != nil {
		return incident.Incident{}, err
	}
	for _, f := range from {
		j, err := fi.find(ws, f)
		if err != nil {
			return incident.Incident{}, err
		}
		if err := s.take(ws, into, slices.Clone(fi.alerts[f]), actor, t0); err != nil {
			return incident.Incident{}, err
		}
		fi.list[j].Stage, fi.list[j].Status, fi.list[j].MergedInto = incident.StageClose, incident.StatusClosed, into
	}
	s.recompute(&fi.list[i])
	s.audited(ws, actor, "incident.merge", into, strings.Join(from, ","))
	return fi.list[i], nil
}

func (s *fakeStore) SplitIncident(ctx context.Context, ws, id string, alertIDs []string, actor string) (incident.Incident, error) {
	old, err := s.Incident(ctx, ws, id)
	if err != nil {
		return incident.Incident{}, err
	}
	return s.CreateIncident(ctx, ws, "split of "+old.Title, alertIDs, actor)
}

func (s *fakeStore) TaskTemplates(_ context.Context, ws string) ([]incident.TaskTemplate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.inc().templates[ws]; ok {
		return t, nil
	}
	return []incident.TaskTemplate{{Stage: incident.StageAssess, Tasks: []string{"default task"}}}, nil
}

func (s *fakeStore) SetTaskTemplates(_ context.Context, ws string, t []incident.TaskTemplate, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inc().templates[ws] = slices.Clone(t)
	s.audited(ws, actor, "incident.templates", "", "")
	return nil
}

func (s *fakeStore) AppendTimeline(_ context.Context, ws, id string, entries []incident.TimelineEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi := s.inc()
	i, err := fi.find(ws, id)
	if err != nil {
		return err
	}
	for _, e := range entries {
		fi.append(&fi.list[i], e.Time, e.Kind, e.Actor, e.Summary, func(x *incident.TimelineEntry) { x.Text, x.Failed = e.Text, e.Failed })
	}
	return nil
}

func (s *fakeStore) SetAssessment(_ context.Context, ws, id string, a incident.Assessment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi := s.inc()
	i, err := fi.find(ws, id)
	if err != nil {
		return err
	}
	a.Locked = fi.list[i].Assessment.Locked
	fi.list[i].Assessment = a
	return nil
}

func (s *fakeStore) IncidentChanges(context.Context, int64, int) ([]store.IncidentChange, error) {
	return nil, nil
}

func (s *fakeStore) IncidentChangesSignal() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inc().signal
}

// fakeTextMatch is IncidentQuery.Text as the store reads it.
func fakeTextMatch(x incident.Incident, text string) bool {
	holds := func(s string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(text)) }
	return x.ID == text || holds(x.Title) || slices.ContainsFunc(x.Entities, func(e alert.Entity) bool { return holds(e.Value) })
}
