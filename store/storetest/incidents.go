package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// makeAlerts commits one alert of rule for each host, in ws, and returns
// their ids in the hosts' order.
func makeAlerts(t *testing.T, db People, ws, rule string, sev alert.Severity, hosts ...string) []string {
	t.Helper()
	b := Batch(ws, "s")
	for i, h := range hosts {
		e := Event(ws, "s", T0.Add(time.Duration(i)*time.Second), h, "u", "10.0.0.1")
		b.Events = append(b.Events, e)
		b.Signals = append(b.Signals, Signal(ws, rule, sev, h, e))
	}
	commit(t, db, b)
	var out []string
	for _, h := range hosts {
		as, _, err := db.Alerts(ctx, ws, store.AlertQuery{RuleID: rule, Entity: h})
		if err != nil || len(as) != 1 {
			t.Fatalf("alert of %s on %s: %d, %v", rule, h, len(as), err)
		}
		out = append(out, as[0].ID)
	}
	return out
}

// testAlertsByID: the alerts of the ids asked for, as Alert reads them,
// those of another workspace and the missing ones left out.
func testAlertsByID(t *testing.T, db People) {
	mustWorkspace(t, db, "acme", "beta")
	ids := makeAlerts(t, db, "acme", "r1", alert.High, "h1", "h2", "h3")
	other := makeAlerts(t, db, "beta", "r1", alert.High, "h1")
	if got, err := db.AlertsByID(ctx, "acme", nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v, %v", got, err)
	}
	got, err := db.AlertsByID(ctx, "acme", []string{ids[2], ids[0], other[0], "no-such-alert", ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts, want 2 (%s and %s)", len(got), ids[0], ids[2])
	}
	for _, id := range []string{ids[0], ids[2]} {
		want, err := db.Alert(ctx, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := got[id]; !ok || a.ID != id || a.Count != want.Count || len(a.Evidence) != len(want.Evidence) ||
			a.Evidence[0].EventID != want.Evidence[0].EventID || !reflect.DeepEqual(a.Rule, want.Rule) || !a.LastSeen.Equal(want.LastSeen) {
			t.Errorf("alert %s: %+v, want %+v", id, a, want)
		}
	}
}

// incidentChangesAfter reads the whole incident stream after seq.
func incidentChangesAfter(t *testing.T, db People, seq int64) []store.IncidentChange {
	t.Helper()
	var out []store.IncidentChange
	for {
		cs, err := db.IncidentChanges(ctx, seq, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return out
		}
		out = append(out, cs...)
		seq = cs[len(cs)-1].Seq
	}
}

func kinds(cs []store.IncidentChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Kind) + ":" + c.IncidentID
	}
	return out
}

