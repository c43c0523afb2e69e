package incident

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// FuzzApply feeds Apply the changes a client may send (an incident.Change
// as JSON, the API's PATCH body) against an incident in each stage, and
// holds it to its promises: no panic; a refused change leaves the
// incident as it was; an accepted one leaves a legal stage, a status that
// follows from it, a closed time exactly when closed, tags that pass
// CheckTag, unique task ids, and entries by the actor at now.
func FuzzApply(f *testing.F) {
	for _, seed := range []string{
		`{"stage":"assess"}`,
		`{"stage":"close","classification":"false_positive","reason":"our scanner"}`,
		`{"stage":"close","classification":"true_positive_impact","reason":"x"}`,
		`{"owner":"ann","add_tags":["web","db"],"remove_tags":["x"],"severity":"critical","comment":"hi"}`,
		`{"add_task":{"title":"call the provider","stage":"stabilize"},"task_done":{"t1":true}}`,
		`{"assessment":{"intent":{"estimate":"targeted","reasons":["by name"]}},"sections":["intent","nature"]}`,
		`{"stage":"detect"}`,
		`{"classification":"benign_positive"}`,
		`{"add_tags":["A B"]}`,
		`{}`,
	} {
		for i := range Stages {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body string, stageIdx uint8) {
		var ch Change
		if json.Unmarshal([]byte(body), &ch) != nil {
			return
		}
		inc := newIncident()
		inc.Stage = Stages[int(stageIdx)%len(Stages)]
		inc.Status = StatusOf(inc.Stage)
		if inc.Stage == StageClose {
			c := wt0
			inc.Closed, inc.Classification, inc.CloseReason = &c, FalsePositive, "earlier"
		}
		newID := taskIDs()
		StartTasks(inc, DefaultTaskTemplates(), newID)
		before := clone(inc)
		now := wt0.Add(time.Hour)
		es, err := Apply(inc, ch, DefaultTaskTemplates(), "user:fuzz", now, newID)
		if err != nil {
			var se *StageError
			if !errors.As(err, &se) && !errors.Is(err, ErrInvalidChange) {
				t.Fatalf("error %v is neither a StageError nor ErrInvalidChange", err)
			}
			if !reflect.DeepEqual(inc, before) {
				t.Fatalf("refused change %s altered the incident", body)
			}
			return
		}
		if !inc.Stage.Valid() || inc.Status != StatusOf(inc.Stage) {
			t.Fatalf("stage %q status %q after %s", inc.Stage, inc.Status, body)
		}
		if inc.Stage != before.Stage && CheckStage(before.Stage, inc.Stage) != nil {
			t.Fatalf("illegal move %s -> %s went through", before.Stage, inc.Stage)
		}
		if (inc.Stage == StageClose) != (inc.Closed != nil) {
			t.Fatalf("stage %s with closed %v", inc.Stage, inc.Closed)
		}
		if inc.Stage == StageClose && (!inc.Classification.Valid() || inc.CloseReason == "") {
			t.Fatalf("closed without classification or reason: %q %q", inc.Classification, inc.CloseReason)
		}
		for _, tag := range inc.Tags {
			if CheckTag(tag) != nil {
				t.Fatalf("bad tag %q stored", tag)
			}
		}
		seen := map[string]bool{}
		for _, task := range inc.Tasks {
			if seen[task.ID] || !task.Stage.Valid() {
				t.Fatalf("task %+v: duplicate id or bad stage", task)
			}
			seen[task.ID] = true
		}
		for _, s := range inc.Assessment.Locked {
			if !slices.Contains(sections[:], s) {
				t.Fatalf("unknown section %q locked", s)
			}
		}
		for _, e := range es {
			if e.Actor != "user:fuzz" || !e.Time.Equal(now) || e.IncidentID != inc.ID || e.Kind == "" {
				t.Fatalf("entry %+v", e)
			}
		}
		if (len(es) > 0) != inc.Updated.Equal(now) {
			t.Fatalf("%d entries but updated %v", len(es), inc.Updated)
		}
	})
}
