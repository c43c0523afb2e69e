package incident

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
)

var wt0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func taskIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("t%d", n) }
}

func newIncident() *Incident {
	inc := &Incident{ID: "inc1", Workspace: "acme", Title: "SSH brute force on web-01", Severity: alert.High,
		Stage: StageDetect, Status: StatusNew, Tags: []string{}, Created: wt0, Updated: wt0}
	return inc
}

func stage(s Stage) *Stage { return &s }

func apply(t *testing.T, inc *Incident, ch Change, newID func() string, at time.Time) []TimelineEntry {
	t.Helper()
	es, err := Apply(inc, ch, DefaultTaskTemplates(), "user:ann", at, newID)
	if err != nil {
		t.Fatalf("Apply(%+v): %v", ch, err)
	}
	for _, e := range es {
		if e.Actor != "user:ann" || !e.Time.Equal(at) || e.IncidentID != inc.ID {
			t.Errorf("entry %+v: actor, time or incident wrong", e)
		}
	}
	return es
}

func tasksOf(inc *Incident, s Stage) []Task {
	var out []Task
	for _, t := range inc.Tasks {
		if t.Stage == s {
			out = append(out, t)
		}
	}
	return out
}

func templateOf(s Stage) []string {
	for _, t := range DefaultTaskTemplates() {
		if t.Stage == s {
			return t.Tasks
		}
	}
	return nil
}

// TestApplyFullLifecycle runs Detect → Assess → Diagnose → Stabilize →
// Diagnose → Stabilize → Close → (reopen) Assess → Diagnose → Close.
func TestApplyFullLifecycle(t *testing.T) {
	inc := newIncident()
	newID := taskIDs()
	StartTasks(inc, DefaultTaskTemplates(), newID)
	if got := len(tasksOf(inc, StageDetect)); got != len(templateOf(StageDetect)) {
		t.Fatalf("new incident has %d detect tasks, want %d", got, len(templateOf(StageDetect)))
	}
	at := wt0
	step := func(to Stage, wantKind string) TimelineEntry {
		t.Helper()
		at = at.Add(time.Minute)
		ch := Change{Stage: stage(to)}
		if to == StageClose {
			ch.Classification, ch.Reason = TruePositiveNoImpact, "contained before data left"
		}
		es := apply(t, inc, ch, newID, at)
		if len(es) != 1 || es[0].Kind != wantKind || es[0].Stage != to {
			t.Fatalf("move to %s: entries %+v, want one %s entry for %s", to, es, wantKind, to)
		}
		if inc.Stage != to || inc.Status != StatusOf(to) || !inc.Updated.Equal(at) {
			t.Fatalf("after move to %s: stage %s status %s updated %v", to, inc.Stage, inc.Status, inc.Updated)
		}
		return es[0]
	}
	step(StageAssess, TimelineStage)
	step(StageDiagnose, TimelineStage)
	step(StageStabilize, TimelineStage)
	nDiag, nStab := len(tasksOf(inc, StageDiagnose)), len(tasksOf(inc, StageStabilize))
	if nDiag != len(templateOf(StageDiagnose)) || nStab != len(templateOf(StageStabilize)) {
		t.Fatalf("diagnose %d, stabilize %d tasks: want the templates' %d and %d", nDiag, nStab, len(templateOf(StageDiagnose)), len(templateOf(StageStabilize)))
	}
	// Mark a diagnose task done: the loop must keep it done and add no copy.
	done := tasksOf(inc, StageDiagnose)[0].ID
	apply(t, inc, Change{TaskDone: map[string]bool{done: true}}, newID, at)
	e := step(StageDiagnose, TimelineStage)
	if strings.Contains(e.Summary, "added") {
		t.Errorf("second entry into diagnose added tasks: %q", e.Summary)
	}
	step(StageStabilize, TimelineStage)
	if len(tasksOf(inc, StageDiagnose)) != nDiag || len(tasksOf(inc, StageStabilize)) != nStab {
		t.Fatalf("the Diagnose ⇄ Stabilize loop repeated tasks: %d diagnose, %d stabilize", len(tasksOf(inc, StageDiagnose)), len(tasksOf(inc, StageStabilize)))
	}
	if task := tasksOf(inc, StageDiagnose)[0]; !task.Done || task.DoneBy != "user:ann" {
		t.Errorf("done task after loop: %+v", task)
	}

	e = step(StageClose, TimelineStage)
	closedAt := at
	if inc.Closed == nil || !inc.Closed.Equal(closedAt) || inc.Classification != TruePositiveNoImpact || inc.CloseReason != "contained before data left" {
		t.Fatalf("closed incident: closed %v class %q reason %q", inc.Closed, inc.Classification, inc.CloseReason)
	}
	if e.Text != "contained before data left" || !strings.Contains(e.Summary, "true_positive_no_impact") {
		t.Errorf("close entry %+v", e)
	}

	e = step(StageAssess, TimelineReopened)
	if inc.Closed != nil || inc.Reopened != 1 || inc.Status != StatusActive {
		t.Errorf("reopened: closed %v reopened %d status %s", inc.Closed, inc.Reopened, inc.Status)
	}
	if inc.Classification != TruePositiveNoImpact || inc.CloseReason == "" {
		t.Errorf("reopen dropped the old classification: %q %q", inc.Classification, inc.CloseReason)
	}
	step(StageDiagnose, TimelineStage)
	at = at.Add(time.Minute)
	apply(t, inc, Change{Stage: stage(StageClose), Classification: TruePositiveImpact, Reason: "second wave reached the database"}, newID, at)
	if inc.Classification != TruePositiveImpact || !inc.Closed.Equal(at) || inc.Reopened != 1 {
		t.Errorf("second close: %q closed %v reopened %d", inc.Classification, inc.Closed, inc.Reopened)
	}
	for _, s := range Stages {
		if got, want := len(tasksOf(inc, s)), len(templateOf(s)); got != want {
			t.Errorf("%s: %d tasks after the whole life, want %d (each checklist once)", s, got, want)
		}
	}
	seen := map[string]bool{}
	for _, task := range inc.Tasks {
		if seen[task.ID] {
			t.Errorf("task id %s twice", task.ID)
		}
		seen[task.ID] = true
	}
}

