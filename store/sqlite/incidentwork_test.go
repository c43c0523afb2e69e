package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// workAlert is an alert the workflow tests commit: rule on host at t.
type workAlert struct {
	rule   string
	sev    alert.Severity
	host   string
	tactic string
	at     time.Duration // after t0
}

// workAlerts commits one alert for each spec and returns their ids, in
// the order given.
func workAlerts(t *testing.T, db *DB, ws string, specs ...workAlert) []string {
	t.Helper()
	b := batch(ws, "s")
	for _, s := range specs {
		e := ev(ws, "s", t0.Add(s.at), s.host, "u", "203.0.113.7")
		b.Events = append(b.Events, e)
		g := sig(ws, s.rule, s.sev, s.host, e)
		g.Tactics = []string{s.tactic}
		g.Techniques = []string{"T" + s.rule}
		b.Signals = append(b.Signals, g)
	}
	commit(t, db, b)
	var ids []string
	as := allAlerts(t, db, ws, store.AlertQuery{})
	for _, s := range specs {
		for _, a := range as {
			if a.Rule.ID == s.rule && a.Entities[0].Value == s.host {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) != len(specs) {
		t.Fatalf("committed %d alerts, found %d", len(specs), len(ids))
	}
	return ids
}

func workIncident(t *testing.T, db *DB, ws, id string) incident.Incident {
	t.Helper()
	inc, err := loadIncident(ctx, db.r, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// workTimeline reads an incident's stored timeline in store order.
func workTimeline(t *testing.T, db *DB, ws, id string) []incident.TimelineEntry {
	t.Helper()
	out, err := list(ctx, db, "timeline", func(r scanner) (incident.TimelineEntry, error) {
		var e incident.TimelineEntry
		var seq int64
		var d string
		if err := r.Scan(&seq, &d); err != nil {
			return e, err
		}
		err := json.Unmarshal([]byte(d), &e)
		e.Seq = seq
		return e, err
	}, `SELECT seq, doc FROM incident_timeline WHERE workspace = ? AND incident_id = ? ORDER BY seq`, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// workChanges reads the incident stream.
func workChanges(t *testing.T, db *DB) []store.IncidentChange {
	t.Helper()
	out, err := list(ctx, db, "changes", func(r scanner) (store.IncidentChange, error) {
		var c store.IncidentChange
		var at int64
		err := r.Scan(&c.Seq, &c.Workspace, &c.IncidentID, &c.Kind, &c.Stage, &c.Actor, &at)
		c.At = fromNanos(at)
		return c, err
	}, `SELECT seq, workspace, incident_id, kind, stage, actor, at FROM incident_changes ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// workAudit returns the workspace's audit lines, oldest first.
func workAudit(t *testing.T, db *DB, ws string) []store.AuditEntry {
	t.Helper()
	es, _, err := db.AuditLog(ctx, ws, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

// workMembers maps each alert of the workspace that is in an incident to
// its incident.
func workMembers(t *testing.T, db *DB, ws string) map[string]string {
	t.Helper()
	type pair struct{ a, i string }
	ps, err := list(ctx, db, "members", func(r scanner) (pair, error) {
		var p pair
		return p, r.Scan(&p.a, &p.i)
	}, `SELECT alert_id, incident_id FROM incident_alerts WHERE workspace = ?`, ws)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range ps {
		out[p.a] = p.i
	}
	return out
}

// setStage puts an incident in a stage directly, as a test's starting
// point.
func setStage(t *testing.T, db *DB, ws, id string, s incident.Stage) {
	t.Helper()
	err := db.write(ctx, "set stage", func(tx *sql.Tx) error {
		inc, err := loadIncident(ctx, tx, ws, id)
		if err != nil {
			return err
		}
		inc.Stage = s
		inc.Closed = nil
		if s == incident.StageClose {
			c := t0
			inc.Closed = &c
		}
		return putIncident(ctx, tx, &inc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stagePtr(s incident.Stage) *incident.Stage { return &s }

// counts are the rows an incident operation writes.
type counts struct{ timeline, changes, audit, incidents, members int }

func countRows(t *testing.T, db *DB) counts {
	t.Helper()
	var c counts
	for _, q := range []struct {
		n   *int
		sql string
	}{
		{&c.timeline, `SELECT count(*) FROM incident_timeline`},
		{&c.changes, `SELECT count(*) FROM incident_changes`},
		{&c.audit, `SELECT count(*) FROM audit_log`},
		{&c.incidents, `SELECT count(*) FROM incidents`},
		{&c.members, `SELECT count(*) FROM incident_alerts`},
	} {
		if err := db.r.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func newWorkIncident(t *testing.T, db *DB, ws string) (incident.Incident, []string) {
	t.Helper()
	ids := workAlerts(t, db, ws,
		workAlert{"scan", alert.Low, "web-01", "reconnaissance", 0},
		workAlert{"bruteforce", alert.Medium, "web-01", "credential-access", time.Minute},
		workAlert{"sqli", alert.High, "db-01", "initial-access", 2 * time.Minute},
	)
	inc, err := db.CreateIncident(ctx, ws, "", ids, "user:ann")
	if err != nil {
		t.Fatal(err)
	}
	return inc, ids
}

func TestCreateIncidentByHand(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	inc, ids := newWorkIncident(t, db, "acme")
	got := workIncident(t, db, "acme", inc.ID)
	if !reflect.DeepEqual(got, inc) {
		t.Errorf("stored incident differs from the one returned:\n%+v\n%+v", got, inc)
	}
	if got.Stage != incident.StageDetect || got.Status != incident.StatusNew || got.AlertCount != 3 || got.Severity != alert.High {
		t.Errorf("stage %s status %s count %d severity %s", got.Stage, got.Status, got.AlertCount, got.Severity)
	}
	if got.Title != "rule sqli and 2 more alerts" {
		t.Errorf("title %q: want the most severe alert's rule and the count", got.Title)
	}
	if want := []string{"reconnaissance", "initial-access", "credential-access"}; !reflect.DeepEqual(got.Tactics, want) {
		t.Errorf("tactics %v, want kill-chain order %v", got.Tactics, want)
	}
	if want := []string{"scan", "bruteforce", "sqli"}; !reflect.DeepEqual(got.RuleIDs, want) {
		t.Errorf("rule ids %v, want %v (first seen order)", got.RuleIDs, want)
	}
	if len(got.Entities) != 2 || !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("entities %v first %v last %v", got.Entities, got.FirstSeen, got.LastSeen)
	}
	if n := len(got.Tasks); n != len(incident.DefaultTaskTemplates()[0].Tasks) || got.Tasks[0].Stage != incident.StageDetect {
		t.Errorf("new incident tasks %+v: want the detect checklist", got.Tasks)
	}
	tl := workTimeline(t, db, "acme", inc.ID)
	if len(tl) != 4 || tl[0].Kind != incident.TimelineCreated || tl[1].Kind != incident.TimelineAlert || tl[1].AlertID != ids[0] || tl[1].Summary != "rule scan" {
		t.Errorf("timeline %+v", tl)
	}
	au := workAudit(t, db, "acme")
	if len(au) != 1 || au[0].Action != "incident.create" || au[0].Actor != "user:ann" || au[0].Target != inc.ID || !au[0].Time.Equal(t0) {
		t.Errorf("audit %+v", au)
	}
	ch := workChanges(t, db)
	if len(ch) != 1 || ch[0].Kind != store.IncidentCreated || ch[0].IncidentID != inc.ID || ch[0].Stage != incident.StageDetect {
		t.Errorf("changes %+v", ch)
	}

	// A second incident from one of them takes it out of the first.
	inc2, err := db.CreateIncident(ctx, "acme", "SQL injection on db-01", ids[2:], "cli")
	if err != nil {
		t.Fatal(err)
	}
	m := workMembers(t, db, "acme")
	if m[ids[0]] != inc.ID || m[ids[1]] != inc.ID || m[ids[2]] != inc2.ID {
		t.Errorf("members %v", m)
	}
	first := workIncident(t, db, "acme", inc.ID)
	if first.AlertCount != 2 || first.Severity != alert.Medium || slices.Contains(first.RuleIDs, "sqli") || len(first.Entities) != 1 {
		t.Errorf("first incident not worked out again: count %d severity %s rules %v entities %v", first.AlertCount, first.Severity, first.RuleIDs, first.Entities)
	}
	if tl := workTimeline(t, db, "acme", inc.ID); tl[len(tl)-1].Kind != incident.TimelineSplit || !strings.Contains(tl[len(tl)-1].Summary, inc2.ID) {
		t.Errorf("loser's last timeline entry %+v", tl[len(tl)-1])
	}

	// Refusals.
	for _, c := range []struct {
		title string
		ids   []string
		actor string
		want  string
	}{
		{"x", nil, "cli", "at least one alert"},
		{"x", []string{"nope"}, "cli", "no alert nope"},
		{"x", ids[:1], "", "needs an actor"},
		{"a\nb", ids[:1], "cli", "one line"},
		{strings.Repeat("x", 201), ids[:1], "cli", "at most"},
	} {
		before := countRows(t, db)
		_, err := db.CreateIncident(ctx, "acme", c.title, c.ids, c.actor)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CreateIncident(%q, %v, %q) = %v, want ErrInvalid saying %q", c.title, c.ids, c.actor, err, c.want)
		}
		if after := countRows(t, db); after != before {
			t.Errorf("refused create wrote rows: %+v -> %+v", before, after)
		}
	}
	// Another workspace's alert is not there.
	mustWorkspace(t, db, "beta")
	if _, err := db.CreateIncident(ctx, "beta", "x", ids[:1], "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("incident from another workspace's alert: %v", err)
	}
}

// TestChangeIncidentEveryPair drives every (from, to) pair of the five
// stages through ChangeIncident: legal moves are written with their
// timeline entry, stream entry and audit line; illegal ones are refused
// with the reason and write nothing.
func TestChangeIncidentEveryPair(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	inc, _ := newWorkIncident(t, db, "acme")
	i := 0
	for _, from := range incident.Stages {
		for _, to := range incident.Stages {
			i++
			at := t0.Add(time.Duration(i) * time.Minute)
			clock.set(at)
			setStage(t, db, "acme", inc.ID, from)
			ch := incident.Change{Stage: stagePtr(to)}
			if to == incident.StageClose {
				ch.Classification, ch.Reason = incident.FalsePositive, "our own scanner"
			}
			before, beforeInc := countRows(t, db), workIncident(t, db, "acme", inc.ID)
			actor := fmt.Sprintf("key:%d", i)
			got, err := db.ChangeIncident(ctx, "acme", inc.ID, ch, actor)
			if incident.CheckStage(from, to) != nil {
				var se *incident.StageError
				if !errors.Is(err, store.ErrInvalid) || !errors.As(err, &se) || se.From != from || se.To != to || se.Reason == "" {
					t.Errorf("%s -> %s: err %v, want ErrInvalid wrapping a StageError with a reason", from, to, err)
				}
				if after := countRows(t, db); after != before {
					t.Errorf("%s -> %s refused but rows written: %+v -> %+v", from, to, before, after)
				}
				if afterInc := workIncident(t, db, "acme", inc.ID); !reflect.DeepEqual(afterInc, beforeInc) {
					t.Errorf("%s -> %s refused but the incident changed", from, to)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s -> %s: %v", from, to, err)
				continue
			}
			stored := workIncident(t, db, "acme", inc.ID)
			if stored.Stage != to || got.Stage != to || stored.Status != incident.StatusOf(to) || !stored.Updated.Equal(at) {
				t.Errorf("%s -> %s: stored stage %s status %s updated %v", from, to, stored.Stage, stored.Status, stored.Updated)
			}
			after := countRows(t, db)
			if after.timeline != before.timeline+1 || after.changes != before.changes+1 || after.audit != before.audit+1 {
				t.Errorf("%s -> %s: rows %+v -> %+v, want one timeline entry, change and audit line", from, to, before, after)
			}
			cs := workChanges(t, db)
			if c := cs[len(cs)-1]; c.Kind != store.IncidentStaged || c.Stage != to || c.Actor != actor || !c.At.Equal(at) {
				t.Errorf("%s -> %s: change %+v", from, to, c)
			}
			au := workAudit(t, db, "acme")
			a := au[len(au)-1]
			wantAction := map[incident.Stage]string{incident.StageClose: "incident.close"}[to]
			switch {
			case from == incident.StageClose:
				wantAction = "incident.reopen"
			case wantAction == "":
				wantAction = "incident.stage"
			}
			if a.Action != wantAction || a.Actor != actor || a.Target != inc.ID || !a.Time.Equal(at) || !strings.Contains(a.Detail, string(to)) && to != incident.StageClose {
				t.Errorf("%s -> %s: audit %+v, want %s by %s at %v", from, to, a, wantAction, actor, at)
			}
			if to == incident.StageClose && !strings.Contains(a.Detail, "our own scanner") {
				t.Errorf("close audit detail %q lacks the reason", a.Detail)
			}
		}
	}
}

// TestIncidentLifecycle: Detect → Assess → Diagnose → Stabilize →
// Diagnose → Stabilize → Close → (reopen) Assess → Diagnose → Close, with
// the work of each stage, as different responders, each action checked
// in the audit log (who, what, when) and the timeline.
func TestIncidentLifecycle(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	inc, _ := newWorkIncident(t, db, "acme")
	id := inc.ID
	owner := "ann"
	sev := alert.Critical
	type step struct {
		actor   string
		ch      incident.Change
		actions []string // audit actions, in order
		stage   incident.Stage
	}
	var taskID func(incident.Stage, int) string // filled once the tasks exist
	steps := []step{
		{"user:ann", incident.Change{Stage: stagePtr(incident.StageAssess), Owner: &owner, AddTags: []string{"web", "db"}}, []string{"incident.stage", "incident.assign", "incident.tag"}, incident.StageAssess},
		{"user:bob", incident.Change{Comment: "the scan came first, from 203.0.113.7", Severity: &sev}, []string{"incident.severity", "incident.comment"}, incident.StageAssess},
		{"user:ann", incident.Change{Assessment: &incident.Assessment{Intent: alert.Intent{Estimate: alert.IntentTargeted, Reasons: []string{"our db by name"}}}, Sections: []string{incident.SectionIntent}}, []string{"incident.assessment"}, incident.StageAssess},
		{"user:ann", incident.Change{Stage: stagePtr(incident.StageDiagnose)}, []string{"incident.stage"}, incident.StageDiagnose},
		{"user:ann", incident.Change{Stage: stagePtr(incident.StageStabilize), AddTask: &incident.Task{Title: "Rotate the db password"}}, []string{"incident.stage", "incident.task"}, incident.StageStabilize},
		{"user:bob", incident.Change{Stage: stagePtr(incident.StageDiagnose), Comment: "a second web shell"}, []string{"incident.stage", "incident.comment"}, incident.StageDiagnose},
		{"vigil:automation:block", incident.Change{Stage: stagePtr(incident.StageStabilize)}, []string{"incident.stage"}, incident.StageStabilize},
		{"user:ann", incident.Change{}, []string{"incident.task"}, incident.StageStabilize}, // marks a task done (below)
		{"user:ann", incident.Change{Stage: stagePtr(incident.StageClose), Classification: incident.TruePositiveImpact, Reason: "rows of customers read"}, []string{"incident.close"}, incident.StageClose},
		{"user:carl", incident.Change{Stage: stagePtr(incident.StageAssess), Comment: "same address is back"}, []string{"incident.reopen", "incident.comment"}, incident.StageAssess},
		{"user:carl", incident.Change{Stage: stagePtr(incident.StageDiagnose), RemoveTags: []string{"web"}}, []string{"incident.stage", "incident.tag"}, incident.StageDiagnose},
		{"user:carl", incident.Change{Stage: stagePtr(incident.StageClose), Classification: incident.TruePositiveNoImpact, Reason: "blocked at the firewall"}, []string{"incident.close"}, incident.StageClose},
	}
	taskID = func(s incident.Stage, n int) string {
		for _, task := range workIncident(t, db, "acme", id).Tasks {
			if task.Stage == s {
				if n == 0 {
					return task.ID
				}
				n--
			}
		}
		t.Fatalf("no task %d of %s", n, s)
		return ""
	}
	auditBefore := len(workAudit(t, db, "acme"))
	for i, s := range steps {
		at := t0.Add(time.Duration(i+1) * time.Hour)
		clock.set(at)
		if i == 7 {
			s.ch.TaskDone = map[string]bool{taskID(incident.StageStabilize, 0): true}
		}
		tlBefore := len(workTimeline(t, db, "acme", id))
		got, err := db.ChangeIncident(ctx, "acme", id, s.ch, s.actor)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got.Stage != s.stage {
			t.Fatalf("step %d: stage %s, want %s", i, got.Stage, s.stage)
		}
		au := workAudit(t, db, "acme")[auditBefore:]
		auditBefore += len(au)
		var actions []string
		for _, a := range au {
			actions = append(actions, a.Action)
			if a.Actor != s.actor || !a.Time.Equal(at) || a.Target != id || a.Detail == "" {
				t.Errorf("step %d: audit line %+v, want by %s at %v on %s with a detail", i, a, s.actor, at, id)
			}
		}
		if !reflect.DeepEqual(actions, s.actions) {
			t.Errorf("step %d: audit actions %v, want %v", i, actions, s.actions)
		}
		tl := workTimeline(t, db, "acme", id)[tlBefore:]
		if len(tl) != len(s.actions) {
			t.Errorf("step %d: %d timeline entries, want %d", i, len(tl), len(s.actions))
		}
		for _, e := range tl {
			if e.Actor != s.actor || !e.Time.Equal(at) || e.Seq == 0 {
				t.Errorf("step %d: timeline entry %+v", i, e)
			}
		}
	}
	final := workIncident(t, db, "acme", id)
	if final.Reopened != 1 || final.Classification != incident.TruePositiveNoImpact || final.CloseReason != "blocked at the firewall" ||
		final.Closed == nil || !final.Closed.Equal(t0.Add(12*time.Hour)) {
		t.Errorf("final: reopened %d class %s reason %q closed %v", final.Reopened, final.Classification, final.CloseReason, final.Closed)
	}
	if final.Owner != "ann" || !reflect.DeepEqual(final.Tags, []string{"db"}) || final.Severity != alert.Critical {
		t.Errorf("final: owner %q tags %v severity %s", final.Owner, final.Tags, final.Severity)
	}
	if final.Assessment.Intent.Estimate != alert.IntentTargeted || !reflect.DeepEqual(final.Assessment.Locked, []string{incident.SectionIntent}) {
		t.Errorf("final assessment %+v", final.Assessment)
	}
	perStage := map[incident.Stage]int{}
	for _, task := range final.Tasks {
		perStage[task.Stage]++
	}
	for _, tt := range incident.DefaultTaskTemplates() {
		want := len(tt.Tasks)
		if tt.Stage == incident.StageStabilize {
			want++ // the one added by hand
		}
		if perStage[tt.Stage] != want {
			t.Errorf("%s: %d tasks, want %d: the loops and the reopen must not repeat checklists", tt.Stage, perStage[tt.Stage], want)
		}
	}
	// The stream: created, then one entry a change, stage kind for moves.
	var kinds []string
	for _, c := range workChanges(t, db) {
		kinds = append(kinds, string(c.Kind))
	}
	want := []string{"created", "stage", "updated", "updated", "stage", "stage", "stage", "stage", "updated", "stage", "stage", "stage", "stage"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("stream kinds %v, want %v", kinds, want)
	}

	// Repeating a change already in effect writes nothing.
	before := countRows(t, db)
	if _, err := db.ChangeIncident(ctx, "acme", id, incident.Change{Owner: &owner}, "user:ann"); err != nil {
		t.Fatal(err)
	}
	if after := countRows(t, db); after != before {
		t.Errorf("a no-op change wrote rows: %+v -> %+v", before, after)
	}
	// Unknown incident, unknown task, other workspace.
	if _, err := db.ChangeIncident(ctx, "acme", "nope", incident.Change{Owner: &owner}, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	mustWorkspace(t, db, "beta")
	if _, err := db.ChangeIncident(ctx, "beta", id, incident.Change{Owner: &owner}, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("incident of another workspace: %v", err)
	}
	_, err := db.ChangeIncident(ctx, "acme", id, incident.Change{TaskDone: map[string]bool{"nope": true}}, "cli")
	var se *incident.StageError
	if !errors.Is(err, store.ErrInvalid) || !errors.Is(err, incident.ErrInvalidChange) || errors.As(err, &se) {
		t.Errorf("unknown task: %v, want ErrInvalid and ErrInvalidChange, no StageError", err)
	}
}

func TestMergeAndSplit(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	a, aIDs := newWorkIncident(t, db, "acme")
	more := workAlerts(t, db, "acme",
		workAlert{"exfil", alert.Critical, "db-02", "exfiltration", time.Hour},
		workAlert{"cmd", alert.Medium, "app-01", "execution", 2 * time.Hour},
		workAlert{"role", alert.High, "cloud-1", "privilege-escalation", 3 * time.Hour},
	)
	b, err := db.CreateIncident(ctx, "acme", "exfiltration", more[:1], "cli")
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateIncident(ctx, "acme", "cloud", more[1:], "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeIncident(ctx, "acme", c.ID, incident.Change{AddTags: []string{"cloud"}}, "cli"); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(aIDs), more...)
	exactlyOnce := func(when string) map[string]string {
		t.Helper()
		m := workMembers(t, db, "acme")
		if len(m) != len(all) {
			t.Errorf("%s: %d alerts in incidents, want %d", when, len(m), len(all))
		}
		held := map[string]int{}
		for _, inc := range m {
			held[inc]++
		}
		for inc, n := range held {
			if got := workIncident(t, db, "acme", inc).AlertCount; got != n {
				t.Errorf("%s: incident %s holds %d alerts, AlertCount %d", when, inc, n, got)
			}
		}
		return m
	}
	exactlyOnce("before")

	// Refusals first: each writes nothing.
	setStage(t, db, "acme", b.ID, incident.StageClose)
	for _, r := range []struct {
		into string
		from []string
		want string
	}{
		{a.ID, nil, "name the incidents"},
		{a.ID, []string{a.ID}, "not merged into itself"},
		{a.ID, []string{c.ID, c.ID}, "named twice"},
		{b.ID, []string{c.ID}, "is closed"},
		{a.ID, []string{"nope"}, "not found"},
	} {
		before := countRows(t, db)
		if _, err := db.MergeIncidents(ctx, "acme", r.into, r.from, "cli"); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("MergeIncidents(%s, %v) = %v, want %q", r.into, r.from, err, r.want)
		}
		if after := countRows(t, db); after != before {
			t.Errorf("refused merge wrote rows: %+v -> %+v", before, after)
		}
	}
	setStage(t, db, "acme", b.ID, incident.StageDiagnose)

	clock.set(t0.Add(time.Hour))
	merged, err := db.MergeIncidents(ctx, "acme", a.ID, []string{b.ID, c.ID}, "user:ann")
	if err != nil {
		t.Fatal(err)
	}
	m := exactlyOnce("after merge")
	for _, id := range all {
		if m[id] != a.ID {
			t.Errorf("alert %s in %s after merge, want %s", id, m[id], a.ID)
		}
	}
	if merged.AlertCount != 6 || merged.Severity != alert.Critical || !slices.Contains(merged.Tags, "cloud") {
		t.Errorf("merged: count %d severity %s tags %v", merged.AlertCount, merged.Severity, merged.Tags)
	}
	if want := []string{"reconnaissance", "initial-access", "execution", "privilege-escalation", "credential-access", "exfiltration"}; !reflect.DeepEqual(merged.Tactics, want) {
		t.Errorf("merged tactics %v, want %v", merged.Tactics, want)
	}
	for _, id := range []string{b.ID, c.ID} {
		gone := workIncident(t, db, "acme", id)
		if gone.MergedInto != a.ID || gone.Stage != incident.StageClose || gone.Closed == nil || gone.AlertCount != 0 || len(gone.Entities) != 0 {
			t.Errorf("merged incident %s: %+v", id, gone)
		}
		if tl := workTimeline(t, db, "acme", id); tl[len(tl)-1].Kind != incident.TimelineMerge {
			t.Errorf("merged incident's timeline ends with %+v", tl[len(tl)-1])
		}
	}
	var ents int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM incident_entities WHERE incident_id IN (?, ?)`, b.ID, c.ID).Scan(&ents); err != nil || ents != 0 {
		t.Errorf("merged incidents keep %d entity rows (%v)", ents, err)
	}
	au := workAudit(t, db, "acme")
	if l := au[len(au)-1]; l.Action != "incident.merge" || l.Actor != "user:ann" || l.Target != a.ID || !strings.Contains(l.Detail, b.ID) || !l.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("merge audit %+v", l)
	}
	// A merged incident is not merged again nor reopened.
	if _, err := db.MergeIncidents(ctx, "acme", a.ID, []string{b.ID}, "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("merging a merged incident again: %v", err)
	}
	if _, err := db.ChangeIncident(ctx, "acme", b.ID, incident.Change{Stage: stagePtr(incident.StageAssess)}, "cli"); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "merged into") {
		t.Errorf("reopening a merged incident: %v", err)
	}

	// Split the cloud alerts off again.
	clock.set(t0.Add(2 * time.Hour))
	split, err := db.SplitIncident(ctx, "acme", a.ID, more[1:], "user:bob")
	if err != nil {
		t.Fatal(err)
	}
	m = exactlyOnce("after split")
	for _, id := range all {
		want := a.ID
		if slices.Contains(more[1:], id) {
			want = split.ID
		}
		if m[id] != want {
			t.Errorf("alert %s in %s after split, want %s", id, m[id], want)
		}
	}
	if split.Stage != incident.StageDetect || split.Owner != merged.Owner || split.AlertCount != 2 || split.Severity != alert.High || !slices.Contains(split.Tags, "cloud") {
		t.Errorf("split incident %+v", split)
	}
	if want := []string{"execution", "privilege-escalation"}; !reflect.DeepEqual(split.Tactics, want) {
		t.Errorf("split tactics %v", split.Tactics)
	}
	rest := workIncident(t, db, "acme", a.ID)
	if rest.AlertCount != 4 || slices.Contains(rest.RuleIDs, "cmd") || slices.Contains(rest.Tactics, "execution") {
		t.Errorf("incident after split: count %d rules %v tactics %v", rest.AlertCount, rest.RuleIDs, rest.Tactics)
	}
	cs := workChanges(t, db)
	last2 := []store.IncidentChangeKind{cs[len(cs)-2].Kind, cs[len(cs)-1].Kind}
	if !reflect.DeepEqual(last2, []store.IncidentChangeKind{store.IncidentSplit, store.IncidentCreated}) {
		t.Errorf("split stream entries %v", last2)
	}
	au = workAudit(t, db, "acme")
	if l := au[len(au)-1]; l.Action != "incident.split" || l.Actor != "user:bob" || l.Target != a.ID || !strings.Contains(l.Detail, split.ID) {
		t.Errorf("split audit %+v", l)
	}
	// Split refusals.
	for _, r := range []struct {
		ids  []string
		want string
	}{
		{aIDs[:1], "not in incident"}, // wrong incident: aIDs are in a, split from split
		{more[1:], "leave it empty"},
		{nil, "at least one alert"},
	} {
		before := countRows(t, db)
		if _, err := db.SplitIncident(ctx, "acme", split.ID, r.ids, "cli"); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), r.want) {
			t.Errorf("SplitIncident(%v) = %v, want %q", r.ids, err, r.want)
		}
		if after := countRows(t, db); after != before {
			t.Errorf("refused split wrote rows")
		}
	}

	// AddAlerts takes the rest of split over: split, left empty, is
	// closed as merged into a.
	clock.set(t0.Add(3 * time.Hour))
	got, err := db.AddAlerts(ctx, "acme", a.ID, append(more[1:], aIDs[0]), "user:ann")
	if err != nil {
		t.Fatal(err)
	}
	m = exactlyOnce("after add")
	if got.AlertCount != 6 || m[more[1]] != a.ID {
		t.Errorf("after AddAlerts: count %d", got.AlertCount)
	}
	if s := workIncident(t, db, "acme", split.ID); s.MergedInto != a.ID || s.Stage != incident.StageClose {
		t.Errorf("emptied incident: merged into %q stage %s", s.MergedInto, s.Stage)
	}
	tl := workTimeline(t, db, "acme", a.ID)
	var added []string
	for _, e := range tl[len(tl)-2:] {
		added = append(added, e.AlertID)
	}
	if !reflect.DeepEqual(added, more[1:]) {
		t.Errorf("AddAlerts timeline names %v, want only the alerts that joined %v", added, more[1:])
	}
	// Adding alerts it holds writes nothing.
	before := countRows(t, db)
	if _, err := db.AddAlerts(ctx, "acme", a.ID, aIDs, "cli"); err != nil {
		t.Fatal(err)
	}
	if after := countRows(t, db); after != before {
		t.Errorf("AddAlerts of held alerts wrote rows")
	}
}

func TestTaskTemplates(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	got, err := db.TaskTemplates(ctx, "acme")
	if err != nil || !reflect.DeepEqual(got, incident.DefaultTaskTemplates()) {
		t.Fatalf("TaskTemplates of a new workspace = %v, %v; want the defaults", got, err)
	}
	mine := []incident.TaskTemplate{
		{Stage: incident.StageDetect, Tasks: []string{"page the on-call"}},
		{Stage: incident.StageDiagnose, Tasks: []string{"pull the disk image", "check the backups"}},
	}
	if err := db.SetTaskTemplates(ctx, "acme", mine, "user:ann"); err != nil {
		t.Fatal(err)
	}
	got, err = db.TaskTemplates(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []incident.TaskTemplate{
		{Stage: incident.StageDetect, Tasks: []string{"page the on-call"}},
		{Stage: incident.StageAssess, Tasks: []string{}},
		{Stage: incident.StageDiagnose, Tasks: []string{"pull the disk image", "check the backups"}},
		{Stage: incident.StageStabilize, Tasks: []string{}},
		{Stage: incident.StageClose, Tasks: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TaskTemplates = %+v, want %+v", got, want)
	}
	au := workAudit(t, db, "acme")
	if l := au[len(au)-1]; l.Action != "incident.templates" || l.Actor != "user:ann" || !strings.Contains(l.Detail, "diagnose 2") {
		t.Errorf("templates audit %+v", l)
	}
	// Used: a new incident gets the detect list, diagnose its own.
	inc, _ := newWorkIncident(t, db, "acme")
	if len(inc.Tasks) != 1 || inc.Tasks[0].Title != "page the on-call" {
		t.Errorf("new incident tasks %+v", inc.Tasks)
	}
	inc, err = db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{Stage: stagePtr(incident.StageAssess)}, "cli")
	if err != nil || len(inc.Tasks) != 1 {
		t.Fatalf("assess: %v, tasks %+v (an empty checklist adds none)", err, inc.Tasks)
	}
	inc, err = db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{Stage: stagePtr(incident.StageDiagnose)}, "cli")
	if err != nil || len(inc.Tasks) != 3 || inc.Tasks[2].Title != "check the backups" {
		t.Fatalf("diagnose: %v, tasks %+v", err, inc.Tasks)
	}
	// Other workspaces keep the defaults.
	mustWorkspace(t, db, "beta")
	if got, _ := db.TaskTemplates(ctx, "beta"); !reflect.DeepEqual(got, incident.DefaultTaskTemplates()) {
		t.Errorf("beta templates %v", got)
	}
	// Refusals.
	before := countRows(t, db)
	if err := db.SetTaskTemplates(ctx, "acme", []incident.TaskTemplate{{Stage: "later", Tasks: []string{"x"}}}, "cli"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown stage: %v", err)
	}
	if err := db.SetTaskTemplates(ctx, "acme", mine, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no actor: %v", err)
	}
	if err := db.SetTaskTemplates(ctx, "nope", mine, "cli"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown workspace: %v", err)
	}
	if after := countRows(t, db); after != before {
		t.Errorf("refused template changes wrote rows")
	}
	// An empty set is kept as empty, not turned back into the defaults.
	if err := db.SetTaskTemplates(ctx, "acme", nil, "cli"); err != nil {
		t.Fatal(err)
	}
	got, _ = db.TaskTemplates(ctx, "acme")
	for _, tt := range got {
		if len(tt.Tasks) != 0 {
			t.Errorf("after clearing: %+v", got)
		}
	}
}

func TestAppendTimelineAndAssessment(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	inc, _ := newWorkIncident(t, db, "acme")
	clock.set(t0.Add(time.Hour))
	changes := len(workChanges(t, db))
	err := db.AppendTimeline(ctx, "acme", inc.ID, []incident.TimelineEntry{
		{Kind: incident.TimelinePlaybook, Actor: "vigil:automation:notify", Summary: "webhook to slack", Failed: true, Text: "503 from hooks.slack.com"},
		{Kind: incident.TimelineDecision, Actor: "vigil:automation:block", Summary: "blocked 203.0.113.7 for 24h", Time: t0.Add(30 * time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tl := workTimeline(t, db, "acme", inc.ID)
	pb, dec := tl[len(tl)-2], tl[len(tl)-1]
	if pb.Kind != incident.TimelinePlaybook || !pb.Failed || !pb.Time.Equal(t0.Add(time.Hour)) || pb.IncidentID != inc.ID {
		t.Errorf("playbook entry %+v", pb)
	}
	if !dec.Time.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("decision entry kept its time? %+v", dec)
	}
	au := workAudit(t, db, "acme")
	if l := au[len(au)-2]; l.Action != "incident.playbook" || l.Actor != "vigil:automation:notify" || !strings.Contains(l.Detail, "503") {
		t.Errorf("playbook audit %+v", l)
	}
	if len(workChanges(t, db)) != changes {
		t.Error("AppendTimeline appended to the incident stream")
	}
	for _, bad := range [][]incident.TimelineEntry{
		{{Kind: "", Actor: "x"}},
		{{Kind: "playbook", Actor: ""}},
		{{Kind: "Bad Kind", Actor: "x"}},
		{{Kind: "note", Actor: "x", IncidentID: "other"}},
	} {
		if err := db.AppendTimeline(ctx, "acme", inc.ID, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AppendTimeline(%+v) = %v", bad, err)
		}
	}
	if err := db.AppendTimeline(ctx, "acme", "nope", []incident.TimelineEntry{{Kind: "note", Actor: "x"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}

	// The responder locks the intent; the automatic fill keeps it.
	if _, err := db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{
		Assessment: &incident.Assessment{Intent: alert.Intent{Estimate: alert.IntentTargeted, Reasons: []string{"by hand"}}},
		Sections:   []string{incident.SectionIntent},
	}, "user:ann"); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(2 * time.Hour))
	auto := incident.Assessment{
		Nature: incident.Nature{Summary: "brute force then SQL injection", AlertTypes: []string{"rule sqli"}},
		Intent: alert.Intent{Estimate: alert.IntentRandom, Reasons: []string{"auto"}},
	}
	changes = len(workChanges(t, db))
	if err := db.SetAssessment(ctx, "acme", inc.ID, auto); err != nil {
		t.Fatal(err)
	}
	got := workIncident(t, db, "acme", inc.ID).Assessment
	if got.Nature.Summary != auto.Nature.Summary || got.Intent.Estimate != alert.IntentTargeted || !got.Updated.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("assessment after automatic fill %+v", got)
	}
	cs := workChanges(t, db)
	if len(cs) != changes+1 || cs[len(cs)-1].Kind != store.IncidentUpdated || cs[len(cs)-1].Actor != "vigil:assessment" {
		t.Errorf("SetAssessment stream entries %+v", cs[changes:])
	}
	au = workAudit(t, db, "acme")
	if l := au[len(au)-1]; l.Action != "incident.assessment" || l.Actor != "vigil:assessment" {
		t.Errorf("assessment audit %+v", l)
	}
	// The same again writes nothing (the assessment consumer may run
	// more than once on one change).
	before := countRows(t, db)
	clock.set(t0.Add(3 * time.Hour))
	if err := db.SetAssessment(ctx, "acme", inc.ID, auto); err != nil {
		t.Fatal(err)
	}
	if after := countRows(t, db); after != before {
		t.Errorf("an unchanged assessment wrote rows: %+v -> %+v", before, after)
	}
	if err := db.SetAssessment(ctx, "acme", "nope", auto); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}

// TestConcurrentChanges: changes to one incident from many goroutines are
// serialized: none is lost, and of competing stage moves exactly one
// wins while the others are refused with the reason.
func TestConcurrentChanges(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	inc, _ := newWorkIncident(t, db, "acme")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{AddTags: []string{fmt.Sprintf("t%d", i)}, Comment: fmt.Sprintf("note %d", i)}, fmt.Sprintf("key:%d", i))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := db.ChangeIncident(ctx, "acme", inc.ID, incident.Change{Stage: stagePtr(incident.StageAssess)}, fmt.Sprintf("key:s%d", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	won, refused := 0, 0
	for err := range errs {
		var se *incident.StageError
		switch {
		case err == nil:
			won++
		case errors.As(err, &se) && strings.Contains(se.Reason, "in that stage already"):
			refused++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != n+1 || refused != n-1 {
		t.Errorf("%d changes went through and %d were refused; want %d and %d", won, refused, n+1, n-1)
	}
	got := workIncident(t, db, "acme", inc.ID)
	sort.Strings(got.Tags)
	if len(got.Tags) != n || got.Stage != incident.StageAssess {
		t.Errorf("tags %v stage %s: a concurrent change was lost", got.Tags, got.Stage)
	}
	comments, stages := 0, 0
	for _, e := range workTimeline(t, db, "acme", inc.ID) {
		switch e.Kind {
		case incident.TimelineComment:
			comments++
		case incident.TimelineStage:
			stages++
		}
	}
	actions := map[string]int{}
	for _, a := range workAudit(t, db, "acme") {
		actions[a.Action]++
	}
	if comments != n || stages != 1 || actions["incident.comment"] != n || actions["incident.tag"] != n || actions["incident.stage"] != 1 {
		t.Errorf("comments %d stages %d audit %v", comments, stages, actions)
	}
}
