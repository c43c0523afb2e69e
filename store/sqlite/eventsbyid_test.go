package sqlite

import (
	"testing"

	"github.com/vigil-sec/vigil/event"
)

// TestEventsByID: the events asked for come back from every block that
// holds them, once each; ids of another workspace or never stored do not.
func TestEventsByID(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	mustWorkspace(t, db, "other")
	a1, a2 := ev("acme", "s", t0, "h1", "u1", "10.0.0.1"), ev("acme", "s", t0, "h2", "u2", "10.0.0.2")
	b1 := ev("acme", "s", t0, "h3", "u3", "10.0.0.3")
	o1 := ev("other", "s", t0, "h4", "u4", "10.0.0.4")
	commit(t, db, batch("acme", "s", a1, a2))
	commit(t, db, batch("acme", "s", b1))
	commit(t, db, batch("other", "s", o1))
	never := event.NewID()
	got, err := db.EventsByID(ctx, "acme", []event.ID{a2.ID, b1.ID, o1.ID, never, a1.ID, a2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d events, want a1, a2 and b1", len(got))
	}
	for _, id := range []event.ID{a1.ID, a2.ID, b1.ID} {
		e, ok := got[id]
		if !ok || e.ID != id || len(e.Raw) == 0 {
			t.Errorf("event %s: %+v, %v", id, e, ok)
		}
	}
	// A second read comes from the decoded-block cache, the same.
	again, err := db.EventsByID(ctx, "acme", []event.ID{a1.ID})
	if err != nil || string(again[a1.ID].Raw) != string(got[a1.ID].Raw) {
		t.Fatalf("again: %v", err)
	}
	if got, err := db.EventsByID(ctx, "acme", nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v, %v", got, err)
	}
}
