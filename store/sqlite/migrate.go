package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// migration is one schema version: its SQL, then fill for what SQL alone
// cannot do (Go's case folding, reading JSON documents), in the same
// transaction.
type migration struct {
	sql  string
	fill func(ctx context.Context, tx *sql.Tx, now time.Time) error
}

// migrations are applied in order, each in its own transaction, and recorded
// in schema_migrations. Never edit a released migration: append a new one.
var migrations = []migration{
	// 1: the initial schema.
	{sql: `
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
`},
	// 2: quarantined records (rejected by a decoder).
	{sql: `
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
`},
	// 3: retention counts from the time a block was received, not from its
	// events' own times, and keeps the evidence of open alerts
	// (alert_evidence); entity search ignores case where the entity's kind
	// does (store.FoldCase), through keys folded at write time; and source
	// counters say what is stored, recomputed here since earlier purges
	// did not lower them.
	{sql: `
DROP INDEX event_blocks_retention;
CREATE INDEX event_blocks_received ON event_blocks (received, id);

-- The events alerts name as evidence (at most alert.MaxEvidence an alert).
CREATE TABLE alert_evidence (
	workspace TEXT NOT NULL,
	event_id  BLOB NOT NULL,
	alert_id  TEXT NOT NULL,
	PRIMARY KEY (workspace, event_id, alert_id)
) WITHOUT ROWID;

DROP INDEX event_entities_block;
ALTER TABLE event_entities RENAME TO event_entities_v2;
-- folded is store.FoldCase of the value, whatever the field: the block
-- is a candidate, reading it tells which field holds the value and how
-- that field compares.
CREATE TABLE event_entities (
	workspace TEXT NOT NULL,
	folded    TEXT NOT NULL,
	block_id  BLOB NOT NULL,
	PRIMARY KEY (workspace, folded, block_id)
) WITHOUT ROWID;
CREATE INDEX event_entities_block ON event_entities (block_id);

ALTER TABLE alert_entities RENAME TO alert_entities_v2;
-- exact is '' for an entity that ignores case (store.EntityIgnoresCase),
-- else its value: a query matches folded = FoldCase(q) AND exact IN ('', q).
CREATE TABLE alert_entities (
	workspace TEXT NOT NULL,
	folded    TEXT NOT NULL,
	exact     TEXT NOT NULL,
	alert_id  TEXT NOT NULL,
	PRIMARY KEY (workspace, folded, exact, alert_id)
) WITHOUT ROWID;

UPDATE sources SET events = (SELECT coalesce(sum(b.count), 0) FROM event_blocks b
	WHERE b.workspace = sources.workspace AND b.source = sources.name);
`, fill: migrate3},
	// 4: the ids of committed batches, kept apart from the events so that
	// retention cannot take them: a batch the bus delivers again after a
	// crash is recognised even when its events were purged meanwhile. The
	// ids of blocks stored so far count as committed now (kept a full
	// window).
	{sql: `
CREATE TABLE committed_batches (
	id        BLOB PRIMARY KEY,
	committed INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX committed_batches_time ON committed_batches (committed);
`, fill: func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO committed_batches (id, committed) SELECT id, ? FROM event_blocks`, nanos(now))
		return err
	}},
	// 5: repeated audit entries share a line (a count and the time of the
	// last repeat), found by actor and action; the audit log is purged by
	// the time of its lines' last repeat.
	{sql: `
ALTER TABLE audit_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last INTEGER;
CREATE INDEX audit_log_repeat ON audit_log (actor, action, time);
CREATE INDEX audit_log_time ON audit_log (time);
`},
	// 6: keys may expire (rotation's overlap) and be bound to addresses
	// (allow: CIDRs, comma-separated).
	{sql: `
ALTER TABLE api_keys ADD COLUMN expires INTEGER;
ALTER TABLE api_keys ADD COLUMN allow TEXT NOT NULL DEFAULT '';
`},
	// 7: threat intelligence: a workspace's feeds with the status of their
	// fetches, and their indicators (doc: the indicator's JSON; kind,
	// value, valid_until and revoked beside it for lookups and purges).
	// One indicator a kind and value in a feed.
	{sql: `
CREATE TABLE intel_feeds (
	workspace     TEXT NOT NULL,
	name          TEXT NOT NULL,
	format        TEXT NOT NULL,
	source        TEXT NOT NULL DEFAULT '',
	interval      INTEGER NOT NULL DEFAULT 0,
	threat_type   TEXT NOT NULL DEFAULT '',
	confidence    INTEGER NOT NULL DEFAULT 0,
	tlp           TEXT NOT NULL DEFAULT '',
	enabled       INTEGER NOT NULL DEFAULT 1,
	created       INTEGER NOT NULL,
	last_attempt  INTEGER,
	last_success  INTEGER,
	indicators    INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT '',
	problem_count INTEGER NOT NULL DEFAULT 0,
	problems      TEXT NOT NULL DEFAULT '',
	etag          TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (workspace, name)
);

CREATE TABLE intel_indicators (
	id          INTEGER PRIMARY KEY,
	workspace   TEXT NOT NULL,
	feed        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	value       TEXT NOT NULL,
	valid_until INTEGER,
	revoked     INTEGER NOT NULL DEFAULT 0,
	doc         TEXT NOT NULL
);
-- value first: the one index serves lookups by value and keeps one
-- indicator a kind and value in a feed.
CREATE UNIQUE INDEX intel_indicators_value ON intel_indicators (workspace, value, feed, kind);
CREATE INDEX intel_indicators_feed ON intel_indicators (workspace, feed, id);
CREATE INDEX intel_indicators_expiry ON intel_indicators (valid_until) WHERE valid_until IS NOT NULL;
`},
	// 8: the threat-intelligence pane and the intent estimate: each alert's
	// threat type and origin (country, network, location, address) as
	// columns, filled from the alert documents, so that the pane groups in
	// the index and the intent estimate finds the recent alerts of an
	// address.
	{sql: sqlMigrate8, fill: migrate8},
	// 9: each workspace's asset inventory, one row an asset (match and
	// tags as JSON arrays); and feed generations: a feed's indicators are
	// those of its current generation (intel_feeds.gen), so that a refresh
	// writes the next generation in short transactions and switches to it
	// in one (see ReplaceFeedIndicators). Rows so far are generation 0.
	{sql: `
ALTER TABLE intel_feeds ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intel_feeds ADD COLUMN next_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intel_indicators ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
DROP INDEX intel_indicators_value;
CREATE UNIQUE INDEX intel_indicators_value ON intel_indicators (workspace, value, feed, kind, gen);
DROP INDEX intel_indicators_feed;
CREATE INDEX intel_indicators_feed ON intel_indicators (workspace, feed, gen, id);

CREATE TABLE assets (
	workspace   TEXT NOT NULL,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL,
	match       TEXT NOT NULL DEFAULT '[]',
	criticality TEXT NOT NULL DEFAULT '',
	owner       TEXT NOT NULL DEFAULT '',
	environment TEXT NOT NULL DEFAULT '',
	tags        TEXT NOT NULL DEFAULT '[]',
	updated     INTEGER NOT NULL,
	PRIMARY KEY (workspace, name)
) WITHOUT ROWID;
`},
	// 10: behavioural baselines (sqlMigrate10 in baseline.go).
	{sql: sqlMigrate10},
	// 11: each alert's priority as a column, sorted on by the list, and
	// the priority and compromised entity of the alerts stored so far.
	{sql: sqlMigrate11, fill: migrate11},
	// 12 (noise control): suppressions
	// and the signals suppressed per rule (suppressions.go).
	{sql: sqlMigrate12},
	// 13: the alert stream and its consumers' cursors (alertchanges.go),
	// and the correlator's state (correlationstate.go).
	{sql: sqlMigrate13},
	// 14: incidents, their alerts, entities, timeline, stream and task
	// templates (incidentschema.go).
	{sql: sqlMigrate14},
	// 15: the correlation journal (correlationstate.go).
	{sql: sqlMigrate15},
	// 16: users, their roles per workspace and their sessions (users.go).
	{sql: sqlMigrate16},
	// 17: block decisions, their stream and the bouncers' cursors
	// (decisions.go).
	{sql: sqlMigrateDecisions},
	// 18: the alert list's filters by source, threat type and origin
	// country (alertsources.go).
	{sql: sqlMigrateAlertFilters},
	// 19: incidents by stage in triage order, for the dashboard's board
	// (a column a stage, most urgent first).
	{sql: sqlMigrateIncidentStage},
	// 20: a source's controls (tenant.SourceControls): its quarantine and
	// its silence alert.
	{sql: `
ALTER TABLE sources ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN silent_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN no_silence_alert INTEGER NOT NULL DEFAULT 0;
`},
	// 21: the rules a workspace turned off (rulestate.go).
	{sql: sqlMigrateRuleState},
	// 22: the alert list's count by status and severity in an index
	// (alertsources.go).
	{sql: sqlMigrateAlertStatusIndex},
	// 23: the threat map's located alerts (threats.go).
	{sql: sqlMigrateThreatPoints},
	// 24: the rules' counts (suppressions.go).
	{sql: sqlMigrateRuleStats},
	// 25: the partitioned correlation journal, the partitions' states and
	// the leases of detect workers (partitions_corr.go).
	{sql: sqlMigratePartitions},
	// 26: the database server and database of each alert, for the
	// databases view (alertdatabases.go).
	{sql: sqlMigrateAlertDatabases, fill: migrateAlertDatabases},
	// 27: sign-in state shared by the API processes (signin.go).
	{sql: sqlMigrateSignIn},
	// 28: the threat pane's counts by day (threatdays.go).
	{sql: sqlMigrateThreatDays},
	// 29: baselines merged from several detect workers (baseline.go).
	{sql: sqlMigrateBaselineMerge},
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
			m := migrations[v-1]
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("open store %s: migration %d: %w", db.path, v, err)
			}
			if m.fill != nil {
				if err := m.fill(ctx, tx, db.now().UTC()); err != nil {
					return fmt.Errorf("open store %s: migration %d: %w", db.path, v, err)
				}
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

// migrate3 does what migration 3's SQL cannot: blocks stored without a
// receive time count as received now (kept a full retention period rather
// than purged at once), the entity keys are folded, and the alerts' entities
// and evidence are indexed from their documents. Rows are read a chunk at a
// time so that memory stays bounded on a large store.
func migrate3(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE event_blocks SET received = ? WHERE received <= 0`, nanos(now)); err != nil {
		return fmt.Errorf("blocks without a receive time: %w", err)
	}
	if err := foldEventEntities(ctx, tx); err != nil {
		return fmt.Errorf("fold the event entity index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE event_entities_v2`); err != nil {
		return fmt.Errorf("drop event_entities_v2: %w", err)
	}
	if err := indexAlerts(ctx, tx); err != nil {
		return fmt.Errorf("index the alerts' entities and evidence: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE alert_entities_v2`); err != nil {
		return fmt.Errorf("drop alert_entities_v2: %w", err)
	}
	return nil
}

func foldEventEntities(ctx context.Context, tx *sql.Tx) error {
	type row struct {
		ws, value string
		block     []byte
	}
	ins, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO event_entities (workspace, folded, block_id) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	var last *row
	for {
		q, args := `SELECT workspace, value, block_id FROM event_entities_v2`, []any{}
		if last != nil {
			q += ` WHERE (workspace, value, block_id) > (?, ?, ?)`
			args = append(args, last.ws, last.value, last.block)
		}
		chunk, err := queryRows(ctx, tx, q+` ORDER BY workspace, value, block_id LIMIT 10000`, args, func(rs scanner) (row, error) {
			var r row
			err := rs.Scan(&r.ws, &r.value, &r.block)
			return r, err
		})
		if err != nil || len(chunk) == 0 {
			return err
		}
		for _, r := range chunk {
			if _, err := ins.ExecContext(ctx, r.ws, store.FoldCase(r.value), r.block); err != nil {
				return err
			}
		}
		last = &chunk[len(chunk)-1]
	}
}

func indexAlerts(ctx context.Context, tx *sql.Tx) error {
	type row struct{ id, ws, doc, evidence string }
	ent, err := tx.PrepareContext(ctx, sqlInsertAlertEntity)
	if err != nil {
		return err
	}
	defer ent.Close()
	evid, err := tx.PrepareContext(ctx, sqlInsertEvidence)
	if err != nil {
		return err
	}
	defer evid.Close()
	last := ""
	for {
		chunk, err := queryRows(ctx, tx, `SELECT id, workspace, doc, evidence FROM alerts WHERE id > ? ORDER BY id LIMIT 1000`,
			[]any{last}, func(rs scanner) (row, error) {
				var r row
				err := rs.Scan(&r.id, &r.ws, &r.doc, &r.evidence)
				return r, err
			})
		if err != nil || len(chunk) == 0 {
			return err
		}
		for _, r := range chunk {
			var d alertDoc
			if err := json.Unmarshal([]byte(r.doc), &d); err != nil {
				return fmt.Errorf("alert %s: corrupt document: %w", r.id, err)
			}
			for _, e := range d.Entities {
				if !indexable(e.Value) {
					continue
				}
				folded, exact := alertEntityKey(e)
				if _, err := ent.ExecContext(ctx, r.ws, folded, exact, r.id); err != nil {
					return fmt.Errorf("alert %s: entity %q: %w", r.id, e.Value, err)
				}
			}
			var evs []alert.Evidence
			if err := json.Unmarshal([]byte(r.evidence), &evs); err != nil {
				return fmt.Errorf("alert %s: corrupt evidence: %w", r.id, err)
			}
			for _, e := range evs {
				if id, ok := store.EvidenceID(e); ok {
					if _, err := evid.ExecContext(ctx, r.ws, id[:], r.id); err != nil {
						return fmt.Errorf("alert %s: evidence %s: %w", r.id, e.EventID, err)
					}
				}
			}
		}
		last = chunk[len(chunk)-1].id
	}
}
