package sqlite

// sqlMigrate14 holds incidents (store.Incidents, store.IncidentCorrelation).
// An incident is a JSON document (incident.Incident) with the columns lists
// filter and sort on; its alerts (an alert in one incident at a time), its
// entities (the entity filter and similar incidents), its timeline, the
// incident stream (as alert_changes: AUTOINCREMENT keeps a purged seq
// from being given again) and each workspace's task templates are tables
// of their own. Times are Unix nanoseconds, as everywhere in the store.
const sqlMigrate14 = `
CREATE TABLE incidents (
	workspace   TEXT NOT NULL,
	id          TEXT NOT NULL,
	stage       TEXT NOT NULL,
	status      TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	priority    INTEGER NOT NULL,
	owner       TEXT NOT NULL DEFAULT '',
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	created     INTEGER NOT NULL,
	updated     INTEGER NOT NULL,
	closed      INTEGER,
	merged_into TEXT NOT NULL DEFAULT '',
	doc         TEXT NOT NULL,
	PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE INDEX incidents_last_seen ON incidents (workspace, last_seen, id);
CREATE INDEX incidents_priority ON incidents (workspace, priority, last_seen, id);
CREATE INDEX incidents_status ON incidents (status, closed);

CREATE TABLE incident_alerts (
	workspace   TEXT NOT NULL,
	alert_id    TEXT NOT NULL,
	incident_id TEXT NOT NULL,
	added       INTEGER NOT NULL,
	PRIMARY KEY (workspace, alert_id)
) WITHOUT ROWID;
CREATE INDEX incident_alerts_incident ON incident_alerts (workspace, incident_id, added);

CREATE TABLE incident_entities (
	workspace   TEXT NOT NULL,
	value       TEXT NOT NULL,
	type        TEXT NOT NULL,
	incident_id TEXT NOT NULL,
	PRIMARY KEY (workspace, value, type, incident_id)
) WITHOUT ROWID;
CREATE INDEX incident_entities_incident ON incident_entities (workspace, incident_id);

CREATE TABLE incident_timeline (
	seq         INTEGER PRIMARY KEY,
	workspace   TEXT NOT NULL,
	incident_id TEXT NOT NULL,
	time        INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (workspace, incident_id, time, seq);

CREATE TABLE incident_changes (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	workspace   TEXT NOT NULL,
	incident_id TEXT NOT NULL,
	kind        TEXT NOT NULL,
	stage       TEXT NOT NULL,
	actor       TEXT NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX incident_changes_at ON incident_changes (at);

CREATE TABLE incident_task_templates (
	workspace TEXT NOT NULL,
	stage     TEXT NOT NULL,
	tasks     TEXT NOT NULL,
	updated   INTEGER NOT NULL,
	PRIMARY KEY (workspace, stage)
) WITHOUT ROWID;
`

// sqlMigrateIncidentStage indexes incidents by stage in both list orders:
// the dashboard's board reads each stage's most urgent incidents, and
// without it a stage with few incidents is found by reading every one.
// The title gets a column of its own, as the text filter reads it on
// every incident it considers and decoding each document is dear.
const sqlMigrateIncidentStage = `
ALTER TABLE incidents ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE incidents SET title = coalesce(json_extract(doc, '$.title'), '');
CREATE INDEX incidents_stage_priority ON incidents (workspace, stage, priority, last_seen, id);
CREATE INDEX incidents_stage_last_seen ON incidents (workspace, stage, last_seen, id);
`
