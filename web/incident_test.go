package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/tenant"
)

// TestMoves: the page offers, from every stage, the moves the incident
// package allows and no other, and the classifications CheckClose
// accepts; a merged incident offers none.
func TestMoves(t *testing.T) {
	for _, from := range incident.Stages {
		ms, closeTo, tpHeld := incidentMoves(incident.Incident{Stage: from})
		for _, to := range incident.Stages {
			offered := slices.ContainsFunc(ms, func(m incidentMove) bool { return m.To == to })
			if to == incident.StageClose {
				offered = len(closeTo) > 0
			}
			if legal := incident.CheckStage(from, to) == nil; offered != legal {
				t.Errorf("%s → %s offered %v, legal %v", from, to, offered, legal)
			}
		}
		for _, m := range ms {
			if !strings.Contains(m.Body, `"stage":"`+string(m.To)+`"`) {
				t.Errorf("%s → %s sends %s", from, m.To, m.Body)
			}
		}
		held := false
		for _, c := range incident.Classifications {
			ok := incident.CheckStage(from, incident.StageClose) == nil && incident.CheckClose(from, c, "r") == nil
			if slices.Contains(closeTo, c) != ok {
				t.Errorf("closing from %s as %s offered %v, accepted %v", from, c, !ok, ok)
			}
			held = held || (!ok && c.TruePositive() && incident.CheckStage(from, incident.StageClose) == nil)
		}
		if tpHeld != held {
			t.Errorf("from %s the page says a true positive waits: %v, want %v", from, tpHeld, held)
		}
	}
	if ms, c, _ := incidentMoves(incident.Incident{Stage: incident.StageAssess, MergedInto: "x"}); len(ms)+len(c) != 0 {
		t.Errorf("a merged incident offers %v and %v", ms, c)
	}
}

// TestEntityQuery: the incidentSearch box starts with the incident's
// entities, quoted, once each, at most incSearchEntities of them.
func TestEntityQuery(t *testing.T) {
	inc := incident.Incident{Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.7"}, {Type: "host", Value: "web 1"},
		{Type: "account", Value: "203.0.113.7"}, {Type: "url", Value: `/a"b`}}}
	if got, want := incidentEntityQuery(inc), `"203.0.113.7" OR "web 1"`; got != want {
		t.Errorf("query %s, want %s", got, want)
	}
	for i := range 20 {
		inc.Entities = append(inc.Entities, alert.Entity{Type: "host", Value: "h" + strings.Repeat("x", i)})
	}
	if n := strings.Count(incidentEntityQuery(inc), " OR ") + 1; n != incSearchEntities {
		t.Errorf("%d terms, want %d", n, incSearchEntities)
	}
}

// TestEventRow: a results row has the event's time and source, and
// leads with the fields that say what happened.
func TestEventRow(t *testing.T) {
	row := incidentEventRowOf(map[string]any{"id": "e1", "@timestamp": "2026-11-26T13:02:46Z", "source": "web", "format": "accesslog",
		"cloud.provider": "aws", "source.ip": "203.0.113.7", "event.action": "deny", "logsource": map[string]any{"product": "x"},
		"fields": map[string]any{"a": "b"}, "received": "2026-11-26T13:02:47Z"})
	if row.ID != "e1" || row.Time != "2026-11-26 13:02:46Z" || row.Source != "web (accesslog)" {
		t.Errorf("row %+v", row)
	}
	if want := []string{"event.action=deny", "source.ip=203.0.113.7", "cloud.provider=aws"}; !slices.Equal(row.Summary, want) {
		t.Errorf("summary %v, want %v", row.Summary, want)
	}
}

// TestIncidentTemplate draws the incident page of a closed incident with
// a done task for a responder and a reader: the reader gets no control,
// the responder the reopen move and the task toggles.
func TestIncidentTemplate(t *testing.T) {
	h, err := New(Config{API: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	inc := incident.Incident{ID: "inc1", Title: "Brute force <on> web1", Severity: alert.High, Stage: incident.StageClose,
		Status: incident.StatusClosed, Classification: incident.BenignPositive, CloseReason: "pen test", Closed: &at, Owner: "rob",
		Tags: []string{"ssh"}, Tasks: []incident.Task{{ID: "t1", Stage: incident.StageDetect, Title: "Take it", Done: true, DoneBy: "rob", DoneAt: &at},
			{ID: "t2", Stage: incident.StageClose, Title: "Write it down"}},
		Entities: []alert.Entity{{Type: "ip", Value: "203.0.113.7"}}}
	d := incidentData{Incident: inc, URL: &url.URL{Path: "/incidents/inc1"}, Severities: incidentSeverities(), Stages: incident.Stages[:],
		Tasks: incidentTaskGroups(inc), Locked: map[string]bool{}, Timeline: []incident.TimelineEntry{{Kind: "comment", Text: "looked", Actor: "user:rob", Time: at}}}
	d.Moves, d.CloseTo, d.TPHeld = incidentMoves(inc)
	draw := func(role string) string {
		w := httptest.NewRecorder()
		h.render(w, httptest.NewRequest(http.MethodGet, "/incidents/inc1", nil), http.StatusOK, "incident",
			Page{Title: inc.Title, Session: Session{User: "rob", Workspace: "w", Role: role, Scope: role}, Data: d})
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", role, w.Code, w.Body)
		}
		return w.Body.String()
	}
	reader, responder := draw(tenant.ScopeRead), draw(tenant.ScopeResponder)
	for _, s := range []string{"data-api", "data-move", "comment-form", "task-toggle"} {
		if strings.Contains(reader, s) {
			t.Errorf("the reader's page holds %s", s)
		}
	}
	for _, s := range []string{`data-move="assess"`, "Reopen into Assess", `data-task="t1"`, "Benign positive", "pen test", "Brute force &lt;on&gt; web1"} {
		if !strings.Contains(responder, s) {
			t.Errorf("the responder's page lacks %s", s)
		}
	}
	if strings.Contains(responder, `id="close-form"`) {
		t.Error("a closed incident offers the close form")
	}
}
