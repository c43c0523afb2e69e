package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

type incidentPage struct {
	Incidents []incident.Incident `json:"incidents"`
	Next      string              `json:"next"`
	Total     int                 `json:"total"`
}

type timelinePage struct {
	Entries []incident.TimelineEntry `json:"entries"`
	Next    string                   `json:"next"`
	Total   int                      `json:"total"`
}

// seedIncidents gives workspaces a and b one incident each, made by hand
// from their first two alerts, with a comment; it returns b's id, or ""
// when the store keeps no incidents.
func seedIncidents(t *testing.T, f *fixture) string {
	t.Helper()
	st, ok := f.st.(store.Incidents)
	if !ok {
		return ""
	}
	ctx := context.Background()
	var idB string
	for _, ws := range []string{"a", "b"} {
		inc, err := st.CreateIncident(ctx, ws, "incident of "+ws, f.seeds[ws].alertIDs[:2], "test")
		if err != nil {
			t.Fatalf("create incident of %s: %v", ws, err)
		}
		if _, err := st.ChangeIncident(ctx, ws, inc.ID, incident.Change{Comment: "note of " + ws}, "test"); err != nil {
			t.Fatalf("comment on incident of %s: %v", ws, err)
		}
		if ws == "b" {
			idB = inc.ID
		}
	}
	return idB
}

