package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// sqlMigrateAlertDatabases records the database server and database each
// alert is about (store.DatabasePlaceOf), so that the databases view is a
// GROUP BY over an index instead of reading the first evidence event of
// every alert (2.3 s for 10,000 alerts). Commit fills it; the migration's
// fill places the alerts stored before it.
//
// db_kind: 0 no database alert and 1 a database alert, both read from the
// alert's evidence event (final); 2 a database alert and 3 none, read from
// the alert's entities (placed again whenever a commit touches the alert,
// as an evidence event or entities may join it). The columns are named
// apart from the alerts table's, as queries join the two with the alert
// list's filters, which name alerts' columns bare.
const sqlMigrateAlertDatabases = `
CREATE TABLE alert_databases (
	alert_id  TEXT PRIMARY KEY,
	db_ws     TEXT NOT NULL,
	db_kind   INTEGER NOT NULL,
	db_server TEXT NOT NULL,
	db_name   TEXT NOT NULL,
	db_title  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX alert_databases_place ON alert_databases (db_ws, db_kind, db_server, db_name);
-- The count walks a workspace's database alerts in alert id order (in
-- alert_databases_kind alone) and probes each in alerts_id_counts, which
-- holds the columns the filters and counts read, in the same order: the
-- probes read the index's pages one after the other, where probing the
-- alerts' rows (documents and all) in the order of the place index read a
-- page from the file for nearly each.
CREATE INDEX alert_databases_kind ON alert_databases (db_ws, db_kind, alert_id, db_server, db_name, db_title);
CREATE INDEX alerts_id_counts ON alerts (id, workspace, status, severity, last_seen, rule_id);
`

// alertDatabaseRow is one alert_databases row.
type alertDatabaseRow struct {
	alert, ws, server, database, title string
	kind                               int
}

const (
	sqlUpsertAlertDatabase = `INSERT OR REPLACE INTO alert_databases (alert_id, db_ws, db_kind, db_server, db_name, db_title)
		VALUES (?, ?, ?, ?, ?, ?)`
	sqlUpsertAlertDatabases = `INSERT OR REPLACE INTO alert_databases (alert_id, db_ws, db_kind, db_server, db_name, db_title)
		SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
			json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]') FROM json_each(?)`
)

// writeAlertDatabaseRows writes rows in one statement, the rows as a JSON
// array; rows with text JSON cannot carry unchanged go one by one.
func writeAlertDatabaseRows(ctx context.Context, tx *sql.Tx, rows []alertDatabaseRow) error {
	plain := make([][6]any, 0, len(rows))
	for _, r := range rows {
		if jsonSafe(r.alert, r.ws, r.server, r.database, r.title) {
			plain = append(plain, [6]any{r.alert, r.ws, r.kind, r.server, r.database, r.title})
			continue
		}
		if _, err := tx.ExecContext(ctx, sqlUpsertAlertDatabase, r.alert, r.ws, r.kind, r.server, r.database, r.title); err != nil {
			return fmt.Errorf("alert %s: database: %w", r.alert, err)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	list, err := json.Marshal(plain)
	if err != nil {
		return fmt.Errorf("alerts' databases: %w", err)
	}
	if _, err := tx.ExecContext(ctx, sqlUpsertAlertDatabases, string(list)); err != nil {
		return fmt.Errorf("alerts' databases: %w", err)
	}
	return nil
}

func jsonSafe(vs ...string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return false
		}
	}
	return true
}

// batchEvent is an event of a batch this commit writes, with the source a
// stored copy would name.
type batchEvent struct {
	ev     *store.StoredEvent
	ws     string
	source string
}

