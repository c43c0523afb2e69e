-- 1: the store contract (store.Store): workspaces, keys, sources, events,
-- alerts, the audit log and quarantined records. Times are Unix nanoseconds
-- (bigint), as in store/sqlite: exact to the nanosecond, which timestamptz
-- is not, and event order and cursors depend on it. Values that come from
-- logs (event fields, entity values, quarantined records and their reasons)
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

-- One row an event, partitioned by the day it was received (received is
-- the batch's): retention drops a day's partition whole when no open alert
-- names an event in it (partitions.go). received is the batch's: a
-- batch's events share a partition. Partitions are made as batches
-- need them. common holds the event.NumCommon common fields in order;
-- entities the distinct folded values of the entity fields
-- (store.EventEntityFields), for entity search.
CREATE TABLE events (
	workspace text NOT NULL,
	id        bytea NOT NULL,
	batch_id  bytea NOT NULL,
	source    text NOT NULL,
	format    text NOT NULL,
	product   text NOT NULL,
	category  text NOT NULL,
	service   text NOT NULL,
	time      bigint NOT NULL,
	received  bigint NOT NULL, -- the batch's, which retention counts from
	event_received bigint NOT NULL, -- the event's own
	common    bytea[] NOT NULL,
	entities  bytea[] NOT NULL,
	raw       bytea NOT NULL
) PARTITION BY RANGE (received);
CREATE INDEX events_time ON events (workspace, time DESC, id DESC);
CREATE INDEX events_id ON events (workspace, id);
CREATE INDEX events_entities ON events USING gin (entities);

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
