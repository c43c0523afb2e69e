package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Bounds of the incident routes.
const (
	defaultSimilar = 10
	maxSimilar     = 100
	// maxTimelineStored and maxTimelineAlerts bound what one timeline
	// page reads to merge stored entries with evidence: an incident past
	// them shows its first ones and says so in the log.
	maxTimelineStored = 100_000
	maxTimelineAlerts = 2_000
)

type incidentsInput struct {
	Stage       []string  `query:"stage,explode" doc:"Keep incidents in these stages (detect, assess, diagnose, stabilize, close): repeat the parameter or give a comma-separated list."`
	Status      []string  `query:"status,explode" doc:"Keep incidents of these statuses (new, active, closed): repeat the parameter or give a comma-separated list."`
	MinSeverity string    `query:"min_severity" enum:"informational,low,medium,high,critical" doc:"Keep incidents of this severity or higher."`
	Owner       string    `query:"owner" doc:"Keep incidents assigned to this owner."`
	Tag         string    `query:"tag" doc:"Keep incidents with this tag."`
	Entity      string    `query:"entity" doc:"Keep incidents about this entity value (an ip, host, account…); compared as the alerts filter compares it."`
	Q           string    `query:"q" maxLength:"200" doc:"Keep incidents whose title or an entity value holds this text (ASCII letters without regard to case), or whose id it is."`
	Since       time.Time `query:"since" doc:"Keep incidents last seen at or after this time (RFC 3339)."`
	Until       time.Time `query:"until" doc:"Keep incidents last seen before this time (RFC 3339)."`
	Sort        string    `query:"sort" enum:"last_seen,priority" default:"last_seen" doc:"Order: last_seen (last seen first) or priority (highest first). A cursor pages on in the order it came from."`
	PageQuery
}

type incidentsOutput struct {
	Body struct {
		Incidents []incident.Incident `json:"incidents"`
		Next      string              `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
		Total     int                 `json:"total" doc:"How many incidents the filters keep, on all pages."`
	}
}

type incidentIDInput struct {
	ID string `path:"id" doc:"The incident's id."`
}

type incidentOutput struct {
	Body incident.Incident
}

type incidentAlertsInput struct {
	ID string `path:"id" doc:"The incident's id."`
	PageQuery
}

type incidentAlertsOutput struct {
	Body struct {
		Alerts []alert.Alert `json:"alerts" doc:"The incident's alerts, in the order they joined it."`
		Next   string        `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
		Total  int           `json:"total" doc:"How many alerts the incident holds."`
	}
}

type timelineInput struct {
	ID       string `path:"id" doc:"The incident's id."`
	Evidence bool   `query:"evidence" default:"true" doc:"Include the evidence events of the incident's alerts (kind evidence); false lists the stored entries only."`
	PageQuery
}

type timelineOutput struct {
	Body struct {
		Entries []incident.TimelineEntry `json:"entries" doc:"Oldest first: alerts joining, evidence events, and every human or automated action."`
		Next    string                   `json:"next,omitempty" doc:"Cursor of the next page; absent on the last."`
		Total   int                      `json:"total" doc:"How many entries the timeline holds, on all pages."`
	}
}