// incidentSnapshot is what a workspace holds of incidents: each with its
// alerts and timeline, and the task templates.
func incidentSnapshot(t *testing.T, s store.Store, ws string) any {
	t.Helper()
	st, ok := s.(store.Incidents)
	if !ok {
		return nil
	}
	ctx := context.Background()
	list, _, err := st.Incidents(ctx, ws, store.IncidentQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	type held struct {
		Incident incident.Incident
		Alerts   []string
		Timeline []incident.TimelineEntry
	}
	var out []held
	for _, inc := range list {
		als, err1 := st.IncidentAlerts(ctx, ws, inc.ID)
		tl, _, err2 := st.Timeline(ctx, ws, inc.ID, store.TimelineQuery{Limit: 1000})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		out = append(out, held{inc, als, tl})
	}
	tpl, err := st.TaskTemplates(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	return struct {
		Held      []held
		Templates []incident.TaskTemplate
	}{out, tpl}
}

// incidentsUnserved reports whether the route is an incident route the
// fixture's store cannot serve (it keeps no incidents); such a route must
// answer 503.
func incidentsUnserved(t *testing.T, f *fixture, method, path string, body any) bool {
	t.Helper()
	if _, ok := f.st.(store.Incidents); ok || !strings.HasPrefix(path, "/api/v1/incident") {
		return false
	}
	wantProblem(t, f.do(method, strings.Replace(path, "{id}", "x", 1), "a-admin", body), http.StatusServiceUnavailable, "keeps no incidents")
	return true
}

// incidentFixture is a fixture whose workspace a holds three incidents,
// one an alert (info, low, medium; last seen t0, +1m, +2m): inc[1] is in
// assess, owned by alice and tagged ransomware, inc[2] closed as a false
// positive; priorities 90, 10, 50.
func incidentFixture(t *testing.T) (*fixture, *fakeStore, []string) {
	t.Helper()
	st := newFakeStore()
	f := newFixture(t, st)
	ctx := context.Background()
	var ids []string
	for i, aid := range f.seeds["a"].alertIDs {
		inc, err := st.CreateIncident(ctx, "a", "incident "+string(rune('A'+i)), []string{aid}, "test")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	assess, closed := incident.StageAssess, incident.StageClose
	alice := "alice"
	if _, err := st.ChangeIncident(ctx, "a", ids[1], incident.Change{Stage: &assess, Owner: &alice, AddTags: []string{"ransomware"}}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ChangeIncident(ctx, "a", ids[2], incident.Change{Stage: &closed, Classification: incident.FalsePositive, Reason: "lab"}, "test"); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	for i, p := range []int{90, 10, 50} {
		st.incidents.list[i].Priority = p
	}
	st.mu.Unlock()
	return f, st, ids
}

func (f *fixture) incidentIDs(query string) (ids []string, total int, next string) {
	f.t.Helper()
	var p incidentPage
	want(f.t, f.do(http.MethodGet, "/api/v1/incidents?"+query, "a-read", nil), http.StatusOK, &p)
	ids = []string{}
	for _, inc := range p.Incidents {
		if inc.Workspace != "a" {
			f.t.Errorf("incident %s of workspace %s listed to a", inc.ID, inc.Workspace)
		}
		ids = append(ids, inc.ID)
	}
	return ids, p.Total, p.Next
}

func TestIncidentsList(t *testing.T) {
	f, _, ids := incidentFixture(t)
	at := func(m int) string {
		return url.QueryEscape(t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339))
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{ids[2], ids[1], ids[0]}},
		{"sort=last_seen", []string{ids[2], ids[1], ids[0]}},
		{"sort=priority", []string{ids[0], ids[2], ids[1]}},
		{"stage=detect", ids[:1]},
		{"stage=assess,close", []string{ids[2], ids[1]}},
		{"stage=assess&stage=close", []string{ids[2], ids[1]}},
		{"stage=", []string{ids[2], ids[1], ids[0]}},
		{"status=active", ids[1:2]},
		{"status=new&status=closed", []string{ids[2], ids[0]}},
		{"min_severity=low", []string{ids[2], ids[1]}},
		{"min_severity=critical", nil},
		{"owner=alice", ids[1:2]},
		{"owner=bob", nil},
		{"tag=ransomware", ids[1:2]},
		{"entity=a-user2", ids[2:]},
		{"since=" + at(1), []string{ids[2], ids[1]}},
		{"until=" + at(1), ids[:1]},
		{"since=" + at(1) + "&until=" + at(2), ids[1:2]},
		{"status=new,active&sort=priority", []string{ids[0], ids[1]}},
		{"q=INCIDENT+b", ids[1:2]},
		{"q=user2", ids[2:]},
		{"q=" + ids[0], ids[:1]},
		{"q=nothing+like+it", nil},
	} {
		got, total, _ := f.incidentIDs(c.query)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("?%s: %v, want %v", c.query, got, c.want)
		}
		if total != len(c.want) {
			t.Errorf("?%s: total %d, want %d", c.query, total, len(c.want))
		}
	}

	// Pages of one: each holds the next incident, the total stays 3, the
	// last has no cursor.
	var walked []string
	cursor := ""
	for range 5 {
		got, total, next := f.incidentIDs("sort=priority&limit=1&cursor=" + url.QueryEscape(cursor))
		if total != 3 || len(got) != 1 {
			t.Fatalf("page after %q: %v total %d", cursor, got, total)
		}
		walked = append(walked, got...)
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(walked, ",") != strings.Join([]string{ids[0], ids[2], ids[1]}, ",") {
		t.Errorf("paged walk %v", walked)
	}

	for _, c := range []struct{ query, mention string }{
		{"stage=nope", "query.stage"},
		{"stage=assess,nope", "query.stage"},
		{"status=open", "query.status"},
		{"min_severity=severe", "min_severity"},
		{"sort=owner", "sort"},
		{"since=" + at(2) + "&until=" + at(1), "until must be after since"},
		{"since=yesterday", "since"},
		{"limit=0", "limit"},
		{"owner_name=alice", "owner"},
		{"cursor=zz", "cursor"},
	} {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents?"+c.query, "a-read", nil), http.StatusUnprocessableEntity, c.mention)
	}
}

func TestIncidentGetAndAlerts(t *testing.T) {
	f, _, ids := incidentFixture(t)
	var inc incident.Incident
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[1], "a-read", nil), http.StatusOK, &inc)
	if inc.ID != ids[1] || inc.Stage != incident.StageAssess || inc.Status != incident.StatusActive || inc.Owner != "alice" || inc.AlertCount != 1 {
		t.Errorf("incident %+v", inc)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/nope", "a-read", nil), http.StatusNotFound, "incident nope not found")

	// An incident of two alerts, listed in joining order, a page each.
	alerts := f.seeds["a"].alertIDs
	want(t, f.do(http.MethodPost, "/api/v1/incidents/"+ids[0]+"/alerts", "a-admin", map[string]any{"alert_ids": []string{alerts[2]}}), http.StatusOK, &inc)
	if inc.AlertCount != 2 {
		t.Fatalf("after adding: %+v", inc)
	}
	type page struct {
		Alerts []struct{ ID string } `json:"alerts"`
		Next   string                `json:"next"`
		Total  int                   `json:"total"`
	}
	var p page
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/alerts", "a-read", nil), http.StatusOK, &p)
	if len(p.Alerts) != 2 || p.Alerts[0].ID != alerts[0] || p.Alerts[1].ID != alerts[2] || p.Total != 2 || p.Next != "" {
		t.Errorf("alerts %+v", p)
	}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/alerts?limit=1", "a-read", nil), http.StatusOK, &p)
	if len(p.Alerts) != 1 || p.Alerts[0].ID != alerts[0] || p.Next == "" {
		t.Fatalf("first page %+v", p)
	}
	next := p.Next
	p = page{}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/alerts?limit=1&cursor="+next, "a-read", nil), http.StatusOK, &p)
	if len(p.Alerts) != 1 || p.Alerts[0].ID != alerts[2] || p.Next != "" {
		t.Errorf("second page %+v", p)
	}
	// The alert left the incident it was in.
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[2], "a-read", nil), http.StatusOK, &inc)
	if inc.AlertCount != 0 {
		t.Errorf("incident %s still counts %d alerts", ids[2], inc.AlertCount)
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/alerts?cursor=7", "a-read", nil), http.StatusUnprocessableEntity, "query.cursor")
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/nope/alerts", "a-read", nil), http.StatusNotFound)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents/"+ids[0]+"/alerts", "a-admin", map[string]any{"alert_ids": []string{"nope"}}), http.StatusUnprocessableEntity, "no alert nope")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents/"+ids[0]+"/alerts", "a-admin", map[string]any{"alert_ids": []string{}}), http.StatusUnprocessableEntity)

	var sim struct {
		Similar []incident.Similar `json:"similar"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[1]+"/similar", "a-read", nil), http.StatusOK, &sim)
	if sim.Similar == nil {
		t.Error("similar is null, want a list")
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/nope/similar", "a-read", nil), http.StatusNotFound)
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[1]+"/similar?limit=101", "a-read", nil), http.StatusUnprocessableEntity, "limit")
}

func TestIncidentTimeline(t *testing.T) {
	f, st, ids := incidentFixture(t)
	alerts := f.seeds["a"].alertIDs
	// ids[0] gets a second alert and a comment an hour later: its stored
	// entries are created, two alerts, a comment; its evidence the two
	// alerts' events.
	want(t, f.do(http.MethodPost, "/api/v1/incidents/"+ids[0]+"/alerts", "a-admin", map[string]any{"alert_ids": []string{alerts[1]}}), http.StatusOK, nil)
	want(t, f.do(http.MethodPatch, "/api/v1/incidents/"+ids[0], "a-admin", map[string]any{"comment": "looked at it"}), http.StatusOK, nil)
	var full timelinePage
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/timeline", "a-read", nil), http.StatusOK, &full)
	kinds := map[string]int{}
	for i, e := range full.Entries {
		kinds[e.Kind]++
		if i > 0 && e.Time.Before(full.Entries[i-1].Time) {
			t.Errorf("entry %d (%s at %s) before the one above it (%s)", i, e.Kind, e.Time, full.Entries[i-1].Time)
		}
		if e.Kind == incident.TimelineEvidence && (e.EventID == "" || e.AlertID == "" || e.Seq != 0) {
			t.Errorf("evidence entry %+v", e)
		}
		if e.Kind == incident.TimelineComment && (e.Text != "looked at it" || e.Actor != "key:"+f.keyIDs["a-admin"]) {
			t.Errorf("comment entry %+v, want the text and actor key:%s", e, f.keyIDs["a-admin"])
		}
	}
	if kinds[incident.TimelineEvidence] != 2 || kinds[incident.TimelineAlert] != 2 || kinds[incident.TimelineComment] != 1 || kinds[incident.TimelineCreated] != 1 || full.Next != "" {
		t.Fatalf("timeline kinds %v next %q: %+v", kinds, full.Next, full.Entries)
	}
	// An evidence event sits right after its alert's entry (same time).
	for i, e := range full.Entries {
		if e.Kind == incident.TimelineEvidence && (i == 0 || full.Entries[i-1].AlertID != e.AlertID) {
			t.Errorf("evidence of %s at %d does not follow its alert: %+v", e.AlertID, i, full.Entries)
		}
	}

	var stored timelinePage
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/timeline?evidence=false", "a-read", nil), http.StatusOK, &stored)
	if len(stored.Entries) != len(full.Entries)-2 || slices.ContainsFunc(stored.Entries, func(e incident.TimelineEntry) bool { return e.Kind == incident.TimelineEvidence }) {
		t.Errorf("evidence=false: %+v", stored.Entries)
	}
	if full.Total != len(full.Entries) || stored.Total != len(stored.Entries) {
		t.Errorf("totals %d and %d, want %d and %d", full.Total, stored.Total, len(full.Entries), len(stored.Entries))
	}

	// Pages of two walk the same entries, none twice, even when an entry
	// is added meanwhile at the end.
	var walked []incident.TimelineEntry
	cursor := ""
	for range 10 {
		var p timelinePage
		want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/timeline?limit=2&cursor="+cursor, "a-read", nil), http.StatusOK, &p)
		walked = append(walked, p.Entries...)
		if len(walked) == 2 && p.Total != len(full.Entries) {
			t.Errorf("a page of two says total %d, want %d", p.Total, len(full.Entries))
		}
		if len(walked) == 2 {
			if err := st.AppendTimeline(context.Background(), "a", ids[0], []incident.TimelineEntry{{Time: t0.Add(2 * time.Hour), Kind: incident.TimelineAutomation, Actor: "vigil:automation:x", Summary: "tagged"}}); err != nil {
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(walked) != len(full.Entries)+1 || walked[len(walked)-1].Kind != incident.TimelineAutomation {
		t.Fatalf("walked %d entries, want %d and the automation last: %+v", len(walked), len(full.Entries)+1, walked)
	}
	for i, e := range full.Entries {
		if walked[i].Kind != e.Kind || walked[i].Seq != e.Seq || walked[i].EventID != e.EventID {
			t.Errorf("paged entry %d %+v, unpaged %+v", i, walked[i], e)
		}
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[0]+"/timeline?cursor=!!", "a-read", nil), http.StatusUnprocessableEntity, "query.cursor")
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents/nope/timeline", "a-read", nil), http.StatusNotFound)
}

func TestIncidentChange(t *testing.T) {
	f, _, ids := incidentFixture(t)
	id := ids[0] // in detect
	path := "/api/v1/incidents/" + id
	patch := func(key string, body any) *incidentResponse {
		w := f.do(http.MethodPatch, path, key, body)
		return &incidentResponse{w.Code, w.Body.String()}
	}
	var inc incident.Incident

	// Illegal moves: 409 with the workflow's reason, nothing changed.
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "diagnose"}), http.StatusConflict, "assess the incident before diagnosing")
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "detect"}), http.StatusConflict, "in that stage already")
	want(t, f.do(http.MethodGet, path, "a-read", nil), http.StatusOK, &inc)
	if inc.Stage != incident.StageDetect {
		t.Fatalf("stage %s after refused moves", inc.Stage)
	}

	// Invalid input: 422 naming the field.
	for _, c := range []struct {
		body    any
		mention string
	}{
		{map[string]any{}, "changes nothing"},
		{map[string]any{"stage": "closed"}, "stage"},
		{map[string]any{"stage": "close", "reason": "done"}, "body.classification"},
		{map[string]any{"stage": "close", "classification": "false_positive"}, "body.reason"},
		{map[string]any{"stage": "close", "classification": "false_positive", "reason": "  "}, "body.reason"},
		{map[string]any{"classification": "false_positive", "reason": "x"}, "with stage close only"},
		{map[string]any{"stage": "close", "classification": "maybe", "reason": "x"}, "classification"},
		{map[string]any{"severity": "severe"}, "severity"},
		{map[string]any{"comment": "   "}, "body.comment"},
		{map[string]any{"add_tags": []string{"x"}, "remove_tags": []string{"x"}}, "both added and removed"},
		{map[string]any{"add_tags": []string{""}}, "body.add_tags"},
		{map[string]any{"add_task": map[string]any{"title": " "}}, "body.add_task.title"},
		{map[string]any{"assessment": map[string]any{"intent": map[string]any{"estimate": "targeted"}}}, "body.sections"},
		{map[string]any{"sections": []string{"intent"}}, "body.assessment"},
		{map[string]any{"assessment": map[string]any{}, "sections": []string{"motive"}}, "body.sections"},
		{map[string]any{"assessment": map[string]any{"intnet": map[string]any{}}, "sections": []string{"intent"}}, "intnet"},
		{map[string]any{"assessment": map[string]any{"intent": map[string]any{"estimate": "sure"}}, "sections": []string{"intent"}}, "targeted, random or unknown"},
		{map[string]any{"owner": 7}, "owner"},
	} {
		wantProblem(t, f.do(http.MethodPatch, path, "a-admin", c.body), http.StatusUnprocessableEntity, c.mention)
	}

	// Scope: a read key may not change it.
	wantProblem(t, f.do(http.MethodPatch, path, "a-read", map[string]any{"comment": "x"}), http.StatusForbidden, "admin")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/incidents/nope", "a-admin", map[string]any{"comment": "x"}), http.StatusNotFound)

	// The response: assess, diagnose ⇄ stabilize, close as a true
	// positive, reopen.
	if r := patch("a-admin", map[string]any{"stage": "assess", "owner": "bob", "add_tags": []string{"ssh", "web"}, "severity": "high",
		"add_task": map[string]any{"title": "check the bastion"}}); r.code != http.StatusOK {
		t.Fatalf("assess: %d %s", r.code, r.body)
	}
	want(t, f.do(http.MethodGet, path, "a-read", nil), http.StatusOK, &inc)
	if inc.Stage != incident.StageAssess || inc.Owner != "bob" || strings.Join(inc.Tags, ",") != "ssh,web" || inc.Severity.String() != "high" ||
		len(inc.Tasks) != 1 || inc.Tasks[0].Stage != incident.StageAssess {
		t.Fatalf("after assess: %+v", inc)
	}
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "close", "classification": "true_positive_impact", "reason": "x"}),
		http.StatusConflict, "diagnosed before it is closed")
	for _, s := range []string{"diagnose", "stabilize", "diagnose", "stabilize"} {
		if r := patch("a-admin", map[string]any{"stage": s}); r.code != http.StatusOK {
			t.Fatalf("to %s: %d %s", s, r.code, r.body)
		}
	}
	body := map[string]any{"task_done": map[string]bool{inc.Tasks[0].ID: true}, "remove_tags": []string{"web"}, "owner": "",
		"assessment": map[string]any{"intent": map[string]any{"estimate": "targeted", "reasons": []string{"valid user names"}}}, "sections": []string{"intent"}}
	inc = incident.Incident{} // omitted fields (owner) must not linger
	want(t, f.do(http.MethodPatch, path, "a-admin", body), http.StatusOK, &inc)
	if !inc.Tasks[0].Done || inc.Owner != "" || strings.Join(inc.Tags, ",") != "ssh" || inc.Assessment.Intent.Estimate != "targeted" || !slices.Contains(inc.Assessment.Locked, "intent") {
		t.Fatalf("after edits: %+v", inc)
	}
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "close", "classification": "true_positive_impact", "reason": "contained"}), http.StatusOK, &inc)
	if inc.Status != incident.StatusClosed || inc.Classification != incident.TruePositiveImpact || inc.CloseReason != "contained" {
		t.Fatalf("closed: %+v", inc)
	}
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "diagnose"}), http.StatusConflict, "reopened into assess")
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "assess", "comment": "new evidence"}), http.StatusOK, &inc)
	if inc.Stage != incident.StageAssess || inc.Reopened != 1 {
		t.Errorf("reopened: %+v", inc)
	}
	// Every action is the key's.
	var tl timelinePage
	want(t, f.do(http.MethodGet, path+"/timeline?evidence=false&limit=1000", "a-read", nil), http.StatusOK, &tl)
	stages := 0
	for _, e := range tl.Entries {
		if e.Kind == incident.TimelineStage {
			stages++
			if e.Actor != "key:"+f.keyIDs["a-admin"] {
				t.Errorf("stage entry by %q, want key:%s", e.Actor, f.keyIDs["a-admin"])
			}
		}
	}
	if stages != 7 {
		t.Errorf("%d stage entries, want 7 (assess, 4 moves, close, reopen): %+v", stages, tl.Entries)
	}
}

type incidentResponse struct {
	code int
	body string
}

func TestIncidentCreateMergeSplit(t *testing.T) {
	f, _, ids := incidentFixture(t)
	alerts := f.seeds["a"].alertIDs
	var inc incident.Incident
	w := f.do(http.MethodPost, "/api/v1/incidents", "a-admin", map[string]any{"title": " Brute force then login ", "alert_ids": alerts[:2]})
	want(t, w, http.StatusCreated, &inc)
	if inc.Title != "Brute force then login" || inc.AlertCount != 2 || inc.Stage != incident.StageDetect || inc.Workspace != "a" {
		t.Fatalf("created %+v", inc)
	}
	created := inc.ID
	for _, c := range []struct {
		body    any
		mention string
	}{
		{map[string]any{"title": "x", "alert_ids": []string{"nope"}}, "no alert nope"},
		{map[string]any{"title": "x", "alert_ids": []string{alerts[0], alerts[0]}}, "named twice"},
		{map[string]any{"title": "  ", "alert_ids": alerts[:1]}, "body.title"},
		{map[string]any{"title": "x", "alert_ids": []string{}}, "alert_ids"},
		{map[string]any{"title": "x", "alert_ids": []string{f.seeds["b"].alertIDs[0]}}, "no alert"},
	} {
		wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents", "a-admin", c.body), http.StatusUnprocessableEntity, c.mention)
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents", "a-read", map[string]any{"title": "x", "alert_ids": alerts[:1]}), http.StatusForbidden)

	// Merge ids[2] (alert 2) into the new incident.
	mergePath := "/api/v1/incidents/" + created + "/merge"
	wantProblem(t, f.do(http.MethodPost, mergePath, "a-admin", map[string]any{"from": []string{created}}), http.StatusUnprocessableEntity, "not merged into itself")
	wantProblem(t, f.do(http.MethodPost, mergePath, "a-admin", map[string]any{"from": []string{"nope"}}), http.StatusUnprocessableEntity, "no incident nope")
	wantProblem(t, f.do(http.MethodPost, mergePath, "a-admin", map[string]any{"from": []string{ids[2], ids[2]}}), http.StatusUnprocessableEntity, "named twice")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents/nope/merge", "a-admin", map[string]any{"from": []string{ids[2]}}), http.StatusNotFound)
	want(t, f.do(http.MethodPost, mergePath, "a-admin", map[string]any{"from": []string{ids[2]}}), http.StatusOK, &inc)
	if inc.ID != created || inc.AlertCount != 3 {
		t.Fatalf("merged into %+v", inc)
	}
	var merged incident.Incident
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+ids[2], "a-read", nil), http.StatusOK, &merged)
	if merged.MergedInto != created || merged.Status != incident.StatusClosed {
		t.Errorf("merged incident %+v", merged)
	}

	// Split alert 2 off again.
	splitPath := "/api/v1/incidents/" + created + "/split"
	wantProblem(t, f.do(http.MethodPost, splitPath, "a-admin", map[string]any{"alert_ids": []string{f.seeds["b"].alertIDs[0]}}), http.StatusUnprocessableEntity, "is not in incident")
	wantProblem(t, f.do(http.MethodPost, splitPath, "a-admin", map[string]any{"alert_ids": alerts}), http.StatusUnprocessableEntity, "at least one alert")
	wantProblem(t, f.do(http.MethodPost, splitPath, "a-admin", map[string]any{"alert_ids": []string{alerts[2], alerts[2]}}), http.StatusUnprocessableEntity, "named twice")
	var split incident.Incident
	want(t, f.do(http.MethodPost, splitPath, "a-admin", map[string]any{"alert_ids": []string{alerts[2]}}), http.StatusCreated, &split)
	if split.ID == created || split.AlertCount != 1 {
		t.Fatalf("split off %+v", split)
	}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+created, "a-read", nil), http.StatusOK, &inc)
	if inc.AlertCount != 2 {
		t.Errorf("after the split %s holds %d alerts, want 2", created, inc.AlertCount)
	}
}

// TestIncidentBodiesStayInWorkspace: ids of another workspace in a body
// are refused as unknown, and change nothing there.
func TestIncidentBodiesStayInWorkspace(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, st)
	incB := seedIncidents(t, f)
	before := incidentSnapshot(t, st, "b")
	var own incidentPage
	want(t, f.do(http.MethodGet, "/api/v1/incidents", "a-admin", nil), http.StatusOK, &own)
	if len(own.Incidents) != 1 || own.Total != 1 {
		t.Fatalf("a's incidents %+v", own)
	}
	a := own.Incidents[0].ID
	bAlert := f.seeds["b"].alertIDs[0]
	for _, c := range []struct {
		path string
		body any
	}{
		{"/api/v1/incidents/" + a + "/merge", map[string]any{"from": []string{incB}}},
		{"/api/v1/incidents/" + a + "/alerts", map[string]any{"alert_ids": []string{bAlert}}},
		{"/api/v1/incidents/" + a + "/split", map[string]any{"alert_ids": []string{bAlert}}},
		{"/api/v1/incidents", map[string]any{"title": "x", "alert_ids": []string{bAlert}}},
	} {
		wantProblem(t, f.do(http.MethodPost, c.path, "a-admin", c.body), http.StatusUnprocessableEntity)
	}
	if after := incidentSnapshot(t, st, "b"); !equalJSON(t, before, after) {
		t.Errorf("b's incidents changed through a's key")
	}
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+incB, "b-read", nil), http.StatusOK, nil)
}

func equalJSON(t *testing.T, x, y any) bool {
	t.Helper()
	bx, err1 := json.Marshal(x)
	by, err2 := json.Marshal(y)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(bx) == string(by)
}

func TestIncidentTaskTemplates(t *testing.T) {
	f, _, _ := incidentFixture(t)
	var got taskTemplatesBody
	want(t, f.do(http.MethodGet, "/api/v1/incident-task-templates", "a-read", nil), http.StatusOK, &got)
	if len(got.Templates) == 0 {
		t.Fatalf("no default templates: %+v", got)
	}
	for _, c := range []struct {
		body    any
		mention string
	}{
		{map[string]any{"templates": []map[string]any{{"stage": "triage", "tasks": []string{"x"}}}}, "body.templates[0].stage"},
		{map[string]any{"templates": []map[string]any{{"stage": "assess", "tasks": []string{"x"}}, {"stage": "assess", "tasks": []string{"y"}}}}, "named twice"},
		{map[string]any{"templates": []map[string]any{{"stage": "assess", "tasks": []string{" "}}}}, "body.templates[0].tasks[0]"},
	} {
		wantProblem(t, f.do(http.MethodPut, "/api/v1/incident-task-templates", "a-admin", c.body), http.StatusUnprocessableEntity, c.mention)
	}
	set := map[string]any{"templates": []map[string]any{{"stage": "assess", "tasks": []string{"who is the source?", "what did it reach?"}}, {"stage": "stabilize", "tasks": []string{"block the source"}}}}
	wantProblem(t, f.do(http.MethodPut, "/api/v1/incident-task-templates", "a-read", set), http.StatusForbidden)
	want(t, f.do(http.MethodPut, "/api/v1/incident-task-templates", "a-admin", set), http.StatusOK, &got)
	want(t, f.do(http.MethodGet, "/api/v1/incident-task-templates", "a-read", nil), http.StatusOK, &got)
	if len(got.Templates) != 2 || got.Templates[0].Stage != incident.StageAssess || len(got.Templates[0].Tasks) != 2 || got.Templates[1].Tasks[0] != "block the source" {
		t.Errorf("templates %+v", got)
	}
	var other taskTemplatesBody
	want(t, f.do(http.MethodGet, "/api/v1/incident-task-templates", "b-read", nil), http.StatusOK, &other)
	if len(other.Templates) == 2 {
		t.Errorf("b sees a's templates: %+v", other)
	}
}

// TestIncidentScopes: reading takes a read key, changing a responder (or
// admin) key; an ingest key does neither.
func TestIncidentScopes(t *testing.T) {
	f, _, ids := incidentFixture(t)
	for _, rt := range allRoutes {
		if !strings.HasPrefix(rt.path, "/api/v1/incident") {
			continue
		}
		p := strings.Replace(rt.path, "{id}", ids[0], 1)
		if rt.method == http.MethodGet {
			want(t, f.do(rt.method, p, "a-read", nil), http.StatusOK, nil)
		} else {
			wantProblem(t, f.do(rt.method, p, "a-read", rt.body), http.StatusForbidden, "scope responder or admin")
			if w := f.do(rt.method, p, "a-responder", rt.body); w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized {
				t.Errorf("%s %s with a responder key: %d %s", rt.method, p, w.Code, w.Body)
			}
		}
		wantProblem(t, f.do(rt.method, p, "a-ingest", rt.body), http.StatusForbidden)
		wantProblem(t, f.do(rt.method, p, "", rt.body), http.StatusUnauthorized)
	}
}

// noIncidentStore is a store that keeps no incidents.
type noIncidentStore struct{ store.Store }

func TestIncidentsWithoutStore(t *testing.T) {
	st := newFakeStore()
	f := newFixture(t, noIncidentStore{st})
	if _, ok := f.st.(store.Incidents); ok {
		t.Fatal("the wrapped store still keeps incidents")
	}
	for _, rt := range allRoutes {
		if strings.HasPrefix(rt.path, "/api/v1/incident") && !incidentsUnserved(t, f, rt.method, rt.path, rt.body) {
			t.Errorf("%s %s served without an incident store", rt.method, rt.path)
		}
	}
}