// TestApplyRefusedChangesNothing: a change with an illegal part leaves the
// incident exactly as it was, legal parts included.
func TestApplyRefusedChangesNothing(t *testing.T) {
	owner := "bob"
	sev := alert.Critical
	for _, c := range []struct {
		name    string
		stage   Stage
		ch      Change
		stageEr bool
		want    string
	}{
		{"detect to diagnose", StageDetect, Change{Stage: stage(StageDiagnose), Owner: &owner}, true, "assess the incident before"},
		{"back to detect", StageAssess, Change{Stage: stage(StageDetect), Comment: "x"}, true, "back to detect"},
		{"close without class", StageDiagnose, Change{Stage: stage(StageClose), Reason: "r", Owner: &owner}, true, "needs a classification"},
		{"close without reason", StageDiagnose, Change{Stage: stage(StageClose), Classification: FalsePositive}, true, "needs a reason"},
		{"true positive from assess", StageAssess, Change{Stage: stage(StageClose), Classification: TruePositiveImpact, Reason: "r"}, true, "diagnosed before"},
		{"same stage", StageStabilize, Change{Stage: stage(StageStabilize), Severity: &sev}, true, "in that stage already"},
		{"close to diagnose", StageClose, Change{Stage: stage(StageDiagnose)}, true, "reopened into assess"},
		{"stabilize to assess", StageStabilize, Change{Stage: stage(StageAssess)}, true, "moves to diagnose or close"},
		{"class without close", StageAssess, Change{Classification: FalsePositive, Owner: &owner}, false, "go with a move to close"},
		{"empty", StageAssess, Change{}, false, "nothing to change"},
		{"unknown task", StageAssess, Change{Owner: &owner, TaskDone: map[string]bool{"nope": true}}, false, `no task "nope"`},
		{"bad tag", StageAssess, Change{Owner: &owner, AddTags: []string{"Has Space"}}, false, "lower-case letters"},
		{"tag added and removed", StageAssess, Change{AddTags: []string{"a"}, RemoveTags: []string{"a"}}, false, "both added and removed"},
		{"bad severity", StageAssess, Change{Owner: &owner, Severity: func() *alert.Severity { s := alert.Severity(9); return &s }()}, false, "unknown severity"},
		{"blank comment", StageAssess, Change{Owner: &owner, Comment: "  \n"}, false, "blank"},
		{"long reason", StageDiagnose, Change{Stage: stage(StageClose), Classification: FalsePositive, Reason: strings.Repeat("x", maxReason+1)}, false, "close reason of"},
		{"long comment", StageAssess, Change{Comment: strings.Repeat("x", maxComment+1)}, false, "at most"},
		{"owner control", StageAssess, Change{Owner: func() *string { s := "bob\n"; return &s }()}, false, "control characters"},
		{"task without title", StageAssess, Change{AddTask: &Task{}}, false, "needs a title"},
		{"task bad stage", StageAssess, Change{AddTask: &Task{Title: "x", Stage: "later"}}, false, "unknown stage"},
		{"sections without assessment", StageAssess, Change{Sections: []string{SectionIntent}}, false, "without an assessment"},
		{"assessment without sections", StageAssess, Change{Assessment: &Assessment{}}, false, "names the sections"},
		{"unknown section", StageAssess, Change{Assessment: &Assessment{}, Sections: []string{"impact"}}, false, `unknown assessment section "impact"`},
		{"section twice", StageAssess, Change{Assessment: &Assessment{}, Sections: []string{SectionIntent, SectionIntent}}, false, "named twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inc := newIncident()
			inc.Stage, inc.Status = c.stage, StatusOf(c.stage)
			StartTasks(inc, DefaultTaskTemplates(), taskIDs())
			before := clone(inc)
			es, err := Apply(inc, c.ch, DefaultTaskTemplates(), "user:ann", wt0.Add(time.Hour), taskIDs())
			if err == nil || es != nil {
				t.Fatalf("Apply = %v, %v; want refused", es, err)
			}
			var se *StageError
			if got := errors.As(err, &se); got != c.stageEr {
				t.Errorf("err %v: StageError %v, want %v", err, got, c.stageEr)
			}
			if !c.stageEr && !errors.Is(err, ErrInvalidChange) {
				t.Errorf("err %v does not wrap ErrInvalidChange", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %q, want it to say %q", err, c.want)
			}
			if !reflect.DeepEqual(inc, before) {
				t.Errorf("refused change altered the incident")
			}
		})
	}
}

