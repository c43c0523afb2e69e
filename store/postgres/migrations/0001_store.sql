-- 1: the store contract (store.Store): workspaces, keys, sources, events,
-- alerts, the audit log and quarantined records. Times are Unix nanoseconds
-- (bigint), as in store/sqlite: exact to the nanosecond, which timestamptz
-- is not, and event order and cursors depend on it. Values that come from
-- logs (event blocks, entity values, quarantined records and their reasons)
-- are bytea: PostgreSQL text holds neither NUL nor invalid UTF-8.

CREATE TABLE workspaces (
	name    text PRIMARY KEY,
	tier    text NOT NULL,
	created bigint NOT NULL
);

CREATE TABLE api_keys (
	id        text PRIMARY KEY,
	workspace text NOT NULL,
	name      text NOT NULL DEFAULT '',
	scope     text NOT NULL,
	prefix    text NOT NULL,
	hash      bytea NOT NULL UNIQUE,
	created   bigint NOT NULL,
	last_used bigint,
	revoked   bigint,
	expires   bigint,
	allow     text NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_workspace ON api_keys (workspace, created);

CREATE TABLE sources (
	workspace text NOT NULL,
	name      text NOT NULL,
	format    text NOT NULL,
	product   text NOT NULL DEFAULT '',
	category  text NOT NULL DEFAULT '',
	service   text NOT NULL DEFAULT '',
	timezone  text NOT NULL DEFAULT '',
	created   bigint NOT NULL,
	last_seen bigint,
	events    bigint NOT NULL DEFAULT 0,
	rejected  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace, name)
);

-- The ids of committed batches, apart from the events so that retention
-- leaves them: a batch delivered again is recognised after its events went.
CREATE TABLE committed_batches (
	id        bytea PRIMARY KEY,
	committed bigint NOT NULL
);
CREATE INDEX committed_batches_time ON committed_batches (committed);

-- Events are kept as compressed blocks, one row a committed batch
-- (store.AppendEventBlock, store.BlockCodec: the codec store/sqlite uses),
-- with the ids of their events (event_ids: which block holds an event) and
-- the distinct folded values of their entity fields (event_entities, for
-- entity search). All three are partitioned by the day the batch was
-- received, the same days: retention drops a day whole when no open alert
-- names an event in it (partitions.go). Partitions are made as batches
-- need them.
CREATE TABLE event_blocks (
	workspace text NOT NULL,
	id        bytea NOT NULL, -- the batch's id
	source    text NOT NULL,
	format    text NOT NULL,
	min_time  bigint NOT NULL,
	max_time  bigint NOT NULL,
	received  bigint NOT NULL,
	count     integer NOT NULL,
	data      bytea NOT NULL
) PARTITION BY RANGE (received);
-- Compressed already: TOAST need not try again.
ALTER TABLE event_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX event_blocks_time ON event_blocks (workspace, max_time DESC, id DESC);
CREATE INDEX event_blocks_source_time ON event_blocks (workspace, source, max_time DESC, id DESC);
CREATE INDEX event_blocks_id ON event_blocks (id);

CREATE TABLE event_ids (
	workspace text NOT NULL,
	id        bytea NOT NULL,
	block_id  bytea NOT NULL,
	received  bigint NOT NULL
) PARTITION BY RANGE (received);
CREATE INDEX event_ids_id ON event_ids (workspace, id);

CREATE TABLE event_entities (
	workspace text NOT NULL,
	folded    bytea NOT NULL,
	block_id  bytea NOT NULL,
	received  bigint NOT NULL
) PARTITION BY RANGE (received);
CREATE INDEX event_entities_folded ON event_entities (workspace, folded);

CREATE TABLE alerts (
	id         text PRIMARY KEY,
	workspace  text NOT NULL,
	dedup_key  text NOT NULL,
	status     text NOT NULL,
	severity   integer NOT NULL,
	rule_id    text NOT NULL,
	first_seen bigint NOT NULL,
	last_seen  bigint NOT NULL,
	count      bigint NOT NULL,
	priority   integer NOT NULL,
	origin_ip  text NOT NULL DEFAULT '',
	created    bigint NOT NULL,
	updated    bigint NOT NULL,
	reason     text NOT NULL DEFAULT '',
	-- The alert as JSON (alert.Alert); the columns above override its
	-- status, reason and updated, which SetAlertStatus changes alone.
	doc        bytea NOT NULL
);
CREATE INDEX alerts_dedup ON alerts (workspace, dedup_key, last_seen DESC) WHERE status IN ('new', 'active');
CREATE INDEX alerts_last_seen ON alerts (workspace, last_seen DESC, id DESC);
CREATE INDEX alerts_priority ON alerts (workspace, priority DESC, last_seen DESC, id DESC);
CREATE INDEX alerts_origin_ip ON alerts (origin_ip, last_seen) WHERE origin_ip <> '';

-- exact is empty for an entity that ignores case (store.EntityIgnoresCase),
-- else its value: a query matches folded = FoldCase(q) AND exact IN ('', q).
CREATE TABLE alert_entities (
	workspace text NOT NULL,
	folded    bytea NOT NULL,
	exact     bytea NOT NULL,
	alert_id  text NOT NULL,
	PRIMARY KEY (workspace, folded, exact, alert_id)
);

-- The events alerts name as evidence: retention keeps them, with their
-- batch, while the alert is open.
CREATE TABLE alert_evidence (
	workspace text NOT NULL,
	event_id  bytea NOT NULL,
	alert_id  text NOT NULL,
	PRIMARY KEY (workspace, event_id, alert_id)
);
CREATE INDEX alert_evidence_alert ON alert_evidence (alert_id);

CREATE TABLE audit_log (
	id        bigserial PRIMARY KEY,
	workspace text NOT NULL,
	time      bigint NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	target    text NOT NULL DEFAULT '',
	detail    text NOT NULL DEFAULT '',
	count     bigint NOT NULL DEFAULT 1,
	last      bigint
);
CREATE INDEX audit_log_workspace ON audit_log (workspace, id);
CREATE INDEX audit_log_repeat ON audit_log (actor, action, time);
CREATE INDEX audit_log_time ON audit_log (time);

CREATE TABLE quarantine (
	id        bigserial PRIMARY KEY,
	workspace text NOT NULL,
	source    text NOT NULL,
	format    text NOT NULL,
	batch_id  bytea NOT NULL,
	record_id bytea NOT NULL,
	line      integer NOT NULL,
	reason    bytea NOT NULL,
	received  bigint NOT NULL,
	raw       bytea NOT NULL,
	truncated boolean NOT NULL DEFAULT false
);
CREATE INDEX quarantine_workspace ON quarantine (workspace, id);
CREATE INDEX quarantine_source ON quarantine (workspace, source, id);
CREATE INDEX quarantine_received ON quarantine (received);
