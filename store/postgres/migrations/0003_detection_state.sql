-- 2: what detection and response keep besides events and alerts: asset
-- inventories, behavioural baselines, the correlator's state and journal,
-- block decisions, threat-intelligence feeds, rules turned off,
-- suppressions and their hits; and the alert columns the alert filters and
-- the threat pane read. Values that come from logs (baseline values) are
-- bytea, as in migration 1.

CREATE TABLE assets (
	workspace   text NOT NULL,
	name        text NOT NULL,
	type        text NOT NULL,
	match       text NOT NULL, -- JSON array
	criticality text NOT NULL DEFAULT '',
	owner       text NOT NULL DEFAULT '',
	environment text NOT NULL DEFAULT '',
	tags        text NOT NULL, -- JSON array
	updated     bigint NOT NULL,
	PRIMARY KEY (workspace, name)
);

CREATE TABLE baseline_models (
	workspace text NOT NULL,
	model     text NOT NULL,
	started   bigint NOT NULL,
	PRIMARY KEY (workspace, model)
);
CREATE TABLE baseline_values (
	workspace text NOT NULL,
	model     text NOT NULL,
	entity    bytea NOT NULL,
	value     bytea NOT NULL,
	count     bigint NOT NULL,
	first     bigint NOT NULL,
	last      bigint NOT NULL,
	PRIMARY KEY (workspace, model, entity, value)
);
CREATE INDEX baseline_values_last ON baseline_values (workspace, model, last);

