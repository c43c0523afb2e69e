package sqlite

import (
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
)

// TestCorrelatedIncidentsGetTasks: an incident correlation creates starts
// with the workspace's checklist of its first stage, an edited template
// included.
func TestCorrelatedIncidentsGetTasks(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	tmpl := incident.DefaultTaskTemplates()
	for i := range tmpl {
		if tmpl[i].Stage == incident.StageDetect {
			tmpl[i].Tasks = []string{"Page the on-call responder"}
		}
	}
	if err := db.SetTaskTemplates(ctx, "acme", tmpl, "test"); err != nil {
		t.Fatal(err)
	}
	e := ev("acme", "s", t0, "web-01", "alice", "203.0.113.7")
	b := batch("acme", "s", e)
	b.Signals = []alert.Signal{sig("acme", "r1", alert.Medium, "web-01", e)}
	commit(t, db, b)
	ups := correlateStream(t, db, newTestCorrelator(), "incidents")
	if len(ups) != 1 {
		t.Fatalf("%d updates", len(ups))
	}
	inc, err := db.Incident(ctx, "acme", ups[0].Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Tasks) != 1 || inc.Tasks[0].Title != "Page the on-call responder" || inc.Tasks[0].Stage != incident.StageDetect || inc.Tasks[0].ID == "" {
		t.Fatalf("tasks %+v, want the edited detect checklist", inc.Tasks)
	}
}
