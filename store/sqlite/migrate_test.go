package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// v2Store writes a database of schema version 2 the way vigil of that
// version did, row by row.
type v2Store struct {
	t     *testing.T
	db    *sql.DB
	codec codec
}

func newV2Store(t *testing.T, path string) *v2Store {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	c, err := newCodec()
	if err != nil {
		t.Fatal(err)
	}
	s := &v2Store{t: t, db: db, codec: c}
	s.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`)
	for v := 1; v <= 2; v++ {
		s.exec(migrations[v-1].sql)
		s.exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v)
	}
	return s
}

func (s *v2Store) exec(q string, args ...any) {
	s.t.Helper()
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
}

// block stores b as version 2 did: entity values as they are, the batch's
// received time (zero saturating to the smallest integer).
func (s *v2Store) block(b *store.Batch) {
	s.t.Helper()
	p := (&DB{codec: s.codec, comp: compZstd}).prepareBlock(b) // the block's data and bounds, unchanged since
	s.exec(`INSERT INTO event_blocks (id, workspace, source, format, min_time, max_time, min_id, max_id, received, count, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID[:], b.Workspace, b.Source, b.Format, p.minT, p.maxT, p.minID[:], p.maxID[:], nanos(b.Received), len(b.Events), p.data)
	seen := map[string]bool{}
	for _, e := range b.Events {
		for _, f := range entityFields {
			if v := e.Common[f]; indexable(v) && !seen[v] {
				seen[v] = true
				s.exec(`INSERT INTO event_entities (workspace, value, block_id) VALUES (?, ?, ?)`, b.Workspace, v, b.ID[:])
			}
		}
	}
	s.exec(`INSERT INTO sources (workspace, name, format, created, events) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (workspace, name) DO UPDATE SET events = events + excluded.events`, b.Workspace, b.Source, b.Format, len(b.Events))
}

func (s *v2Store) alert(a *alert.Alert) {
	s.t.Helper()
	doc, _ := json.Marshal(alertDoc{Type: a.Type, Rule: a.Rule, Entities: a.Entities})
	evidence, _ := json.Marshal(a.Evidence)
	s.exec(`INSERT INTO alerts (id, workspace, dedup_key, status, severity, rule_id, first_seen, last_seen, count, created, updated, doc, evidence, evidence_n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Workspace, a.DedupKey, string(a.Status), int64(a.Severity), a.Rule.ID, nanos(a.FirstSeen), nanos(a.LastSeen),
		a.Count, nanos(a.Created), nanos(a.Updated), string(doc), string(evidence), len(a.Evidence))
	for _, e := range a.Entities {
		s.exec(`INSERT OR IGNORE INTO alert_entities (workspace, value, alert_id) VALUES (?, ?, ?)`, a.Workspace, e.Value, a.ID)
	}
}

// A store of schema version 2 upgrades: retention then counts from the
// received time and keeps the evidence of open alerts, entity search
// ignores case on the old rows, and the source counters say what is stored.
func TestMigrateFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	old := newV2Store(t, path)
	old.exec(`INSERT INTO workspaces (name, tier, created) VALUES ('acme', 'standard', 0)`)
	y2019 := time.Date(2019, 5, 20, 10, 0, 0, 0, time.UTC)
	long := t0.Add(-90 * 24 * time.Hour)
	history := receivedAt(t0, "acme", "import", ev("acme", "import", y2019, "WORKSTATION5", "alice", "10.0.0.1"))
	stale := receivedAt(long, "acme", "import", ev("acme", "import", t0, "h-stale", "bob", "10.0.0.2"))
	evidence := receivedAt(long, "acme", "import", ev("acme", "import", long, "h-evidence", "carol", "10.0.0.3"))
	undated := receivedAt(time.Time{}, "acme", "import", ev("acme", "import", y2019, "h-undated", "dave", "10.0.0.4"))
	for _, b := range []*store.Batch{history, stale, evidence, undated} {
		old.block(b)
	}
	// An earlier purge deleted 5 events of import without lowering its counter.
	old.exec(`UPDATE sources SET events = events + 5 WHERE name = 'import'`)
	open := alert.New("alert-open", sig("acme", "r1", alert.High, "WORKSTATION5", evidence.Events[0]), long)
	old.alert(open)
	old.db.Close()
	old.codec.close()

	beforeOpen := time.Now()
	db := openAt(t, path, Options{})
	if got := schemaVersions(t, db); len(got) != len(migrations) {
		t.Fatalf("versions after upgrade = %v, want 1..%d", got, len(migrations))
	}
	if got := sourceEvents(t, db, "acme", "import"); got != 4 {
		t.Errorf("import's counter after upgrade = %d, want the 4 stored", got)
	}
	var received int64
	if err := db.r.QueryRowContext(ctx, `SELECT received FROM event_blocks WHERE id = ?`, undated.ID[:]).Scan(&received); err != nil {
		t.Fatal(err)
	}
	if received < nanos(beforeOpen) {
		t.Errorf("block stored without a receive time: received %v, want the upgrade's time", fromNanos(received))
	}

	for _, c := range []struct {
		entity string
		events int
		alerts int
	}{{"WORKSTATION5", 1, 1}, {"workstation5", 1, 1}, {"ALICE", 1, 0}, {"H-Stale", 1, 0}} {
		if got := allEvents(t, db, "acme", store.EventQuery{Entity: c.entity}); len(got) != c.events {
			t.Errorf("events of entity %q after upgrade: %d, want %d", c.entity, len(got), c.events)
		}
		if got := allAlerts(t, db, "acme", store.AlertQuery{Entity: c.entity}); len(got) != c.alerts {
			t.Errorf("alerts of entity %q after upgrade: %d, want %d", c.entity, len(got), c.alerts)
		}
	}

	n, err := db.PurgeEvents(ctx, t0.Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PurgeEvents after upgrade = %d, %v; want 1 (the stale block; history is recent, evidence of an open alert)", n, err)
	}
	if _, err := db.Event(ctx, "acme", stale.Events[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("event received long ago: err = %v, want ErrNotFound", err)
	}
	for _, e := range []event.ID{history.Events[0].ID, evidence.Events[0].ID, undated.Events[0].ID} {
		if _, err := db.Event(ctx, "acme", e); err != nil {
			t.Errorf("event %s after the purge: %v", e, err)
		}
	}
	if got := sourceEvents(t, db, "acme", "import"); got != 3 {
		t.Errorf("import's counter after the purge = %d, want 3", got)
	}
}
