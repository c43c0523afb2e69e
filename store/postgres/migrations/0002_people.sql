-- 2: users and sessions (store.Users), incidents (store.Incidents,
-- store.IncidentCorrelation) and the alert and incident streams
-- (store.AlertStream) with their consumers' cursors. Times are Unix
-- nanoseconds, as in migration 1. Values that may come from logs (entity
-- values, incident and timeline documents) are bytea.

CREATE TABLE users (
	name       text PRIMARY KEY,
	password   text NOT NULL,
	disabled   boolean NOT NULL DEFAULT false,
	created    bigint NOT NULL,
	last_login bigint
);

CREATE TABLE user_roles (
	name      text NOT NULL,
	workspace text NOT NULL,
	role      text NOT NULL,
	PRIMARY KEY (name, workspace)
);

-- A session keeps the hash of its secret, never the secret.
CREATE TABLE sessions (
	id        text PRIMARY KEY,
	hash      bytea NOT NULL UNIQUE,
	name      text NOT NULL,
	workspace text NOT NULL,
	csrf      text NOT NULL,
	created   bigint NOT NULL,
	last_seen bigint NOT NULL,
	expires   bigint NOT NULL,
	address   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_name ON sessions (name, workspace);
CREATE INDEX sessions_expires ON sessions (expires);

-- The streams. seq comes from a sequence, never given twice (a purged
-- change's seq included), and is drawn under a transaction advisory lock
-- held to commit (streams.go): so changes become visible in seq order, and
-- a consumer reading after its cursor never skips one committed later.
CREATE TABLE alert_changes (
	seq       bigserial PRIMARY KEY,
	workspace text NOT NULL,
	alert_id  text NOT NULL,
	kind      text NOT NULL,
	status    text NOT NULL,
	at        bigint NOT NULL
);
CREATE INDEX alert_changes_at ON alert_changes (at);

CREATE TABLE incident_changes (
	seq         bigserial PRIMARY KEY,
	workspace   text NOT NULL,
	incident_id text NOT NULL,
	kind        text NOT NULL,
	stage       text NOT NULL,
	actor       text NOT NULL,
	at          bigint NOT NULL
);
CREATE INDEX incident_changes_at ON incident_changes (at);

CREATE TABLE stream_cursors (
	name    text PRIMARY KEY,
	seq     bigint NOT NULL,
	updated bigint NOT NULL
);

-- An incident is its JSON document (incident.Incident) with the columns
-- lists filter and sort on. title_fold and the entities' fold are the
-- values with ASCII letters lowered: the text filter's LIKE.
CREATE TABLE incidents (
	workspace   text NOT NULL,
	id          text NOT NULL,
	stage       text NOT NULL,
	status      text NOT NULL,
	severity    integer NOT NULL,
	priority    integer NOT NULL,
	owner       text NOT NULL DEFAULT '',
	first_seen  bigint NOT NULL,
	last_seen   bigint NOT NULL,
	created     bigint NOT NULL,
	updated     bigint NOT NULL,
	closed      bigint,
	merged_into text NOT NULL DEFAULT '',
	title_fold  text NOT NULL DEFAULT '',
	tags        text[] NOT NULL DEFAULT '{}',
	rule_ids    text[] NOT NULL DEFAULT '{}',
	doc         bytea NOT NULL,
	PRIMARY KEY (workspace, id)
);
CREATE INDEX incidents_last_seen ON incidents (workspace, last_seen DESC, id DESC);
CREATE INDEX incidents_priority ON incidents (workspace, priority DESC, last_seen DESC, id DESC);
CREATE INDEX incidents_stage_last_seen ON incidents (workspace, stage, last_seen DESC, id DESC);
CREATE INDEX incidents_stage_priority ON incidents (workspace, stage, priority DESC, last_seen DESC, id DESC);
CREATE INDEX incidents_status ON incidents (status, closed);
CREATE INDEX incidents_rule_ids ON incidents USING gin (rule_ids);

-- An alert belongs to one incident at a time.
CREATE TABLE incident_alerts (
	workspace   text NOT NULL,
	alert_id    text NOT NULL,
	incident_id text NOT NULL,
	added       bigint NOT NULL,
	PRIMARY KEY (workspace, alert_id)
);
CREATE INDEX incident_alerts_incident ON incident_alerts (workspace, incident_id, added);

-- value is folded (store.FoldCase) for the types compared without regard
-- to case, else as it is; fold has ASCII letters lowered, for LIKE.
CREATE TABLE incident_entities (
	workspace   text NOT NULL,
	value       bytea NOT NULL,
	type        text NOT NULL,
	incident_id text NOT NULL,
	fold        bytea NOT NULL,
	PRIMARY KEY (workspace, value, type, incident_id)
);
CREATE INDEX incident_entities_incident ON incident_entities (workspace, incident_id);

CREATE TABLE incident_timeline (
	seq         bigserial PRIMARY KEY,
	workspace   text NOT NULL,
	incident_id text NOT NULL,
	time        bigint NOT NULL,
	kind        text NOT NULL,
	actor       text NOT NULL,
	doc         bytea NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (workspace, incident_id, time, seq);

CREATE TABLE incident_task_templates (
	workspace text NOT NULL,
	stage     text NOT NULL,
	tasks     bytea NOT NULL,
	updated   bigint NOT NULL,
	PRIMARY KEY (workspace, stage)
);
