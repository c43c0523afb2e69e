package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/store"
)

func schemaVersions(t *testing.T, db *DB) []int {
	t.Helper()
	rows, err := db.r.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestOpenMigratesAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "vigil.db") // the directory is created
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaVersions(t, db); len(got) != len(migrations) || got[len(got)-1] != len(migrations) {
		t.Fatalf("versions after first open = %v, want 1..%d", got, len(migrations))
	}
	var mode string
	if err := db.r.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"workspaces", "api_keys", "sources", "event_blocks", "event_entities", "alerts", "alert_entities", "alert_evidence", "audit_log", "quarantine"} {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	mustWorkspace(t, db, "acme")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{})
	if got := schemaVersions(t, db); len(got) != len(migrations) {
		t.Errorf("versions after reopen = %v: a migration ran twice or went missing", got)
	}
	if _, err := db.Workspace(ctx, "acme"); err != nil {
		t.Errorf("workspace lost across reopen: %v", err)
	}

	// A database from a newer vigil is refused, not half-used.
	if _, err := db.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, path, Options{}); err == nil || !strings.Contains(err.Error(), "999") {
		t.Errorf("open of a newer schema: err = %v, want one naming version 999", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		if _, err := Open(ctx, path, Options{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", path, err)
		}
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{DedupWindow: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative dedup window: err = %v, want ErrInvalid", err)
	}
}

// The reader pool refuses writes: they belong on the one writer.
func TestReaderPoolIsReadOnly(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.r.ExecContext(ctx, `INSERT INTO workspaces (name, tier, created) VALUES ('x', 'free', 0)`); err == nil {
		t.Error("write through the reader pool succeeded")
	}
}