func clone(inc *Incident) *Incident {
	c := *inc
	c.Tags = slices.Clone(inc.Tags)
	c.Tasks = slices.Clone(inc.Tasks)
	return &c
}

func TestApplyMergedIncidentStaysClosed(t *testing.T) {
	inc := newIncident()
	inc.Stage, inc.MergedInto = StageClose, "inc2"
	_, err := Apply(inc, Change{Stage: stage(StageAssess)}, nil, "cli", wt0, taskIDs())
	var se *StageError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "merged into inc2") {
		t.Fatalf("reopen of a merged incident: %v", err)
	}
	// A comment on it is still fine.
	if es, err := Apply(inc, Change{Comment: "see inc2"}, nil, "cli", wt0, taskIDs()); err != nil || len(es) != 1 {
		t.Fatalf("comment on merged incident: %v %v", es, err)
	}
}

func TestApplyActionsInOrder(t *testing.T) {
	inc := newIncident()
	inc.Tags = []string{"ssh"}
	newID := taskIDs()
	StartTasks(inc, DefaultTaskTemplates(), newID)
	owner, sev := "ann", alert.Critical
	first := inc.Tasks[0].ID
	intent := alert.Intent{Estimate: alert.IntentTargeted}
	es := apply(t, inc, Change{
		Stage:      stage(StageAssess),
		Owner:      &owner,
		AddTags:    []string{"crown-jewels", "ssh"},
		RemoveTags: []string{"nope"},
		Severity:   &sev,
		Comment:    "looks like the March actor",
		AddTask:    &Task{Title: "Call the hosting provider", Done: true, ID: "mine"},
		TaskDone:   map[string]bool{first: true},
		Assessment: &Assessment{Intent: intent, Nature: Nature{Summary: "ignored: not named"}},
		Sections:   []string{SectionIntent},
	}, newID, wt0.Add(time.Hour))
	var kinds []string
	for _, e := range es {
		kinds = append(kinds, e.Kind)
	}
	want := []string{TimelineStage, TimelineOwner, TimelineTag, TimelineSeverity, TimelineComment, TimelineTask, TimelineTask, TimelineAssessment}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if inc.Owner != "ann" || inc.Severity != alert.Critical || !reflect.DeepEqual(inc.Tags, []string{"ssh", "crown-jewels"}) {
		t.Errorf("owner %q severity %s tags %v", inc.Owner, inc.Severity, inc.Tags)
	}
	if es[2].Summary != "tags +crown-jewels" {
		t.Errorf("tag entry %q: an existing tag or an absent removal must not be listed", es[2].Summary)
	}
	if es[3].Summary != "severity set from high to critical" {
		t.Errorf("severity entry %q", es[3].Summary)
	}
	if es[4].Text != "looks like the March actor" {
		t.Errorf("comment entry %+v", es[4])
	}
	added := inc.Tasks[len(inc.Tasks)-1]
	if added.Title != "Call the hosting provider" || added.Stage != StageAssess || added.Done || added.ID == "mine" || added.ID == "" {
		t.Errorf("added task %+v: want a fresh id, stage assess (the stage after the move), not done", added)
	}
	if !inc.Tasks[0].Done || inc.Tasks[0].DoneBy != "user:ann" || inc.Tasks[0].DoneAt == nil {
		t.Errorf("task done: %+v", inc.Tasks[0])
	}
	if inc.Assessment.Intent.Estimate != alert.IntentTargeted || inc.Assessment.Nature.Summary != "" {
		t.Errorf("assessment %+v: only the named section replaced", inc.Assessment)
	}
	if !reflect.DeepEqual(inc.Assessment.Locked, []string{SectionIntent}) {
		t.Errorf("locked %v", inc.Assessment.Locked)
	}

	// Undo the task, remove a tag, unassign.
	empty := ""
	es = apply(t, inc, Change{Owner: &empty, RemoveTags: []string{"ssh"}, TaskDone: map[string]bool{first: false}}, newID, wt0.Add(2*time.Hour))
	if len(es) != 3 || es[0].Summary != "unassigned" || es[1].Summary != "tags -ssh" || !strings.HasPrefix(es[2].Summary, "task not done") {
		t.Errorf("entries %+v", es)
	}
	if inc.Owner != "" || inc.Tasks[0].Done || inc.Tasks[0].DoneAt != nil || inc.Tasks[0].DoneBy != "" {
		t.Errorf("after undo: owner %q task %+v", inc.Owner, inc.Tasks[0])
	}
}

