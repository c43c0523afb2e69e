package sqlite

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/store"
)

// TestIncidentsText: the text filter keeps incidents by a part of their
// title (case aside), a part of an entity value, or their id; LIKE's
// wildcards in the text are plain characters.
func TestIncidentsText(t *testing.T) {
	db, _ := openTest(t)
	mustWorkspace(t, db, "acme")
	e1 := ev("acme", "s", t0, "web-01", "alice", "203.0.113.7")
	e2 := ev("acme", "s", t0.Add(time.Minute), "db_01", "bob", "10.0.0.9")
	b := batch("acme", "s", e1, e2)
	s1 := sig("acme", "r1", alert.Medium, "web-01", e1)
	s1.Entities = append(s1.Entities, alert.Entity{Type: alert.EntityIP, Value: "203.0.113.7"})
	b.Signals = []alert.Signal{s1, sig("acme", "r3", alert.Low, "db_01", e2)}
	commit(t, db, b)
	correlateStream(t, db, newTestCorrelator(), "incidents")
	all, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{})
	if err != nil || len(all) != 2 {
		t.Fatalf("Incidents: %d, %v; want 2", len(all), err)
	}
	dbi, web := all[0], all[1]
	for _, c := range []struct {
		text string
		want []string
	}{
		{"WEB-0", []string{web.ID}},          // title and host, case aside
		{"203.0.113", []string{web.ID}},      // part of an address
		{"db_0", []string{dbi.ID}},           // _ is a plain character…
		{"db%", nil},                         // …and so is %
		{"web_01", nil},                      // _ does not match the -
		{dbi.ID, []string{dbi.ID}},           // the id
		{"rule r", []string{dbi.ID, web.ID}}, // both titles
	} {
		q := store.IncidentQuery{Text: c.text}
		got, _, err := db.Incidents(ctx, "acme", q)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		var ids []string
		for _, i := range got {
			ids = append(ids, i.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("text %q: %v, want %v", c.text, ids, c.want)
		}
		if n, err := db.CountIncidents(ctx, "acme", q); err != nil || n != len(c.want) {
			t.Errorf("text %q: count %d, %v; want %d", c.text, n, err, len(c.want))
		}
	}
	if got, _, _ := db.Incidents(ctx, "other", store.IncidentQuery{Text: "web"}); len(got) != 0 {
		t.Errorf("another workspace finds %d incidents", len(got))
	}
}

// TestIncidentsTextAfterMigration: incidents stored before the title had
// its column are found by their title once the store is opened again.
func TestIncidentsTextAfterMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	old, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	old.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`)
	stageIndex := slices.IndexFunc(migrations, func(m migration) bool { return m.sql == sqlMigrateIncidentStage })
	if stageIndex < 0 {
		t.Fatal("no migration adds the incidents' title column")
	}
	for v := 1; v <= stageIndex; v++ {
		exec(migrations[v-1].sql)
		exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	exec(`INSERT INTO workspaces (name, tier, created) VALUES ('acme', 'standard', 0)`)
	inc := incident.Incident{ID: "inc-1", Workspace: "acme", Title: "Brute force on web-01", Stage: incident.StageDetect,
		Status: incident.StatusNew, Tags: []string{}, LastSeen: t0, FirstSeen: t0}
	doc, _ := json.Marshal(inc)
	exec(`INSERT INTO incidents (workspace, id, stage, status, severity, priority, owner, first_seen, last_seen, created, updated, merged_into, doc)
		VALUES ('acme', 'inc-1', 'detect', 'new', 2, 10, '', ?, ?, 0, 0, '', ?)`, nanos(t0), nanos(t0), string(doc))
	old.Close()

	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Text: "brute FORCE"})
	if err != nil || len(got) != 1 || got[0].ID != "inc-1" {
		t.Fatalf("after the migration the title finds %+v, %v", got, err)
	}
}