-- The correlator's saved state (one row a detect stage's name) and the
-- journal of the batches' correlator input since (correlationstate.go).
CREATE TABLE correlation_state (
	name        text PRIMARY KEY,
	data        bytea NOT NULL,
	updated     bigint NOT NULL,
	journal_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE correlation_journal (
	seq      bigserial PRIMARY KEY,
	grp      bytea NOT NULL,
	batch_id bytea NOT NULL,
	data     bytea NOT NULL
);

-- Block decisions; each takes a seq of decision_changes when made and
-- another when it ends, and a bouncer's poll reads the seqs between its
-- cursor and the head (decisions.go).
CREATE TABLE decisions (
	workspace   text NOT NULL,
	id          text NOT NULL,
	kind        text NOT NULL,
	value       text NOT NULL,
	reason      text NOT NULL,
	incident_id text NOT NULL DEFAULT '',
	created_by  text NOT NULL,
	created     bigint NOT NULL,
	expires     bigint NOT NULL,
	ended       bigint,
	end_reason  text NOT NULL DEFAULT '',
	revoked_by  text NOT NULL DEFAULT '',
	new_seq     bigint NOT NULL,
	end_seq     bigint,
	PRIMARY KEY (workspace, id)
);
CREATE INDEX decisions_created ON decisions (workspace, created DESC, id DESC);
CREATE INDEX decisions_value ON decisions (workspace, kind, value) WHERE ended IS NULL;
CREATE INDEX decisions_expires ON decisions (expires) WHERE ended IS NULL;
CREATE INDEX decisions_new_seq ON decisions (workspace, new_seq);
CREATE INDEX decisions_end_seq ON decisions (workspace, end_seq) WHERE end_seq IS NOT NULL;
CREATE INDEX decisions_ended ON decisions (ended) WHERE ended IS NOT NULL;
CREATE TABLE decision_changes (
	seq         bigserial PRIMARY KEY,
	workspace   text NOT NULL,
	decision_id text NOT NULL,
	kind        text NOT NULL,
	at          bigint NOT NULL
);
CREATE INDEX decision_changes_at ON decision_changes (at);
CREATE TABLE decision_bouncers (
	workspace text NOT NULL,
	bouncer   text NOT NULL,
	seq       bigint NOT NULL,
	last_poll bigint NOT NULL,
	PRIMARY KEY (workspace, bouncer)
);

-- Threat-intelligence feeds and their indicators. A refresh replaces a
-- feed's indicators in one transaction (intel.go); id is the order they
-- were stored in.
CREATE TABLE intel_feeds (
	workspace     text NOT NULL,
	name          text NOT NULL,
	format        text NOT NULL,
	source        text NOT NULL DEFAULT '',
	interval      bigint NOT NULL DEFAULT 0,
	threat_type   text NOT NULL DEFAULT '',
	confidence    integer NOT NULL DEFAULT 0,
	tlp           text NOT NULL DEFAULT '',
	enabled       boolean NOT NULL DEFAULT true,
	created       bigint NOT NULL,
	last_attempt  bigint,
	last_success  bigint,
	indicators    bigint NOT NULL DEFAULT 0,
	last_error    text NOT NULL DEFAULT '',
	problem_count integer NOT NULL DEFAULT 0,
	problems      text NOT NULL DEFAULT '',
	etag          text NOT NULL DEFAULT '',
	last_modified text NOT NULL DEFAULT '',
	PRIMARY KEY (workspace, name)
);
CREATE TABLE intel_indicators (
	id          bigserial NOT NULL, -- no key of its own: one index less to write
	workspace   text NOT NULL,
	feed        text NOT NULL,
	kind        text NOT NULL,
	value       text NOT NULL,
	valid_until bigint,
	revoked     boolean NOT NULL DEFAULT false,
	doc         bytea NOT NULL
);
-- Three indexes, each written by a refresh's COPY: a value's lookup (and
-- one row a feed, kind and value), a feed's indicators in order (the
-- load at start, a refresh's delete) and a workspace's in order.
CREATE UNIQUE INDEX intel_indicators_value ON intel_indicators (workspace, value, feed, kind);
CREATE INDEX intel_indicators_feed ON intel_indicators (workspace, feed, id);
CREATE INDEX intel_indicators_order ON intel_indicators (workspace, id);
CREATE INDEX intel_indicators_purge ON intel_indicators (valid_until) WHERE valid_until IS NOT NULL;
CREATE INDEX intel_indicators_revoked ON intel_indicators (workspace) WHERE revoked;

-- Rules a workspace turned off (a rule with no row is on).
CREATE TABLE disabled_rules (
	workspace text NOT NULL,
	rule      text NOT NULL,
	actor     text NOT NULL,
	since     bigint NOT NULL,
	PRIMARY KEY (workspace, rule)
);

-- Suppressions, their hits counted by Commit, and the signals suppressed
-- per rule.
CREATE TABLE suppressions (
	workspace    text NOT NULL,
	id           text NOT NULL,
	rule_id      text NOT NULL DEFAULT '',
	entity_type  text NOT NULL DEFAULT '',
	entity_value text NOT NULL DEFAULT '',
	field        text NOT NULL DEFAULT '',
	value        text NOT NULL DEFAULT '',
	cidr         text NOT NULL DEFAULT '',
	reason       text NOT NULL,
	author       text NOT NULL,
	expires      bigint,
	created      bigint NOT NULL,
	updated      bigint NOT NULL,
	hits         bigint NOT NULL DEFAULT 0,
	last_hit     bigint,
	PRIMARY KEY (workspace, id)
);
CREATE INDEX suppressions_created ON suppressions (workspace, created, id);
CREATE TABLE rule_noise (
	workspace       text NOT NULL,
	rule_id         text NOT NULL,
	suppressed      bigint NOT NULL DEFAULT 0,
	last_suppressed bigint,
	PRIMARY KEY (workspace, rule_id)
);

-- The alert list's filters and the threat pane: an alert's threat type
-- and origin as columns (written with every alert by Commit), the sources
-- whose batches brought its signals, and indexes that end as the list's
-- orders do. Alerts stored before this migration have no threat type,
-- origin or sources in these columns.
ALTER TABLE alerts ADD COLUMN threat_type text NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_country text NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_asn bigint NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN origin_as_org text NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN origin_city text NOT NULL DEFAULT '';
-- NULL when the GeoIP database gives no location.
ALTER TABLE alerts ADD COLUMN origin_lat double precision;
ALTER TABLE alerts ADD COLUMN origin_lon double precision;
CREATE INDEX alerts_pane ON alerts (workspace, last_seen, threat_type, origin_country, origin_asn, severity, count);
CREATE INDEX alerts_points ON alerts (workspace, last_seen, threat_type, origin_lat, origin_lon)
	WHERE origin_lat IS NOT NULL;
CREATE INDEX alerts_threat_type ON alerts (workspace, threat_type, priority DESC, last_seen DESC, id DESC);
CREATE INDEX alerts_country ON alerts (workspace, origin_country, priority DESC, last_seen DESC, id DESC);
CREATE INDEX alerts_status_priority ON alerts (workspace, status, priority DESC, last_seen DESC, id DESC);
-- The rules' counts read this index alone (RuleStats).
CREATE INDEX alerts_rule ON alerts (workspace, rule_id, status, reason, created);
CREATE TABLE alert_sources (
	workspace text NOT NULL,
	source    text NOT NULL,
	alert_id  text NOT NULL,
	PRIMARY KEY (workspace, source, alert_id)
);

-- A source's controls (tenant.SourceControls): quarantined, silent after
-- (nanoseconds; 0: the default) and no silence alert.
ALTER TABLE sources ADD COLUMN quarantined boolean NOT NULL DEFAULT false;
ALTER TABLE sources ADD COLUMN silent_after bigint NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN no_silence_alert boolean NOT NULL DEFAULT false;
