-- 6: the databases view and the threat-intelligence pane from rows Commit
-- keeps in the alert commit's transaction, as store/sqlite keeps them
-- (its migrations 26 and 28), instead of reading every alert (and, for the
-- databases, every alert's first evidence event).

-- The database server and database each alert is about
-- (store.DatabasePlaceOf). db_kind: 0 no database alert and 1 a database
-- alert, both read from the alert's evidence event (final); 2 a database
-- alert and 3 none, read from the alert's entities (placed again whenever
-- a commit touches the alert). The columns are named apart from the
-- alerts table's, as queries join the two under the alert list's filters,
-- which name alerts' columns bare. The rows of the alerts stored before
-- this migration are written by its fill, in Go (migrate.go), which reads
-- their evidence events from the blocks.
CREATE TABLE alert_databases (
	alert_id  text PRIMARY KEY,
	db_ws     text NOT NULL,
	db_kind   integer NOT NULL,
	db_server text NOT NULL,
	db_name   text NOT NULL,
	db_title  text NOT NULL
);
CREATE INDEX alert_databases_place ON alert_databases (db_ws, db_server, db_name, alert_id) WHERE db_kind IN (1, 2);

-- The pane's counts by UTC day (threat_days) and hour (threat_hours) of
-- the alerts' last_seen, by threat type, severity and origin: a range's
-- whole days come from threat_days, the whole hours around them from
-- threat_hours, its partial first and last hours from the alerts. Commit
-- moves an alert's count from its row before to its row after; a row that
-- reaches zero is deleted.
CREATE TABLE threat_days (
	workspace   text NOT NULL,
	slot        bigint NOT NULL,
	threat_type text NOT NULL,
	severity    integer NOT NULL,
	country     text NOT NULL,
	asn         bigint NOT NULL,
	as_org      text NOT NULL,
	located     boolean NOT NULL,
	lat         double precision NOT NULL,
	lon         double precision NOT NULL,
	city        text NOT NULL,
	alerts      bigint NOT NULL,
	events      bigint NOT NULL,
	PRIMARY KEY (workspace, slot, threat_type, severity, country, asn, as_org, located, lat, lon, city)
);
CREATE TABLE threat_hours (LIKE threat_days INCLUDING ALL);

INSERT INTO threat_days
	SELECT workspace, last_seen / 86400000000000, threat_type, severity, origin_country, origin_asn, origin_as_org,
		origin_lat IS NOT NULL, coalesce(origin_lat, 0), coalesce(origin_lon, 0), origin_city, count(*), sum(count)
	FROM alerts WHERE threat_type <> '' AND last_seen >= 0
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
INSERT INTO threat_hours
	SELECT workspace, last_seen / 3600000000000, threat_type, severity, origin_country, origin_asn, origin_as_org,
		origin_lat IS NOT NULL, coalesce(origin_lat, 0), coalesce(origin_lon, 0), origin_city, count(*), sum(count)
	FROM alerts WHERE threat_type <> '' AND last_seen >= 0
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