// TestApplyNoOp: repeating a change that is already in effect writes
// nothing and does not move Updated.
func TestApplyNoOp(t *testing.T) {
	inc := newIncident()
	owner, sev := "ann", inc.Severity
	inc.Owner, inc.Tags = owner, []string{"a"}
	es, err := Apply(inc, Change{Owner: &owner, Severity: &sev, AddTags: []string{"a"}, RemoveTags: []string{"b"}}, nil, "cli", wt0.Add(time.Hour), taskIDs())
	if err != nil || len(es) != 0 || !inc.Updated.Equal(wt0) {
		t.Fatalf("no-op change: %v %v, updated %v", es, err, inc.Updated)
	}
}

func TestCheckTag(t *testing.T) {
	for _, ok := range []string{"a", "crown-jewels", "attack:t1110", "team/blue", "v1.2_x", strings.Repeat("a", 64)} {
		if err := CheckTag(ok); err != nil {
			t.Errorf("CheckTag(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "-a", ":a", "a b", "é", "a\n", strings.Repeat("a", 65), "a,b"} {
		if CheckTag(bad) == nil {
			t.Errorf("CheckTag(%q) accepted", bad)
		}
	}
}

func TestKeepLocked(t *testing.T) {
	stored := Assessment{Intent: alert.Intent{Estimate: alert.IntentTargeted}, Nature: Nature{Summary: "old"}, Locked: []string{SectionIntent}}
	auto := Assessment{Intent: alert.Intent{Estimate: alert.IntentRandom}, Nature: Nature{Summary: "new"}}
	got := KeepLocked(stored, auto)
	if got.Intent.Estimate != alert.IntentTargeted || got.Nature.Summary != "new" || !reflect.DeepEqual(got.Locked, []string{SectionIntent}) {
		t.Errorf("KeepLocked = %+v", got)
	}
}

func TestTaskTemplates(t *testing.T) {
	def := DefaultTaskTemplates()
	if err := CheckTaskTemplates(def); err != nil {
		t.Fatalf("default templates invalid: %v", err)
	}
	for _, s := range Stages {
		if len(templateOf(s)) == 0 {
			t.Errorf("no default checklist for %s", s)
		}
	}
	for _, c := range []struct {
		tt   []TaskTemplate
		want string
	}{
		{[]TaskTemplate{{Stage: "triage", Tasks: []string{"x"}}}, "unknown stage"},
		{[]TaskTemplate{{Stage: StageAssess, Tasks: []string{"x"}}, {Stage: StageAssess}}, "given twice"},
		{[]TaskTemplate{{Stage: StageAssess, Tasks: []string{"x", "x"}}}, `task "x" given twice`},
		{[]TaskTemplate{{Stage: StageAssess, Tasks: []string{" "}}}, "needs a title"},
		{[]TaskTemplate{{Stage: StageAssess, Tasks: []string{"a\nb"}}}, "one line"},
		{[]TaskTemplate{{Stage: StageAssess, Tasks: make([]string, maxTemplateTasks+1)}}, "at most"},
	} {
		if err := CheckTaskTemplates(c.tt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckTaskTemplates(%v) = %v, want %q", c.tt, err, c.want)
		}
	}
	// An empty list (a workspace without checklists) is allowed.
	if err := CheckTaskTemplates(nil); err != nil {
		t.Errorf("empty templates: %v", err)
	}
	got := TasksFor([]TaskTemplate{{Stage: StageDiagnose, Tasks: []string{"a", "b"}}}, StageDiagnose, taskIDs())
	want := []Task{{ID: "t1", Stage: StageDiagnose, Title: "a"}, {ID: "t2", Stage: StageDiagnose, Title: "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TasksFor = %+v", got)
	}
	if got := TasksFor(def, "nope", taskIDs()); got != nil {
		t.Errorf("TasksFor unknown stage = %v", got)
	}
}

// TestApplyEditedTemplates: a template edited between two entries of a
// stage adds only its new tasks on the second entry.
func TestApplyEditedTemplates(t *testing.T) {
	inc := newIncident()
	inc.Stage = StageStabilize
	tpl := []TaskTemplate{{Stage: StageDiagnose, Tasks: []string{"scope"}}}
	newID := taskIDs()
	if _, err := Apply(inc, Change{Stage: stage(StageDiagnose)}, tpl, "cli", wt0, newID); err != nil {
		t.Fatal(err)
	}
	inc.Stage = StageStabilize
	tpl[0].Tasks = append(tpl[0].Tasks, "find the way in")
	es, err := Apply(inc, Change{Stage: stage(StageDiagnose)}, tpl, "cli", wt0, newID)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Tasks) != 2 || inc.Tasks[1].Title != "find the way in" || !strings.Contains(es[0].Summary, "1 task of the diagnose checklist added") {
		t.Errorf("tasks %+v, entry %q", inc.Tasks, es[0].Summary)
	}
}
