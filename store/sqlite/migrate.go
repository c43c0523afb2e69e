package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each in its own transaction, and recorded
// in schema_migrations. Never edit a released migration: append a new one.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE workspaces (
	name    TEXT PRIMARY KEY,
	tier    TEXT NOT NULL,
	created INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id        TEXT PRIMARY KEY,
	workspace TEXT NOT NULL,
	name      TEXT NOT NULL DEFAULT '',
	scope     TEXT NOT NULL,
	prefix    TEXT NOT NULL,
	hash      BLOB NOT NULL UNIQUE,
	created   INTEGER NOT NULL,
	last_used INTEGER,
	revoked   INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys (workspace, created);

CREATE TABLE sources (
	workspace TEXT NOT NULL,
	name      TEXT NOT NULL,
	format    TEXT NOT NULL,
	product   TEXT NOT NULL DEFAULT '',
	category  TEXT NOT NULL DEFAULT '',
	service   TEXT NOT NULL DEFAULT '',
	timezone  TEXT NOT NULL DEFAULT '',
	created   INTEGER NOT NULL,
	last_seen INTEGER,
	events    INTEGER NOT NULL DEFAULT 0,
	rejected  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace, name)
);

-- One row per committed bus batch; data is the compressed block (block.go).
CREATE TABLE event_blocks (
	id        BLOB PRIMARY KEY,
	workspace TEXT NOT NULL,
	source    TEXT NOT NULL,
	format    TEXT NOT NULL,
	min_time  INTEGER NOT NULL,
	max_time  INTEGER NOT NULL,
	min_id    BLOB NOT NULL,
	max_id    BLOB NOT NULL,
	received  INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	data      BLOB NOT NULL
);
CREATE INDEX event_blocks_time ON event_blocks (workspace, max_time, id);
CREATE INDEX event_blocks_source_time ON event_blocks (workspace, source, max_time, id);
CREATE INDEX event_blocks_min_id ON event_blocks (workspace, min_id);
CREATE INDEX event_blocks_retention ON event_blocks (max_time);

-- The distinct entity values of a block: which blocks to decode for an
-- entity search.
CREATE TABLE event_entities (
	workspace TEXT NOT NULL,
	value     TEXT NOT NULL,
	block_id  BLOB NOT NULL,
	PRIMARY KEY (workspace, value, block_id)
) WITHOUT ROWID;
CREATE INDEX event_entities_block ON event_entities (block_id);

CREATE TABLE alerts (
	id         TEXT PRIMARY KEY,
	workspace  TEXT NOT NULL,
	dedup_key  TEXT NOT NULL,
	status     TEXT NOT NULL,
	severity   INTEGER NOT NULL,
	rule_id    TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL,
	doc        TEXT NOT NULL,
	evidence   TEXT NOT NULL,
	evidence_n INTEGER NOT NULL
);
CREATE INDEX alerts_dedup ON alerts (workspace, dedup_key, status, last_seen);
CREATE INDEX alerts_last_seen ON alerts (workspace, last_seen, id);

CREATE TABLE alert_entities (
	workspace TEXT NOT NULL,
	value     TEXT NOT NULL,
	alert_id  TEXT NOT NULL,
	PRIMARY KEY (workspace, value, alert_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	workspace TEXT NOT NULL,
	time      INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_workspace ON audit_log (workspace, id);

-- Small store-wide counters, e.g. the widest id span of a block.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
`,
	// 2: quarantined records (rejected by a decoder).
	`
CREATE TABLE quarantine (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	workspace TEXT NOT NULL,
	source    TEXT NOT NULL,
	format    TEXT NOT NULL,
	batch_id  BLOB NOT NULL,
	record_id BLOB NOT NULL,
	line      INTEGER NOT NULL,
	reason    TEXT NOT NULL,
	received  INTEGER NOT NULL,
	raw       BLOB NOT NULL,
	truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX quarantine_workspace ON quarantine (workspace, id);
CREATE INDEX quarantine_source ON quarantine (workspace, source, id);
CREATE INDEX quarantine_received ON quarantine (received);
`,
}

// migrate applies the migrations the database has not seen yet.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("open store %s: create schema_migrations: %w", db.path, err)
	}
	var have int
	if err := db.w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("open store %s: read schema version: %w", db.path, err)
	}
	if have > len(migrations) {
		return fmt.Errorf("open store %s: schema version %d is newer than this vigil knows (%d): upgrade vigil", db.path, have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := db.write(ctx, fmt.Sprintf("open store %s: migration %d", db.path, v), func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("open store %s: migration %d: %w", db.path, v, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, nanos(db.now())); err != nil {
				return fmt.Errorf("open store %s: record migration %d: %w", db.path, v, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		db.log.Info("store schema migrated", "path", db.path, "version", v)
	}
	return nil
}