func allTimeline(t *testing.T, db People, ws, id string) []incident.TimelineEntry {
	t.Helper()
	var out []incident.TimelineEntry
	q := store.TimelineQuery{Limit: 2}
	for {
		es, next, err := db.Timeline(ctx, ws, id, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}

func testIncidentsByHand(t *testing.T, db People) {
	mustWorkspace(t, db, "acme")
	ids := makeAlerts(t, db, "acme", "r1", alert.Medium, "h1", "h2", "h3", "h4")
	high := makeAlerts(t, db, "acme", "r2", alert.High, "h5")
	signal := db.IncidentChangesSignal()

	if _, err := db.CreateIncident(ctx, "acme", "", nil, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an incident of no alerts: %v", err)
	}
	if _, err := db.CreateIncident(ctx, "acme", "", []string{"nope"}, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an incident of a missing alert: %v", err)
	}
	if _, err := db.CreateIncident(ctx, "acme", "t", ids[:1], ""); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an incident without an actor: %v", err)
	}
	a, err := db.CreateIncident(ctx, "acme", "", append(slices.Clone(ids[:2]), high[0]), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !raised(signal) {
		t.Error("creating an incident raised no signal")
	}
	if a.AlertCount != 3 || a.Severity != alert.High || a.Stage != incident.StageDetect || a.Title != "rule r2 and 2 more alerts" ||
		!slices.Equal(a.RuleIDs, []string{"r1", "r2"}) || len(a.Entities) != 3 {
		t.Fatalf("incident made by hand: %+v", a)
	}
	got, err := db.Incident(ctx, "acme", a.ID)
	if err != nil || got.ID != a.ID || got.AlertCount != 3 || got.Title != a.Title {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	held, err := db.IncidentAlerts(ctx, "acme", a.ID)
	if err != nil || len(held) != 3 {
		t.Fatalf("its alerts: %v, %v", held, err)
	}
	of, err := db.IncidentOfAlerts(ctx, "acme", ids)
	if err != nil || len(of) != 2 || of[ids[0]] != a.ID || of[ids[1]] != a.ID {
		t.Fatalf("incidents of alerts: %v, %v", of, err)
	}

	// A second incident takes h2 away from the first.
	b, err := db.CreateIncident(ctx, "acme", "second", []string{ids[1], ids[2]}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Incident(ctx, "acme", a.ID); got.AlertCount != 2 {
		t.Fatalf("the first after losing an alert: %d alerts", got.AlertCount)
	}
	// Adding alerts: one it holds already is left alone.
	if b, err = db.AddAlerts(ctx, "acme", b.ID, []string{ids[2], ids[3]}, "bob"); err != nil || b.AlertCount != 3 {
		t.Fatalf("add alerts: %+v, %v", b, err)
	}

	// Changes: an owner, a comment, stages; a refused one writes nothing.
	owner := "carol"
	if _, err := db.ChangeIncident(ctx, "acme", a.ID, incident.Change{Owner: &owner, Comment: "looking", AddTags: []string{"vip"}}, "alice"); err != nil {
		t.Fatal(err)
	}
	before := incidentChangesAfter(t, db, 0)
	diag := incident.StageDiagnose
	if _, err := db.ChangeIncident(ctx, "acme", a.ID, incident.Change{Stage: &diag}, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("detect -> diagnose: %v", err)
	}
	var se *incident.StageError
	_, err = db.ChangeIncident(ctx, "acme", a.ID, incident.Change{Stage: &diag}, "alice")
	if !errors.As(err, &se) {
		t.Fatalf("a refused stage is not a StageError: %v", err)
	}
	if after := incidentChangesAfter(t, db, 0); len(after) != len(before) {
		t.Fatalf("a refused change appended to the stream: %v", kinds(after[len(before):]))
	}
	assess := incident.StageAssess
	if got, err = db.ChangeIncident(ctx, "acme", a.ID, incident.Change{Stage: &assess}, "alice"); err != nil || got.Stage != assess || got.Owner != "carol" {
		t.Fatalf("to assess: %+v, %v", got, err)
	}
	n, err := db.CountIncidents(ctx, "acme", store.IncidentQuery{Tag: "vip"})
	if err != nil || n != 1 {
		t.Fatalf("incidents tagged vip: %d, %v", n, err)
	}

	// Merge b into a: b is closed, merged; its alerts and tags are a's.
	if _, err := db.MergeIncidents(ctx, "acme", a.ID, []string{a.ID}, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("merge into itself: %v", err)
	}
	m, err := db.MergeIncidents(ctx, "acme", a.ID, []string{b.ID}, "alice")
	if err != nil || m.AlertCount != 5 {
		t.Fatalf("merge: %+v, %v", m, err)
	}
	gone, _ := db.Incident(ctx, "acme", b.ID)
	if gone.Stage != incident.StageClose || gone.MergedInto != a.ID || gone.Status != incident.StatusClosed {
		t.Fatalf("the merged incident: stage %s, merged into %q", gone.Stage, gone.MergedInto)
	}
	if _, err := db.MergeIncidents(ctx, "acme", a.ID, []string{b.ID}, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("merging a merged incident again: %v", err)
	}

	// Split two alerts off a.
	if _, err := db.SplitIncident(ctx, "acme", a.ID, []string{"nope"}, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("split of an alert it lacks: %v", err)
	}
	all, _ := db.IncidentAlerts(ctx, "acme", a.ID)
	if _, err := db.SplitIncident(ctx, "acme", a.ID, all, "alice"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("split of every alert: %v", err)
	}
	s, err := db.SplitIncident(ctx, "acme", a.ID, []string{ids[2], ids[3]}, "alice")
	if err != nil || s.AlertCount != 2 || s.Owner != "carol" || s.Stage != incident.StageDetect || !slices.Contains(s.Tags, "vip") {
		t.Fatalf("split: %+v, %v", s, err)
	}
	if got, _ := db.Incident(ctx, "acme", a.ID); got.AlertCount != 3 {
		t.Fatalf("after the split: %d alerts", got.AlertCount)
	}

	// The stream tells it all, in order.
	want := []string{
		"created:" + a.ID,
		"split:" + a.ID, "created:" + b.ID, // b took h2 from a
		"updated:" + b.ID, // alerts added
		"updated:" + a.ID, // owner, comment, tag
		"stage:" + a.ID,
		"merged:" + b.ID, "merged:" + a.ID,
		"split:" + a.ID, "created:" + s.ID,
	}
	cs := incidentChangesAfter(t, db, 0)
	if !slices.Equal(kinds(cs), want) {
		t.Fatalf("incident stream:\n got %v\nwant %v", kinds(cs), want)
	}
	if cs[5].Stage != incident.StageAssess || cs[5].Actor != "alice" || cs[0].Workspace != "acme" {
		t.Fatalf("the stage change: %+v", cs[5])
	}
	if _, heads, err := db.ChangeHeads(ctx); err != nil || heads != cs[len(cs)-1].Seq {
		t.Fatalf("incident head %d, %v; want %d", heads, err, cs[len(cs)-1].Seq)
	}

	// The timeline, paged: oldest first, each entry once.
	tl := allTimeline(t, db, "acme", a.ID)
	var tk []string
	for i, e := range tl {
		tk = append(tk, e.Kind)
		if e.IncidentID != a.ID || e.Seq == 0 || i > 0 && e.Time.Before(tl[i-1].Time) {
			t.Fatalf("timeline entry %d: %+v", i, e)
		}
	}
	for _, k := range []string{incident.TimelineCreated, incident.TimelineAlert, incident.TimelineSplit, incident.TimelineOwner,
		incident.TimelineComment, incident.TimelineStage, incident.TimelineMerge} {
		if !slices.Contains(tk, k) {
			t.Errorf("timeline of %s lacks %s: %v", a.ID, k, tk)
		}
	}

	// Vigil's own notes go to the timeline, not the stream.
	head := cs[len(cs)-1].Seq
	if err := db.AppendTimeline(ctx, "acme", a.ID, []incident.TimelineEntry{{Kind: "playbook", Actor: "vigil:automation", Summary: "host isolated"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendTimeline(ctx, "acme", a.ID, []incident.TimelineEntry{{Kind: "Bad Kind", Actor: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a bad kind: %v", err)
	}
	if tl2 := allTimeline(t, db, "acme", a.ID); len(tl2) != len(tl)+1 || tl2[len(tl2)-1].Summary != "host isolated" {
		t.Fatalf("after a note: %d entries (was %d)", len(tl2), len(tl))
	}
	// An assessment: written once, the same again writes nothing.
	as := incident.Assessment{Nature: incident.Nature{Summary: "brute force"}}
	for range 2 {
		if err := db.SetAssessment(ctx, "acme", a.ID, as); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := db.Incident(ctx, "acme", a.ID); got.Assessment.Nature.Summary != "brute force" {
		t.Fatalf("assessment: %+v", got.Assessment)
	}
	if cs := incidentChangesAfter(t, db, head); !slices.Equal(kinds(cs), []string{"updated:" + a.ID}) || cs[0].Actor != store.ActorAssessment {
		t.Fatalf("after a note and an assessment twice: %v", kinds(cs))
	}

	// Task templates: the defaults, then the workspace's own.
	tt, err := db.TaskTemplates(ctx, "acme")
	if err != nil || len(tt) == 0 {
		t.Fatalf("default templates: %v, %v", tt, err)
	}
	mine := []incident.TaskTemplate{{Stage: incident.StageDetect, Tasks: []string{"call the owner"}}}
	if err := db.SetTaskTemplates(ctx, "acme", mine, "alice"); err != nil {
		t.Fatal(err)
	}
	tt, _ = db.TaskTemplates(ctx, "acme")
	if len(tt) != len(incident.Stages) || tt[0].Stage != incident.StageDetect || !slices.Equal(tt[0].Tasks, []string{"call the owner"}) || len(tt[1].Tasks) != 0 {
		t.Fatalf("templates set: %+v", tt)
	}
	if err := db.SetTaskTemplates(ctx, "nowhere", mine, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("templates of a missing workspace: %v", err)
	}
	c, err := db.CreateIncident(ctx, "acme", "with tasks", high, "alice")
	if err != nil || len(c.Tasks) != 1 || c.Tasks[0].Title != "call the owner" {
		t.Fatalf("an incident after new templates: %+v, %v", c.Tasks, err)
	}
	// Every action is audited.
	audit, _, err := db.AuditLog(ctx, "acme", store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	acts := map[string]bool{}
	for _, e := range audit {
		acts[e.Action] = true
	}
	for _, act := range []string{"incident.create", "incident.alerts", "incident.assign", "incident.stage", "incident.merge", "incident.split",
		"incident.playbook", "incident.assessment", "incident.templates"} {
		if !acts[act] {
			t.Errorf("no audit line %s: %v", act, acts)
		}
	}

	// Similar incidents: s shares rule r1 with a (and c none of its rules
	// but r2, which a has too).
	sim, err := db.SimilarIncidents(ctx, "acme", a.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	got2 := map[string]bool{}
	for i, x := range sim {
		got2[x.Incident.ID] = true
		if x.Score <= 0 || x.Score > 1 || i > 0 && x.Score > sim[i-1].Score {
			t.Fatalf("similar %d: score %v", i, x.Score)
		}
	}
	if !got2[s.ID] || got2[b.ID] || got2[a.ID] {
		t.Fatalf("similar to %s: %+v (merged %s must not be, split-off %s must)", a.ID, got2, b.ID, s.ID)
	}
}

func testIncidentPaging(t *testing.T, db People) {
	mustWorkspace(t, db, "acme")
	hosts := make([]string, 7)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("Host%d", i)
	}
	ids := makeAlerts(t, db, "acme", "r1", alert.Low, hosts...)
	var incs []incident.Incident
	for i, id := range ids {
		inc, err := db.CreateIncident(ctx, "acme", fmt.Sprintf("Case %d_x", i), []string{id}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		incs = append(incs, inc)
	}
	for _, sortBy := range []string{"", store.IncidentSortPriority} {
		var got []string
		q := store.IncidentQuery{Limit: 3, Sort: sortBy}
		for page := 0; ; page++ {
			list, next, err := db.Incidents(ctx, "acme", q)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 3 || page > 5 {
				t.Fatalf("page %d: %d incidents", page, len(list))
			}
			for i, inc := range list {
				got = append(got, inc.ID)
				if sortBy == "" && i > 0 && inc.LastSeen.After(list[i-1].LastSeen) {
					t.Fatalf("sort by last seen: %v after %v", inc.LastSeen, list[i-1].LastSeen)
				}
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
		slices.Sort(got)
		if len(slices.Compact(got)) != len(ids) {
			t.Fatalf("sort %q: paged through %d distinct incidents, want %d", sortBy, len(got), len(ids))
		}
	}
	if _, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Sort: "name"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an unknown sort: %v", err)
	}
	if _, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Cursor: "garbage"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a bad cursor: %v", err)
	}
	count := func(q store.IncidentQuery) int {
		t.Helper()
		n, err := db.CountIncidents(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := db.Incidents(ctx, "acme", q)
		if err != nil || len(list) != n {
			t.Fatalf("%+v: listed %d, counted %d, %v", q, len(list), n, err)
		}
		return n
	}
	// Hosts compare without regard to case; the text filter matches a
	// title or an entity, ASCII case aside, and takes % and _ literally.
	for _, c := range []struct {
		q    store.IncidentQuery
		want int
	}{
		{store.IncidentQuery{}, 7},
		{store.IncidentQuery{Entity: "HOST3"}, 1},
		{store.IncidentQuery{Entity: "host9"}, 0},
		{store.IncidentQuery{Text: "case 2"}, 1},
		{store.IncidentQuery{Text: "CASE"}, 7},
		{store.IncidentQuery{Text: "host5"}, 1},
		{store.IncidentQuery{Text: "%"}, 0},
		{store.IncidentQuery{Text: "2_x"}, 1},
		{store.IncidentQuery{Text: incs[4].ID}, 1},
		{store.IncidentQuery{Owner: "nobody"}, 0},
		{store.IncidentQuery{Since: T0.Add(3 * time.Second)}, 4},
		{store.IncidentQuery{Until: T0.Add(3 * time.Second)}, 3},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%+v: %d incidents, want %d", c.q, got, c.want)
		}
	}
	if got := count(store.IncidentQuery{Stage: []incident.Stage{incident.StageDetect}}); got != 7 {
		t.Errorf("in detect: %d", got)
	}
	if got := count(store.IncidentQuery{Status: []incident.Status{incident.StatusClosed}}); got != 0 {
		t.Errorf("closed: %d", got)
	}
	if _, err := db.CountIncidents(ctx, "acme", store.IncidentQuery{Stage: []incident.Stage{"nowhere"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown stage: %v", err)
	}
}

func testIncidentIsolation(t *testing.T, db People) {
	mustWorkspace(t, db, "acme", "beta")
	a := makeAlerts(t, db, "acme", "r1", alert.Low, "h1", "h2")
	b := makeAlerts(t, db, "beta", "r1", alert.Low, "h1")
	inc, err := db.CreateIncident(ctx, "acme", "", a[:1], "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateIncident(ctx, "beta", "", a[1:], "mallory"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an incident of beta from an alert of acme: %v", err)
	}
	if _, err := db.AddAlerts(ctx, "acme", inc.ID, b, "mallory"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("adding beta's alert to acme's incident: %v", err)
	}
	if _, err := db.Incident(ctx, "beta", inc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme's incident read from beta: %v", err)
	}
	if _, _, err := db.Timeline(ctx, "beta", inc.ID, store.TimelineQuery{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme's timeline read from beta: %v", err)
	}
	owner := "mallory"
	if _, err := db.ChangeIncident(ctx, "beta", inc.ID, incident.Change{Owner: &owner}, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme's incident changed from beta: %v", err)
	}
	binc, err := db.CreateIncident(ctx, "beta", "", b, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.MergeIncidents(ctx, "beta", binc.ID, []string{inc.ID}, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("acme's incident merged into beta's: %v", err)
	}
	if of, err := db.IncidentOfAlerts(ctx, "beta", a); err != nil || len(of) != 0 {
		t.Fatalf("acme's alerts seen from beta: %v, %v", of, err)
	}
	for ws, want := range map[string]string{"acme": inc.ID, "beta": binc.ID} {
		list, _, err := db.Incidents(ctx, ws, store.IncidentQuery{})
		if err != nil || len(list) != 1 || list[0].ID != want {
			t.Fatalf("incidents of %s: %+v, %v", ws, list, err)
		}
	}
	if sim, err := db.SimilarIncidents(ctx, "acme", inc.ID, 10); err != nil || len(sim) != 0 {
		t.Fatalf("similar across workspaces: %+v, %v", sim, err)
	}
}

func testIncidentCorrelation(t *testing.T, db People) {
	mustWorkspace(t, db, "acme")
	ids := makeAlerts(t, db, "acme", "r1", alert.Medium, "h1", "h2")
	now := time.Now().UTC()
	inc := incident.Incident{ID: "inc-1", Workspace: "acme", Title: "correlated", Stage: incident.StageDetect,
		Severity: alert.Medium, FirstSeen: T0, LastSeen: T0, Created: now, Updated: now, RuleIDs: []string{"r1"},
		Entities: []alert.Entity{{Type: alert.EntityHost, Value: "h1"}}}
	ups := []store.IncidentUpdate{{Incident: inc, New: true, AddAlerts: ids[:1],
		Timeline: []incident.TimelineEntry{{Time: T0, Kind: incident.TimelineCreated, Actor: incident.CorrelationActor, Summary: "opened"}}}}
	if err := db.ApplyIncidents(ctx, "", 1, ups); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no consumer: %v", err)
	}
	if err := db.ApplyIncidents(ctx, "incidents", 7, ups); err != nil {
		t.Fatal(err)
	}
	if seq, _ := db.ConsumerCursor(ctx, "incidents"); seq != 7 {
		t.Fatalf("cursor %d after applying at 7", seq)
	}
	got, err := db.Incident(ctx, "acme", "inc-1")
	if err != nil || got.AlertCount != 0 && got.AlertCount != 1 || len(got.Tasks) == 0 {
		t.Fatalf("applied: %+v, %v", got, err)
	}
	if of, _ := db.IncidentOfAlerts(ctx, "acme", ids); of[ids[0]] != "inc-1" {
		t.Fatalf("the alert joined no incident: %v", of)
	}
	// Responders close it; correlation's next update reopens it and keeps
	// their owner.
	owner := "carol"
	assess, closeStage := incident.StageAssess, incident.StageClose
	for _, ch := range []incident.Change{{Owner: &owner}, {Stage: &assess},
		{Stage: &closeStage, Classification: incident.FalsePositive, Reason: "test"}} {
		if _, err := db.ChangeIncident(ctx, "acme", "inc-1", ch, "carol"); err != nil {
			t.Fatal(err)
		}
	}
	cands, err := db.CorrelationCandidates(ctx, now.Add(-time.Hour))
	if err != nil || len(cands) != 1 {
		t.Fatalf("candidates with one closed lately: %d, %v", len(cands), err)
	}
	if cands, _ := db.CorrelationCandidates(ctx, now.Add(time.Hour)); len(cands) != 0 {
		t.Fatalf("candidates closed since later: %d", len(cands))
	}
	inc.Entities = append(inc.Entities, alert.Entity{Type: alert.EntityHost, Value: "h2"})
	inc.LastSeen = T0.Add(time.Minute)
	ups = []store.IncidentUpdate{{Incident: inc, AddAlerts: ids[1:]}}
	if err := db.ApplyIncidents(ctx, "incidents", 5, ups); err != nil {
		t.Fatal(err)
	}
	if seq, _ := db.ConsumerCursor(ctx, "incidents"); seq != 7 {
		t.Fatalf("cursor moved back to %d", seq)
	}
	got, _ = db.Incident(ctx, "acme", "inc-1")
	if got.Stage != incident.StageAssess || got.Owner != "carol" || got.AlertCount != 2 || got.Reopened != 1 || len(got.Entities) != 2 ||
		!ups[0].Incident.LastSeen.Equal(inc.LastSeen) || ups[0].Incident.Owner != "carol" {
		t.Fatalf("reopened: stage %s owner %q alerts %d reopened %d entities %d; handed back %+v",
			got.Stage, got.Owner, got.AlertCount, got.Reopened, len(got.Entities), ups[0].Incident)
	}
	cs := incidentChangesAfter(t, db, 0)
	if k := kinds(cs); len(k) != 5 || k[0] != "created:inc-1" || k[4] != "reopened:inc-1" || cs[4].Actor != incident.CorrelationActor {
		t.Fatalf("stream: %v", k)
	}
	// Purging by age.
	if n, err := db.PurgeIncidentChanges(ctx, time.Now().Add(time.Hour)); err != nil || n != 5 {
		t.Fatalf("purge: %d, %v", n, err)
	}
}

// testIncidentStreamConcurrent changes incidents of two workspaces from
// several writers at once while a consumer follows the incident stream:
// it must see every change, none twice.
func testIncidentStreamConcurrent(t *testing.T, db People) {
	const writers, changes = 4, 10
	mustWorkspace(t, db, "acme", "beta")
	var incs []incident.Incident
	for w := range writers {
		ws := []string{"acme", "beta"}[w%2]
		ids := makeAlerts(t, db, ws, fmt.Sprintf("r%d", w), alert.Low, "h1")
		inc, err := db.CreateIncident(ctx, ws, "", ids, "alice")
		if err != nil {
			t.Fatal(err)
		}
		incs = append(incs, inc)
	}
	start := incidentChangesAfter(t, db, 0)
	cursor := start[len(start)-1].Seq
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range changes {
				owner := fmt.Sprintf("owner%d", i)
				if _, err := db.ChangeIncident(ctx, incs[w].Workspace, incs[w].ID, incident.Change{Owner: &owner}, "alice"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := 0
	follow := func() {
		cs, err := db.IncidentChanges(ctx, cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Seq <= cursor {
				t.Fatalf("change %d after cursor %d", c.Seq, cursor)
			}
			cursor = c.Seq
		}
		seen += len(cs)
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		follow()
	}
	for range 3 {
		follow()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if seen != writers*changes {
		t.Fatalf("the consumer saw %d of %d changes", seen, writers*changes)
	}
}

// testIncidentConcurrentChanges changes one incident from several writers
// at once: each change is read, applied and written back, and none may
// overwrite another's.
func testIncidentConcurrentChanges(t *testing.T, db People) {
	const writers, changes = 4, 5
	mustWorkspace(t, db, "acme")
	ids := makeAlerts(t, db, "acme", "r1", alert.Low, "h1")
	inc, err := db.CreateIncident(ctx, "acme", "", ids, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range changes {
				tag := fmt.Sprintf("t%d-%d", w, i)
				if _, err := db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{AddTags: []string{tag}}, "alice"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := db.Incident(ctx, "acme", inc.ID)
	if err != nil || len(got.Tags) != writers*changes {
		t.Fatalf("%d tags after %d concurrent changes, %v: %v", len(got.Tags), writers*changes, err, got.Tags)
	}
	if n, _ := db.CountIncidents(ctx, "acme", store.IncidentQuery{Tag: "t3-4"}); n != 1 {
		t.Fatalf("the last tag is not filtered on: %d", n)
	}
}
