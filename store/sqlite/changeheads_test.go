package sqlite

import "testing"

// TestChangeHeads: the heads are the newest Seq of each stream, 0 when
// empty, and move with the changes a commit and an incident write make.
func TestChangeHeads(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	a, i, err := db.ChangeHeads(ctx)
	if err != nil || a != 0 || i != 0 {
		t.Fatalf("empty store: heads %d, %d, %v; want 0, 0", a, i, err)
	}
	inc, _ := newWorkIncident(t, db, "acme")
	a, i, err = db.ChangeHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ac := changesAfter(t, db, 0)
	ic, err := db.IncidentChanges(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ac) == 0 || len(ic) == 0 {
		t.Fatalf("%d alert changes and %d incident changes after making incident %s: want some of each", len(ac), len(ic), inc.ID)
	}
	if a != ac[len(ac)-1].Seq || i != ic[len(ic)-1].Seq {
		t.Errorf("heads %d, %d; want the last changes' %d, %d", a, i, ac[len(ac)-1].Seq, ic[len(ic)-1].Seq)
	}
}