type similarInput struct {
	ID    string `path:"id" doc:"The incident's id."`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"10" doc:"Incidents to list, 1 to 100."`
}

type similarOutput struct {
	Body struct {
		Similar []incident.Similar `json:"similar" doc:"Other incidents of the workspace most like this one, best first."`
	}
}

type createIncidentInput struct {
	Body struct {
		Title    string   `json:"title,omitempty" maxLength:"200" doc:"The incident's title; absent, one is made from its alerts."`
		AlertIDs []string `json:"alert_ids" minItems:"1" maxItems:"1000" doc:"The alerts it holds; they leave the incidents they were in."`
	}
}

type addAlertsInput struct {
	ID   string `path:"id" doc:"The incident's id."`
	Body struct {
		AlertIDs []string `json:"alert_ids" minItems:"1" maxItems:"1000" doc:"Alerts to add; they leave the incidents they were in."`
	}
}

type mergeInput struct {
	ID   string `path:"id" doc:"The incident the others are merged into."`
	Body struct {
		From []string `json:"from" minItems:"1" maxItems:"100" doc:"Incidents to merge into it: their alerts move over and they are closed, naming it in merged_into."`
	}
}

type splitInput struct {
	ID   string `path:"id" doc:"The incident to split."`
	Body struct {
		AlertIDs []string `json:"alert_ids" minItems:"1" maxItems:"1000" doc:"Alerts of the incident that move into a new incident."`
	}
}

// taskBody is a task a client adds.
type taskBody struct {
	Title string `json:"title" minLength:"1" maxLength:"200" doc:"What is to be done."`
	Stage string `json:"stage,omitempty" enum:"detect,assess,diagnose,stabilize,close" doc:"The stage whose checklist it joins; default the incident's stage."`
}

// changeBody is incident.Change as a client writes it: each field set is
// one action, applied in this order.
type changeBody struct {
	Stage          string          `json:"stage,omitempty" enum:"detect,assess,diagnose,stabilize,close" doc:"Move the incident to this stage; close needs classification and reason; assess from close reopens it. An illegal move is refused with 409 and the reason."`
	Classification string          `json:"classification,omitempty" enum:"true_positive_impact,true_positive_no_impact,benign_positive,false_positive" doc:"With stage close: how the incident is judged. A true positive is closed from diagnose or stabilize only."`
	Reason         string          `json:"reason,omitempty" maxLength:"2000" doc:"With stage close: why it is closed."`
	Owner          *string         `json:"owner,omitempty" maxLength:"200" doc:"Assign the incident; an empty string unassigns it."`
	AddTags        []string        `json:"add_tags,omitempty" maxItems:"50" doc:"Tags to add."`
	RemoveTags     []string        `json:"remove_tags,omitempty" maxItems:"50" doc:"Tags to remove."`
	Severity       string          `json:"severity,omitempty" enum:"informational,low,medium,high,critical" doc:"Set the severity by hand."`
	Comment        string          `json:"comment,omitempty" maxLength:"10000" doc:"Add a comment to the timeline."`
	AddTask        *taskBody       `json:"add_task,omitempty" doc:"Add a task to a stage's checklist."`
	TaskDone       map[string]bool `json:"task_done,omitempty" doc:"Mark tasks done (true) or not done (false), by task id."`
	Assessment     json.RawMessage `json:"assessment,omitempty" doc:"With sections: an assessment, shaped as the incident's (nature, origin, intent, compromised, data_accessed); the sections named in sections replace the incident's and are locked against automatic fills. The other sections may be left out."`
	Sections       []string        `json:"sections,omitempty" doc:"The assessment sections to replace: nature, origin, intent, compromised, data_accessed."`
}

type changeIncidentInput struct {
	ID   string `path:"id" doc:"The incident's id."`
	Body changeBody
}

type taskTemplatesBody struct {
	Templates []incident.TaskTemplate `json:"templates" maxItems:"5" doc:"One checklist a stage: the tasks an incident gets when it enters the stage."`
}

type taskTemplatesOutput struct {
	Body taskTemplatesBody
}

type setTaskTemplatesInput struct {
	Body taskTemplatesBody
}

func (a *API) registerIncidents(h huma.API) {
	read := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable}
	byID := append(slices.Clone(read), http.StatusNotFound)
	write := append(slices.Clone(byID), http.StatusUnprocessableEntity)
	huma.Register(h, huma.Operation{
		OperationID: "list-incidents",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents",
		Summary:     "List incidents",
		Description: "Incidents of the key's workspace, filtered, sorted by last seen (or priority) and paged, with the total the filters keep.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(read), http.StatusUnprocessableEntity),
	}, a.listIncidents)
	huma.Register(h, huma.Operation{
		OperationID:   "create-incident",
		Method:        http.MethodPost,
		Path:          "/api/v1/incidents",
		Summary:       "Create an incident by hand",
		Description:   "From alerts of the workspace, which leave the incidents they were in. Audited.",
		Tags:          []string{"incidents"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        append(slices.Clone(read), http.StatusUnprocessableEntity),
	}, a.createIncident)
	huma.Register(h, huma.Operation{
		OperationID: "get-incident",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents/{id}",
		Summary:     "Get an incident",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      byID,
	}, a.getIncident)
	huma.Register(h, huma.Operation{
		OperationID: "change-incident",
		Method:      http.MethodPatch,
		Path:        "/api/v1/incidents/{id}",
		Summary:     "Work an incident",
		Description: "Move its stage (close with a classification and reason; reopen), assign it, tag it, set its severity, comment, add and tick tasks, edit the assessment: one change, applied whole or not at all, each action on the timeline and in the audit log as key:<id>. An illegal move is refused with 409 and the reason.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(write), http.StatusConflict),
	}, a.changeIncident)
	huma.Register(h, huma.Operation{
		OperationID: "incident-alerts",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents/{id}/alerts",
		Summary:     "An incident's alerts",
		Description: "The alerts themselves, in the order they joined the incident, paged.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(byID), http.StatusUnprocessableEntity),
	}, a.incidentAlerts)
	huma.Register(h, huma.Operation{
		OperationID: "add-incident-alerts",
		Method:      http.MethodPost,
		Path:        "/api/v1/incidents/{id}/alerts",
		Summary:     "Add alerts to an incident",
		Description: "They leave the incidents they were in. Audited.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(write), http.StatusConflict),
	}, a.addIncidentAlerts)
	huma.Register(h, huma.Operation{
		OperationID: "incident-timeline",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents/{id}/timeline",
		Summary:     "An incident's timeline",
		Description: "Its stored entries (alerts joining, stage moves, comments, tasks, automation…) merged by time with the evidence events of its alerts, oldest first, paged.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(byID), http.StatusUnprocessableEntity),
	}, a.incidentTimeline)
	huma.Register(h, huma.Operation{
		OperationID: "similar-incidents",
		Method:      http.MethodGet,
		Path:        "/api/v1/incidents/{id}/similar",
		Summary:     "Incidents like this one",
		Description: "Other incidents of the workspace sharing rules and entities with it, best first, with a score and what they share.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      byID,
	}, a.similarIncidents)
	huma.Register(h, huma.Operation{
		OperationID: "merge-incidents",
		Method:      http.MethodPost,
		Path:        "/api/v1/incidents/{id}/merge",
		Summary:     "Merge incidents into this one",
		Description: "The alerts of the incidents in from move into this one; those are closed, naming it in merged_into. Audited.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(write), http.StatusConflict),
	}, a.mergeIncidents)
	huma.Register(h, huma.Operation{
		OperationID:   "split-incident",
		Method:        http.MethodPost,
		Path:          "/api/v1/incidents/{id}/split",
		Summary:       "Split alerts off an incident",
		Description:   "The alerts named move into a new incident, which is answered. Audited.",
		Tags:          []string{"incidents"},
		Security:      bearer,
		DefaultStatus: http.StatusCreated,
		Errors:        append(slices.Clone(write), http.StatusConflict),
	}, a.splitIncident)
	huma.Register(h, huma.Operation{
		OperationID: "get-incident-task-templates",
		Method:      http.MethodGet,
		Path:        "/api/v1/incident-task-templates",
		Summary:     "Task templates",
		Description: "The checklist an incident gets as it enters each stage (the defaults when the workspace has none of its own).",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      read,
	}, a.taskTemplates)
	huma.Register(h, huma.Operation{
		OperationID: "set-incident-task-templates",
		Method:      http.MethodPut,
		Path:        "/api/v1/incident-task-templates",
		Summary:     "Replace the task templates",
		Description: "Applies to incidents entering a stage from now on. Audited.",
		Tags:        []string{"incidents"},
		Security:    bearer,
		Errors:      append(slices.Clone(read), http.StatusUnprocessableEntity),
	}, a.setTaskTemplates)
}

// incidentScope is the preamble of the incident routes: the caller's key
// (its workspace) and the store's incident side, 503 when the store keeps
// none.
func (a *API) incidentScope(ctx context.Context) (tenant.APIKey, store.Incidents, error) {
	k, err := caller(ctx)
	if err != nil {
		return tenant.APIKey{}, nil, err
	}
	inc, ok := a.store.(store.Incidents)
	if !ok {
		return k, nil, huma.Error503ServiceUnavailable("this store keeps no incidents")
	}
	return k, inc, nil
}

// incidentError answers a store error of an incident route: a refused
// workflow move is a 409 with its reason (as alert status refusals are),
// a conflict a 409 in the store's words, the rest as storeError does.
func (a *API) incidentError(ctx context.Context, what string, err error) error {
	var se *incident.StageError
	switch {
	case errors.As(err, &se):
		return huma.Error409Conflict(what + ": " + se.Error())
	case errors.Is(err, store.ErrConflict):
		return huma.Error409Conflict(err.Error())
	}
	return a.storeError(ctx, what, err)
}

// splitList splits repeated, comma-separated query values, dropping empty
// ones ("stage=" or a trailing comma means no filter).
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func (a *API) listIncidents(ctx context.Context, in *incidentsInput) (*incidentsOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	q := store.IncidentQuery{
		Owner:  in.Owner,
		Tag:    in.Tag,
		Entity: in.Entity,
		Text:   strings.TrimSpace(in.Q),
		Since:  in.Since,
		Until:  in.Until,
		Limit:  in.Limit,
		Cursor: in.Cursor,
		Sort:   in.Sort,
	}
	for _, s := range splitList(in.Stage) {
		if !incident.Stage(s).Valid() {
			return nil, invalid("query.stage", "want detect, assess, diagnose, stabilize or close", s)
		}
		q.Stage = append(q.Stage, incident.Stage(s))
	}
	for _, s := range splitList(in.Status) {
		if !slices.Contains(incident.Statuses[:], incident.Status(s)) {
			return nil, invalid("query.status", "want new, active or closed", s)
		}
		q.Status = append(q.Status, incident.Status(s))
	}
	if in.MinSeverity != "" {
		sev, err := alert.ParseSeverity(in.MinSeverity)
		if err != nil {
			return nil, invalid("query.min_severity", err.Error(), in.MinSeverity)
		}
		q.MinSeverity = &sev
	}
	if !in.Since.IsZero() && !in.Until.IsZero() && !in.Since.Before(in.Until) {
		return nil, invalid("query.until", "until must be after since", in.Until)
	}
	list, next, err := st.Incidents(ctx, k.Workspace, q)
	if err != nil {
		return nil, a.incidentError(ctx, "incidents", err)
	}
	total, err := st.CountIncidents(ctx, k.Workspace, q)
	if err != nil {
		return nil, a.incidentError(ctx, "incidents", err)
	}
	out := &incidentsOutput{}
	out.Body.Incidents = nonNil(list)
	out.Body.Next = next
	out.Body.Total = total
	return out, nil
}

func (a *API) getIncident(ctx context.Context, in *incidentIDInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	inc, err := st.Incident(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, "incident "+in.ID, err)
	}
	return &incidentOutput{Body: inc}, nil
}

// offsetCursor reads the cursor of a list the API pages itself: an offset
// into it, made by the previous page.
func offsetCursor(cursor string, n int) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	off, err := strconv.Atoi(cursor)
	if err != nil || off < 0 || off > n {
		return 0, invalid("query.cursor", "not a cursor this list gave", cursor)
	}
	return off, nil
}

func (a *API) incidentAlerts(ctx context.Context, in *incidentAlertsInput) (*incidentAlertsOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	what := "incident " + in.ID
	if _, err := st.Incident(ctx, k.Workspace, in.ID); err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	ids, err := st.IncidentAlerts(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	off, err := offsetCursor(in.Cursor, len(ids))
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	end := min(off+limit, len(ids))
	out := &incidentAlertsOutput{}
	out.Body.Alerts = []alert.Alert{}
	out.Body.Total = len(ids)
	for _, id := range ids[off:end] {
		al, err := a.store.Alert(ctx, k.Workspace, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // purged since it joined: the incident keeps its id only
		}
		if err != nil {
			return nil, a.storeError(ctx, "alert "+id, err)
		}
		out.Body.Alerts = append(out.Body.Alerts, al)
	}
	if end < len(ids) {
		out.Body.Next = strconv.Itoa(end)
	}
	return out, nil
}

// timelineItem is an entry of the merged timeline with its place: its
// time, then key. A stored entry's key is its seq; an evidence event at
// the time of its alert's "alert" entry takes that entry's seq and follows
// it; other evidence events come after the stored entries of their time
// ("~" sorts after digits), by alert and event.
type timelineItem struct {
	entry incident.TimelineEntry
	key   string
}

func storedKey(seq int64) string { return fmt.Sprintf("%020d|", seq) }

func compareItems(x, y timelineItem) int {
	if c := x.entry.Time.Compare(y.entry.Time); c != 0 {
		return c
	}
	return strings.Compare(x.key, y.key)
}

// timelineCursor is an item's place, opaque to clients.
func timelineCursor(it timelineItem) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d|%s", it.entry.Time.UnixNano(), it.key))
}

// parseTimelineCursor reads a cursor back into the place it names.
func parseTimelineCursor(c string) (timelineItem, error) {
	bad := invalid("query.cursor", "not a cursor this timeline gave", c)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return timelineItem{}, bad
	}
	t, key, ok := strings.Cut(string(raw), "|")
	ns, err := strconv.ParseInt(t, 10, 64)
	if !ok || err != nil || key == "" {
		return timelineItem{}, bad
	}
	return timelineItem{key: key, entry: incident.TimelineEntry{Time: time.Unix(0, ns).UTC()}}, nil
}

// alertEntry is where an alert joined the incident: its "alert" entry's
// time and seq.
type alertEntry struct {
	alertID string
	at      int64 // UnixNano
}

// evidenceEntries are the evidence events of one alert as timeline
// entries; joined gives the seq of its alert's entry at a time.
func evidenceEntries(incID string, al alert.Alert, joined map[alertEntry]int64) []timelineItem {
	out := make([]timelineItem, 0, len(al.Evidence))
	for _, ev := range al.Evidence {
		e := incident.TimelineEntry{
			IncidentID: incID,
			Time:       ev.Time,
			Kind:       incident.TimelineEvidence,
			Summary:    "evidence of " + al.Rule.Title,
			AlertID:    al.ID,
			EventID:    ev.EventID,
		}
		if ev.EventID == "" && ev.File != "" {
			e.Summary += fmt.Sprintf(" (%s:%d)", ev.File, ev.Line)
		}
		key := "~|" + al.ID + "/" + ev.EventID + "/" + strconv.Itoa(ev.Line)
		if seq, ok := joined[alertEntry{al.ID, ev.Time.UnixNano()}]; ok {
			key = storedKey(seq) + al.ID + "/" + ev.EventID + "/" + strconv.Itoa(ev.Line)
		}
		out = append(out, timelineItem{entry: e, key: key})
	}
	return out
}

// mergedTimeline reads the incident's stored timeline and, with evidence,
// the evidence events of its alerts, in timeline order.
func (a *API) mergedTimeline(ctx context.Context, st store.Incidents, ws, id string, evidence bool) ([]timelineItem, error) {
	what := "incident " + id
	var items []timelineItem
	cursor := ""
	for {
		entries, next, err := st.Timeline(ctx, ws, id, store.TimelineQuery{Limit: maxLimit, Cursor: cursor})
		if err != nil {
			return nil, a.incidentError(ctx, what, err)
		}
		for _, e := range entries {
			items = append(items, timelineItem{entry: e, key: storedKey(e.Seq)})
		}
		if next == "" {
			break
		}
		if len(items) >= maxTimelineStored {
			a.log.WarnContext(ctx, "api: incident timeline cut", "incident", id, "stored_entries", len(items))
			break
		}
		cursor = next
	}
	if evidence {
		joined := map[alertEntry]int64{}
		for _, it := range items {
			if e := it.entry; e.Kind == incident.TimelineAlert && e.AlertID != "" {
				k := alertEntry{e.AlertID, e.Time.UnixNano()}
				if seq, ok := joined[k]; !ok || e.Seq < seq {
					joined[k] = e.Seq
				}
			}
		}
		ids, err := st.IncidentAlerts(ctx, ws, id)
		if err != nil {
			return nil, a.incidentError(ctx, what, err)
		}
		if len(ids) > maxTimelineAlerts {
			a.log.WarnContext(ctx, "api: incident timeline shows the evidence of its first alerts only", "incident", id, "alerts", len(ids), "shown", maxTimelineAlerts)
			ids = ids[:maxTimelineAlerts]
		}
		for _, aid := range ids {
			al, err := a.store.Alert(ctx, ws, aid)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, a.storeError(ctx, "alert "+aid, err)
			}
			items = append(items, evidenceEntries(id, al, joined)...)
		}
	}
	slices.SortStableFunc(items, compareItems)
	return items, nil
}

func (a *API) incidentTimeline(ctx context.Context, in *timelineInput) (*timelineOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	var after *timelineItem
	if in.Cursor != "" {
		c, err := parseTimelineCursor(in.Cursor)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	if _, err := st.Incident(ctx, k.Workspace, in.ID); err != nil {
		return nil, a.incidentError(ctx, "incident "+in.ID, err)
	}
	items, err := a.mergedTimeline(ctx, st, k.Workspace, in.ID, in.Evidence)
	if err != nil {
		return nil, err
	}
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(items, *after, compareItems)
		if start < len(items) && compareItems(items[start], *after) == 0 {
			start++
		}
	}
	limit := in.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	end := min(start+limit, len(items))
	out := &timelineOutput{}
	out.Body.Entries = make([]incident.TimelineEntry, 0, end-start)
	for _, it := range items[start:end] {
		out.Body.Entries = append(out.Body.Entries, it.entry)
	}
	out.Body.Total = len(items)
	if end < len(items) {
		out.Body.Next = timelineCursor(items[end-1])
	}
	return out, nil
}

func (a *API) similarIncidents(ctx context.Context, in *similarInput) (*similarOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit <= 0 {
		limit = defaultSimilar
	}
	limit = min(limit, maxSimilar)
	if _, err := st.Incident(ctx, k.Workspace, in.ID); err != nil {
		return nil, a.incidentError(ctx, "incident "+in.ID, err)
	}
	sim, err := st.SimilarIncidents(ctx, k.Workspace, in.ID, limit)
	if err != nil {
		return nil, a.incidentError(ctx, "incident "+in.ID, err)
	}
	out := &similarOutput{}
	out.Body.Similar = nonNil(sim)
	return out, nil
}

// checkAlerts refuses alert ids the workspace does not hold, or that are
// named twice, naming the body field.
func (a *API) checkAlerts(ctx context.Context, ws, field string, ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return invalid(field, "alert "+id+" is named twice", id)
		}
		seen[id] = true
		if _, err := a.store.Alert(ctx, ws, id); errors.Is(err, store.ErrNotFound) {
			return invalid(field, "no alert "+id+" in this workspace", id)
		} else if err != nil {
			return a.storeError(ctx, "alert "+id, err)
		}
	}
	return nil
}

func (a *API) createIncident(ctx context.Context, in *createIncidentInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	title := strings.TrimSpace(in.Body.Title)
	if title == "" && in.Body.Title != "" {
		return nil, invalid("body.title", "a title says something; leave it out for one made from the alerts", in.Body.Title)
	}
	if err := a.checkAlerts(ctx, k.Workspace, "body.alert_ids", in.Body.AlertIDs); err != nil {
		return nil, err
	}
	inc, err := st.CreateIncident(ctx, k.Workspace, title, in.Body.AlertIDs, k.Actor())
	if err != nil {
		return nil, a.incidentError(ctx, "incident", err)
	}
	return &incidentOutput{Body: inc}, nil
}

func (a *API) addIncidentAlerts(ctx context.Context, in *addAlertsInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	what := "incident " + in.ID
	target, err := st.Incident(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	if target.MergedInto != "" {
		return nil, huma.Error409Conflict(what + " was merged into " + target.MergedInto + ": add the alerts there")
	}
	if err := a.checkAlerts(ctx, k.Workspace, "body.alert_ids", in.Body.AlertIDs); err != nil {
		return nil, err
	}
	inc, err := st.AddAlerts(ctx, k.Workspace, in.ID, in.Body.AlertIDs, k.Actor())
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	return &incidentOutput{Body: inc}, nil
}

// change checks a client's change and turns it into incident.Change;
// what the workflow refuses given the incident's stage is the store's to
// say (409).
func (b *changeBody) change() (incident.Change, error) {
	var ch incident.Change
	empty := true
	if b.Stage != "" {
		s := incident.Stage(b.Stage)
		if !s.Valid() {
			return ch, invalid("body.stage", "want detect, assess, diagnose, stabilize or close", b.Stage)
		}
		ch.Stage = &s
		empty = false
	}
	closing := ch.Stage != nil && *ch.Stage == incident.StageClose
	switch {
	case b.Classification != "" && !closing:
		return ch, invalid("body.classification", "a classification is given with stage close only", b.Classification)
	case b.Reason != "" && !closing:
		return ch, invalid("body.reason", "a reason is given with stage close only", b.Reason)
	case closing && !incident.Classification(b.Classification).Valid():
		return ch, invalid("body.classification", "closing needs a classification: true_positive_impact, true_positive_no_impact, benign_positive or false_positive", b.Classification)
	case closing && strings.TrimSpace(b.Reason) == "":
		return ch, invalid("body.reason", "closing needs a reason", b.Reason)
	}
	ch.Classification = incident.Classification(b.Classification)
	ch.Reason = strings.TrimSpace(b.Reason)
	if b.Owner != nil {
		o := strings.TrimSpace(*b.Owner)
		ch.Owner = &o
		empty = false
	}
	for _, tags := range []struct {
		field string
		list  []string
		to    *[]string
	}{{"body.add_tags", b.AddTags, &ch.AddTags}, {"body.remove_tags", b.RemoveTags, &ch.RemoveTags}} {
		for _, t := range tags.list {
			t = strings.TrimSpace(t)
			if t == "" || len(t) > 64 {
				return ch, invalid(tags.field, "a tag is 1 to 64 characters", t)
			}
			*tags.to = append(*tags.to, t)
			empty = false
		}
	}
	for _, t := range ch.AddTags {
		if slices.Contains(ch.RemoveTags, t) {
			return ch, invalid("body.remove_tags", "tag "+t+" is both added and removed", t)
		}
	}
	if b.Severity != "" {
		sev, err := alert.ParseSeverity(b.Severity)
		if err != nil {
			return ch, invalid("body.severity", err.Error(), b.Severity)
		}
		ch.Severity = &sev
		empty = false
	}
	if c := strings.TrimSpace(b.Comment); c != "" {
		ch.Comment = c
		empty = false
	} else if b.Comment != "" {
		return ch, invalid("body.comment", "a comment says something", b.Comment)
	}
	if b.AddTask != nil {
		t := incident.Task{Title: strings.TrimSpace(b.AddTask.Title), Stage: incident.Stage(b.AddTask.Stage)}
		if t.Title == "" {
			return ch, invalid("body.add_task.title", "a task has a title", b.AddTask.Title)
		}
		if t.Stage != "" && !t.Stage.Valid() {
			return ch, invalid("body.add_task.stage", "want detect, assess, diagnose, stabilize or close", b.AddTask.Stage)
		}
		ch.AddTask = &t
		empty = false
	}
	for id := range b.TaskDone {
		if strings.TrimSpace(id) == "" {
			return ch, invalid("body.task_done", "a task id is not empty", id)
		}
		empty = false
	}
	ch.TaskDone = b.TaskDone
	hasAssessment := len(b.Assessment) > 0 && string(b.Assessment) != "null"
	switch {
	case hasAssessment && len(b.Sections) == 0:
		return ch, invalid("body.sections", "name the assessment sections to replace: nature, origin, intent, compromised, data_accessed", nil)
	case !hasAssessment && len(b.Sections) > 0:
		return ch, invalid("body.assessment", "sections need the assessment that replaces them", nil)
	}
	sections := []string{incident.SectionNature, incident.SectionOrigin, incident.SectionIntent, incident.SectionCompromised, incident.SectionDataAccessed}
	for _, s := range b.Sections {
		if !slices.Contains(sections, s) {
			return ch, invalid("body.sections", "want nature, origin, intent, compromised or data_accessed", s)
		}
	}
	if hasAssessment {
		as, err := decodeAssessment(b.Assessment)
		if err != nil {
			return ch, invalid("body.assessment", err.Error(), nil)
		}
		if slices.Contains(b.Sections, incident.SectionIntent) &&
			!slices.Contains([]string{alert.IntentTargeted, alert.IntentRandom, alert.IntentUnknown}, as.Intent.Estimate) {
			return ch, invalid("body.assessment.intent.estimate", "want targeted, random or unknown", as.Intent.Estimate)
		}
		ch.Assessment, ch.Sections = &as, b.Sections
		empty = false
	}
	if empty {
		return ch, huma.Error422UnprocessableEntity("the change changes nothing: give at least one of stage, owner, add_tags, remove_tags, severity, comment, add_task, task_done, assessment")
	}
	return ch, nil
}

// decodeAssessment reads a client's assessment strictly: a misspelt
// field is an error, not a section silently left empty.
func decodeAssessment(raw json.RawMessage) (incident.Assessment, error) {
	var as incident.Assessment
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&as); err != nil {
		return as, fmt.Errorf("not an assessment: %w", err)
	}
	return as, nil
}

func (a *API) changeIncident(ctx context.Context, in *changeIncidentInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := in.Body.change()
	if err != nil {
		return nil, err
	}
	// The store writes the timeline and audit entries in the same
	// transaction.
	inc, err := st.ChangeIncident(ctx, k.Workspace, in.ID, ch, k.Actor())
	if err != nil {
		return nil, a.incidentError(ctx, "incident "+in.ID, err)
	}
	return &incidentOutput{Body: inc}, nil
}

func (a *API) mergeIncidents(ctx context.Context, in *mergeInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	what := "incident " + in.ID
	into, err := st.Incident(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	// What the incidents' state refuses is a conflict (409), as a refused
	// stage move is; the store checks again in its transaction.
	switch {
	case into.MergedInto != "":
		return nil, huma.Error409Conflict(what + " was merged into " + into.MergedInto + ": merge into that one")
	case into.Stage == incident.StageClose:
		return nil, huma.Error409Conflict(what + " is closed: reopen it before merging into it")
	}
	seen := map[string]bool{}
	for _, id := range in.Body.From {
		switch {
		case id == in.ID:
			return nil, invalid("body.from", "an incident is not merged into itself", id)
		case seen[id]:
			return nil, invalid("body.from", "incident "+id+" is named twice", id)
		}
		seen[id] = true
		from, err := st.Incident(ctx, k.Workspace, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("body.from", "no incident "+id+" in this workspace", id)
		} else if err != nil {
			return nil, a.incidentError(ctx, "incident "+id, err)
		}
		if from.MergedInto != "" {
			return nil, huma.Error409Conflict("incident " + id + " was merged into " + from.MergedInto + " already")
		}
	}
	inc, err := st.MergeIncidents(ctx, k.Workspace, in.ID, in.Body.From, k.Actor())
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	return &incidentOutput{Body: inc}, nil
}

func (a *API) splitIncident(ctx context.Context, in *splitInput) (*incidentOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	what := "incident " + in.ID
	inc, err := st.Incident(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	if inc.MergedInto != "" {
		return nil, huma.Error409Conflict(what + " was merged into " + inc.MergedInto + ": split that one")
	}
	held, err := st.IncidentAlerts(ctx, k.Workspace, in.ID)
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	seen := map[string]bool{}
	for _, id := range in.Body.AlertIDs {
		switch {
		case seen[id]:
			return nil, invalid("body.alert_ids", "alert "+id+" is named twice", id)
		case !slices.Contains(held, id):
			return nil, invalid("body.alert_ids", "alert "+id+" is not in incident "+in.ID, id)
		}
		seen[id] = true
	}
	if len(seen) == len(held) {
		return nil, invalid("body.alert_ids", "a split leaves the incident at least one alert", in.Body.AlertIDs)
	}
	inc, err = st.SplitIncident(ctx, k.Workspace, in.ID, in.Body.AlertIDs, k.Actor())
	if err != nil {
		return nil, a.incidentError(ctx, what, err)
	}
	return &incidentOutput{Body: inc}, nil
}

func (a *API) taskTemplates(ctx context.Context, _ *struct{}) (*taskTemplatesOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	t, err := st.TaskTemplates(ctx, k.Workspace)
	if err != nil {
		return nil, a.incidentError(ctx, "task templates", err)
	}
	out := &taskTemplatesOutput{}
	out.Body.Templates = nonNil(t)
	return out, nil
}

func (a *API) setTaskTemplates(ctx context.Context, in *setTaskTemplatesInput) (*taskTemplatesOutput, error) {
	k, st, err := a.incidentScope(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[incident.Stage]bool{}
	for i, t := range in.Body.Templates {
		field := fmt.Sprintf("body.templates[%d]", i)
		switch {
		case !t.Stage.Valid():
			return nil, invalid(field+".stage", "want detect, assess, diagnose, stabilize or close", t.Stage)
		case seen[t.Stage]:
			return nil, invalid(field+".stage", "one template a stage; "+string(t.Stage)+" is named twice", t.Stage)
		}
		seen[t.Stage] = true
		if len(t.Tasks) > 50 {
			return nil, invalid(field+".tasks", "at most 50 tasks a stage", len(t.Tasks))
		}
		for j, task := range t.Tasks {
			if strings.TrimSpace(task) == "" || len(task) > 200 {
				return nil, invalid(fmt.Sprintf("%s.tasks[%d]", field, j), "a task is 1 to 200 characters", task)
			}
		}
	}
	if err := st.SetTaskTemplates(ctx, k.Workspace, in.Body.Templates, k.Actor()); err != nil {
		return nil, a.incidentError(ctx, "task templates", err)
	}
	return a.taskTemplates(ctx, nil)
}
