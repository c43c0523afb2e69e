package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// TestIncidentsSQLite works incidents through the API against the
// embedded store: creation by hand, filters and totals, refused moves
// with the workflow's reason, the Diagnose ⇄ Stabilize loop, close and
// reopen, the timeline with evidence, merge and split, templates, and the
// audit log naming the key.
func TestIncidentsSQLite(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	// The seed's alerts by last seen (a-user0 at t0, a-user1 at t0+1m,
	// a-user2 at t0+2m); the seed lists them by priority.
	alerts := slices.Clone(f.seeds["a"].alertIDs)
	lastSeen := map[string]time.Time{}
	for _, id := range alerts {
		al, err := db.Alert(t.Context(), "a", id)
		if err != nil {
			t.Fatal(err)
		}
		lastSeen[id] = al.LastSeen
	}
	slices.SortFunc(alerts, func(x, y string) int { return lastSeen[x].Compare(lastSeen[y]) })
	actor := "key:" + f.keyIDs["a-admin"]

	var first, second incident.Incident
	want(t, f.do(http.MethodPost, "/api/v1/incidents", "a-admin", map[string]any{"title": "two alerts", "alert_ids": alerts[:2]}), http.StatusCreated, &first)
	want(t, f.do(http.MethodPost, "/api/v1/incidents", "a-admin", map[string]any{"alert_ids": alerts[2:]}), http.StatusCreated, &second)
	if first.AlertCount != 2 || first.Stage != incident.StageDetect || second.Title == "" || second.AlertCount != 1 {
		t.Fatalf("created %+v and %+v", first, second)
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents", "a-admin", map[string]any{"alert_ids": []string{f.seeds["b"].alertIDs[0]}}), http.StatusUnprocessableEntity, "no alert")

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{second.ID, first.ID}}, // last seen t0+2m, then t0+1m
		{"stage=detect&status=new", []string{second.ID, first.ID}},
		{"entity=A-USER2", []string{second.ID}},
		{"stage=close", []string{}},
		{"limit=1", []string{second.ID}},
	} {
		var p incidentPage
		want(t, f.do(http.MethodGet, "/api/v1/incidents?"+c.query, "a-read", nil), http.StatusOK, &p)
		var got []string
		for _, inc := range p.Incidents {
			got = append(got, inc.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("?%s: %v, want %v", c.query, got, c.want)
		}
		if total := len(c.want); c.query == "limit=1" && (p.Total != 2 || p.Next == "") || c.query != "limit=1" && p.Total != total {
			t.Errorf("?%s: total %d next %q", c.query, p.Total, p.Next)
		}
	}
	wantProblem(t, f.do(http.MethodGet, "/api/v1/incidents?cursor=nope", "a-read", nil), http.StatusUnprocessableEntity, "cursor")

	path := "/api/v1/incidents/" + first.ID
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "diagnose"}), http.StatusConflict, "assess the incident before diagnosing")
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "assess", "owner": "alice", "comment": "taking it"}), http.StatusOK, nil)
	wantProblem(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "close", "classification": "true_positive_impact", "reason": "x"}),
		http.StatusConflict, "diagnosed before it is closed")
	for _, s := range []string{"diagnose", "stabilize", "diagnose"} {
		want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": s}), http.StatusOK, nil)
	}
	var inc incident.Incident
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "close", "classification": "true_positive_no_impact", "reason": "contained"}), http.StatusOK, &inc)
	if inc.Status != incident.StatusClosed || inc.Classification != incident.TruePositiveNoImpact || inc.Owner != "alice" {
		t.Fatalf("closed %+v", inc)
	}
	var closed incidentPage
	want(t, f.do(http.MethodGet, "/api/v1/incidents?status=closed&owner=alice", "a-read", nil), http.StatusOK, &closed)
	if closed.Total != 1 || closed.Incidents[0].ID != first.ID {
		t.Errorf("closed incidents of alice %+v", closed)
	}
	inc = incident.Incident{}
	want(t, f.do(http.MethodPatch, path, "a-admin", map[string]any{"stage": "assess", "comment": "new evidence"}), http.StatusOK, &inc)
	if inc.Stage != incident.StageAssess || inc.Reopened != 1 {
		t.Errorf("reopened %+v", inc)
	}

	// The timeline: stored entries and the alerts' evidence, by time; a
	// walk in pages of 3 gives the same.
	var tl timelinePage
	want(t, f.do(http.MethodGet, path+"/timeline?limit=1000", "a-read", nil), http.StatusOK, &tl)
	kinds := map[string]int{}
	for i, e := range tl.Entries {
		kinds[e.Kind]++
		if i > 0 && e.Time.Before(tl.Entries[i-1].Time) {
			t.Errorf("timeline out of order at %d: %+v", i, tl.Entries)
		}
		if e.Kind == incident.TimelineComment && e.Actor != actor {
			t.Errorf("comment by %q, want %s", e.Actor, actor)
		}
	}
	if kinds[incident.TimelineEvidence] != 2 || kinds[incident.TimelineAlert] != 2 || kinds[incident.TimelineComment] < 2 || kinds[incident.TimelineStage] < 5 {
		t.Errorf("timeline kinds %v: %+v", kinds, tl.Entries)
	}
	var walked []incident.TimelineEntry
	cursor := ""
	for range 50 {
		var p timelinePage
		want(t, f.do(http.MethodGet, path+"/timeline?limit=3&cursor="+cursor, "a-read", nil), http.StatusOK, &p)
		walked = append(walked, p.Entries...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(walked) != len(tl.Entries) {
		t.Errorf("paged walk %d entries, unpaged %d", len(walked), len(tl.Entries))
	}

	// Merge the second into the first, split its alert off again.
	want(t, f.do(http.MethodPost, path+"/merge", "a-admin", map[string]any{"from": []string{second.ID}}), http.StatusOK, &inc)
	if inc.AlertCount != 3 {
		t.Errorf("after the merge %+v", inc)
	}
	var gone incident.Incident
	want(t, f.do(http.MethodGet, "/api/v1/incidents/"+second.ID, "a-read", nil), http.StatusOK, &gone)
	if gone.MergedInto != first.ID || gone.Status != incident.StatusClosed {
		t.Errorf("merged incident %+v", gone)
	}
	// A merged incident takes no more work of this kind: 409.
	gonePath := "/api/v1/incidents/" + second.ID
	wantProblem(t, f.do(http.MethodPost, path+"/merge", "a-admin", map[string]any{"from": []string{second.ID}}), http.StatusConflict, "merged into "+first.ID+" already")
	wantProblem(t, f.do(http.MethodPost, gonePath+"/merge", "a-admin", map[string]any{"from": []string{first.ID}}), http.StatusConflict, "merge into that one")
	wantProblem(t, f.do(http.MethodPost, gonePath+"/alerts", "a-admin", map[string]any{"alert_ids": alerts[:1]}), http.StatusConflict, "add the alerts there")
	wantProblem(t, f.do(http.MethodPost, gonePath+"/split", "a-admin", map[string]any{"alert_ids": alerts[:1]}), http.StatusConflict, "split that one")
	wantProblem(t, f.do(http.MethodPatch, gonePath, "a-admin", map[string]any{"stage": "assess"}), http.StatusConflict, "merged into")
	var split incident.Incident
	want(t, f.do(http.MethodPost, path+"/split", "a-admin", map[string]any{"alert_ids": alerts[2:]}), http.StatusCreated, &split)
	if split.AlertCount != 1 || split.ID == first.ID {
		t.Errorf("split %+v", split)
	}
	var als struct {
		Alerts []struct{ ID string } `json:"alerts"`
		Total  int                   `json:"total"`
	}
	want(t, f.do(http.MethodGet, path+"/alerts", "a-read", nil), http.StatusOK, &als)
	if als.Total != 2 || len(als.Alerts) != 2 || !slices.ContainsFunc(als.Alerts, func(a struct{ ID string }) bool { return a.ID == alerts[0] }) ||
		!slices.ContainsFunc(als.Alerts, func(a struct{ ID string }) bool { return a.ID == alerts[1] }) {
		t.Errorf("alerts of %s after the split: %+v", first.ID, als)
	}
	want(t, f.do(http.MethodGet, path+"/similar", "a-read", nil), http.StatusOK, nil)

	// Nothing merges into a closed incident.
	want(t, f.do(http.MethodPatch, "/api/v1/incidents/"+split.ID, "a-admin", map[string]any{"stage": "close", "classification": "benign_positive", "reason": "admin at work"}), http.StatusOK, nil)
	wantProblem(t, f.do(http.MethodPost, "/api/v1/incidents/"+split.ID+"/merge", "a-admin", map[string]any{"from": []string{first.ID}}), http.StatusConflict, "reopen it before merging")

	set := map[string]any{"templates": []map[string]any{{"stage": "assess", "tasks": []string{"who is the source?"}}}}
	var tpl taskTemplatesBody
	want(t, f.do(http.MethodPut, "/api/v1/incident-task-templates", "a-admin", set), http.StatusOK, &tpl)
	if !slices.ContainsFunc(tpl.Templates, func(x incident.TaskTemplate) bool {
		return x.Stage == incident.StageAssess && slices.Equal(x.Tasks, []string{"who is the source?"})
	}) {
		t.Errorf("templates %+v", tpl)
	}

	// Every change is audited as the key's.
	audit, _, err := db.AuditLog(t.Context(), "a", store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range audit {
		if strings.HasPrefix(e.Action, "incident") {
			actions[e.Action]++
			if e.Actor != actor {
				t.Errorf("audit %s by %q, want %s", e.Action, e.Actor, actor)
			}
		}
	}
	for _, a := range []string{"incident.create", "incident.stage", "incident.close", "incident.comment", "incident.assign"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the audit log: %v", a, actions)
		}
	}
}