// commitLookup finds an event of workspace ws among this commit's batches,
// else in the store (a correlation's evidence from earlier batches).
func (c *committer) commitLookup(ws string) store.EventLookup {
	return func(id event.ID) (store.StoredEvent, bool, error) {
		if c.batchEvents == nil {
			n := 0
			for _, b := range c.batches {
				n += len(b.Events)
			}
			c.batchEvents = make(map[event.ID]batchEvent, n)
			for _, b := range c.batches {
				for i := range b.Events {
					c.batchEvents[b.Events[i].ID] = batchEvent{ev: &b.Events[i], ws: b.Workspace, source: b.Source}
				}
			}
		}
		if be, ok := c.batchEvents[id]; ok && be.ws == ws {
			ev := *be.ev
			if ev.Source == "" {
				ev.Source = be.source
			}
			return ev, true, nil
		}
		ev, err := c.db.Event(c.ctx, ws, id)
		if errors.Is(err, store.ErrNotFound) {
			return ev, false, nil
		}
		return ev, err == nil, err
	}
}

// writeAlertDatabases places the alerts this commit touched whose place is
// not final yet: those it created, and those placed from their entities.
func (c *committer) writeAlertDatabases() error {
	if len(c.order) == 0 {
		return nil
	}
	var loaded []string
	for _, a := range c.order {
		if !c.created[a.ID] {
			loaded = append(loaded, a.ID)
		}
	}
	final := map[string]bool{}
	if len(loaded) > 0 {
		list, err := json.Marshal(loaded)
		if err != nil {
			return fmt.Errorf("commit: alerts' databases: %w", err)
		}
		ids, err := queryRows(c.ctx, c.tx, `SELECT alert_id FROM alert_databases
			WHERE alert_id IN (SELECT value FROM json_each(?)) AND db_kind IN (?, ?)`,
			[]any{string(list), store.PlaceKindNone, store.PlaceKindEvent}, func(rs scanner) (string, error) {
				var id string
				err := rs.Scan(&id)
				return id, err
			})
		if err != nil {
			return fmt.Errorf("commit: alerts' databases: %w", err)
		}
		for _, id := range ids {
			final[id] = true
		}
	}
	rows := make([]alertDatabaseRow, 0, len(c.order))
	for _, a := range c.order {
		if final[a.ID] {
			continue
		}
		p, err := store.DatabasePlaceOf(a, c.commitLookup(a.Workspace))
		if err != nil {
			return fmt.Errorf("commit: alert %s: database: %w", a.ID, err)
		}
		rows = append(rows, alertDatabaseRow{alert: a.ID, ws: a.Workspace, server: p.Server, database: p.Database,
			title: a.Rule.Title, kind: p.Kind()})
	}
	if err := writeAlertDatabaseRows(c.ctx, c.tx, rows); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// migrateAlertDatabases places the alerts stored so far, a chunk at a
// time, reading their evidence events from the blocks in tx (the read
// pool is not open during migrations).
func migrateAlertDatabases(ctx context.Context, tx *sql.Tx, _ time.Time) error {
	cdc, err := newCodec()
	if err != nil {
		return err
	}
	defer cdc.close()
	var span int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'max_id_span_ms'`).Scan(&span); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("block id span: %w", err)
	}
	// Alerts of one commit name events of the same few blocks: the last
	// blocks decoded are kept.
	decoded := map[string][]store.StoredEvent{}
	lookup := func(ws string) store.EventLookup {
		return func(id event.ID) (store.StoredEvent, bool, error) {
			var lower event.ID
			if t := int64(id.Time()) - span; t > 0 {
				lower.SetTime(uint64(t))
			}
			bids, err := queryRows(ctx, tx, `SELECT id FROM event_blocks WHERE workspace = ? AND min_id BETWEEN ? AND ? AND max_id >= ? ORDER BY min_id DESC`,
				[]any{ws, lower[:], id[:], id[:]}, func(rs scanner) (string, error) {
					var b []byte
					err := rs.Scan(&b)
					return string(b), err
				})
			if err != nil {
				return store.StoredEvent{}, false, fmt.Errorf("blocks of event %s: %w", id, err)
			}
			for _, bid := range bids {
				evs, ok := decoded[bid]
				if !ok {
					var source, format string
					var data []byte
					if err := tx.QueryRowContext(ctx, `SELECT source, format, data FROM event_blocks WHERE id = ?`, []byte(bid)).Scan(&source, &format, &data); err != nil {
						return store.StoredEvent{}, false, fmt.Errorf("block %s: %w", blockName([]byte(bid)), err)
					}
					raw, err := cdc.decompress(data)
					if err != nil {
						return store.StoredEvent{}, false, fmt.Errorf("block %s: %w", blockName([]byte(bid)), err)
					}
					if evs, err = decodeBlock(raw, ws); err != nil {
						return store.StoredEvent{}, false, fmt.Errorf("block %s: %w", blockName([]byte(bid)), err)
					}
					for i := range evs {
						if evs[i].Source == "" {
							evs[i].Source = source
						}
					}
					if len(decoded) >= 8 {
						clear(decoded)
					}
					decoded[bid] = evs
				}
				for i := range evs {
					if evs[i].ID == id {
						return evs[i], true, nil
					}
				}
			}
			return store.StoredEvent{}, false, nil
		}
	}
	last := ""
	for {
		chunk, err := queryRows(ctx, tx, `SELECT `+alertColumns+` FROM alerts WHERE id > ? ORDER BY id LIMIT 500`,
			[]any{last}, scanAlert)
		if err != nil || len(chunk) == 0 {
			return err
		}
		rows := make([]alertDatabaseRow, 0, len(chunk))
		for i := range chunk {
			a := &chunk[i]
			p, err := store.DatabasePlaceOf(a, lookup(a.Workspace))
			if err != nil {
				return fmt.Errorf("alert %s: database: %w", a.ID, err)
			}
			rows = append(rows, alertDatabaseRow{alert: a.ID, ws: a.Workspace, server: p.Server, database: p.Database,
				title: a.Rule.Title, kind: p.Kind()})
		}
		if err := writeAlertDatabaseRows(ctx, tx, rows); err != nil {
			return err
		}
		last = chunk[len(chunk)-1].ID
	}
}

// DatabaseCounts counts the database alerts of workspace matching q's
// filters by server, database, severity and alert type, from
// alert_databases and the alerts' own columns (no document, no event).
func (db *DB) DatabaseCounts(ctx context.Context, workspace string, q store.AlertQuery) ([]store.DatabaseCount, error) {
	where, args, err := alertFilter(workspace, q)
	if err != nil {
		return nil, err
	}
	// CROSS JOIN keeps alert_databases outside: the database alerts are
	// found in its index, in id order, and probed in alerts_id_counts in
	// that order, rather than every alert of the workspace probed for a
	// place. The last alert is the
	// greatest (last_seen, id), as one text that sorts as the pair.
	query := `SELECT d.db_server, d.db_name, alerts.severity, d.db_title, count(*),
			max(printf('%020d', alerts.last_seen) || alerts.id)
		FROM alert_databases d INDEXED BY alert_databases_kind CROSS JOIN alerts INDEXED BY alerts_id_counts ON alerts.id = d.alert_id
		WHERE d.db_ws = ? AND d.db_kind IN ` + store.PlaceKindsDatabase + ` AND ` + where + `
		GROUP BY d.db_server, d.db_name, alerts.severity, d.db_title`
	return list(ctx, db, "databases of "+workspace, func(rs scanner) (store.DatabaseCount, error) {
		var c store.DatabaseCount
		var sev int64
		var last string
		if err := rs.Scan(&c.Server, &c.Database, &sev, &c.Type, &c.Alerts, &last); err != nil {
			return c, err
		}
		c.Severity = alert.Severity(sev)
		var err error
		c.LastSeen, c.LastAlert, err = store.SplitLastAlert(last)
		return c, err
	}, query, append([]any{workspace}, args...)...)
}

// DatabaseAlerts lists the alerts of workspace about one database of one
// server ("" for none named) matching q, paged as Alerts pages.
func (db *DB) DatabaseAlerts(ctx context.Context, workspace, server, database string, q store.AlertQuery) ([]alert.Alert, string, error) {
	where, args, err := alertFilter(workspace, q)
	if err != nil {
		return nil, "", err
	}
	where += ` AND id IN (SELECT alert_id FROM alert_databases
		WHERE db_ws = ? AND db_server = ? AND db_name = ? AND db_kind IN ` + store.PlaceKindsDatabase + `)`
	args = append(args, workspace, server, database)
	return alertList(workspace).page(ctx, db, where, args, q.Sort, q.Cursor, q.Limit)
}
