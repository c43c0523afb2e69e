package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// alert_databases (migration 7) records the database server and database
// each alert is about (store.DatabasePlaceOf), written by Commit in its
// transaction, so that the databases view groups and filters in the store
// instead of reading the first evidence event of every alert, as
// store/sqlite does.

// firstEvidenceID is the event DatabasePlaceOf reads for a: its first
// evidence with an event id.
func firstEvidenceID(a *alert.Alert) (event.ID, bool) {
	for _, e := range a.Evidence {
		if id, err := event.ParseID(e.EventID); err == nil {
			return id, true
		}
	}
	return event.ID{}, false
}

// placeAlerts places alerts (store.DatabasePlaceOf) and returns their
// alert_databases rows as columns. The evidence events come from known
// (the events of a commit's batches, by workspace and id), else from the
// blocks q sees, read in one query a workspace.
func (db *DB) placeAlerts(ctx context.Context, q querier, alerts []*alert.Alert, known func(ws string, id event.ID) (store.StoredEvent, bool)) (alertDatabaseRows, error) {
	stored := map[string]map[event.ID]store.StoredEvent{}
	missing := map[string][]event.ID{}
	for _, a := range alerts {
		id, ok := firstEvidenceID(a)
		if !ok {
			continue
		}
		if known != nil {
			if _, ok := known(a.Workspace, id); ok {
				continue
			}
		}
		missing[a.Workspace] = append(missing[a.Workspace], id)
	}
	wss := make([]string, 0, len(missing))
	for ws := range missing {
		wss = append(wss, ws)
	}
	slices.Sort(wss)
	for _, ws := range wss {
		evs, err := db.eventsByID(ctx, q, ws, missing[ws], nil)
		if err != nil {
			return alertDatabaseRows{}, fmt.Errorf("alerts' evidence: %w", err)
		}
		stored[ws] = evs
	}
	var rows alertDatabaseRows
	for _, a := range alerts {
		p, err := store.DatabasePlaceOf(a, func(id event.ID) (store.StoredEvent, bool, error) {
			if known != nil {
				if ev, ok := known(a.Workspace, id); ok {
					return ev, true, nil
				}
			}
			ev, ok := stored[a.Workspace][id]
			return ev, ok, nil
		})
		if err != nil {
			return alertDatabaseRows{}, fmt.Errorf("alert %s: database: %w", a.ID, err)
		}
		rows.add(a, p)
	}
	return rows, nil
}

// alertDatabaseRows are alert_databases rows as the columns of one insert.
type alertDatabaseRows struct {
	ids, wss, servers, names, titles []string
	kinds                            []int32
}

func (r *alertDatabaseRows) add(a *alert.Alert, p store.DatabasePlace) {
	r.ids = append(r.ids, a.ID)
	r.wss = append(r.wss, a.Workspace)
	r.kinds = append(r.kinds, int32(p.Kind()))
	r.servers = append(r.servers, text(p.Server))
	r.names = append(r.names, text(p.Database))
	r.titles = append(r.titles, text(a.Rule.Title))
}

const sqlUpsertAlertDatabases = `INSERT INTO alert_databases (alert_id, db_ws, db_kind, db_server, db_name, db_title)
	SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[])
	ON CONFLICT (alert_id) DO UPDATE SET db_kind = excluded.db_kind, db_server = excluded.db_server,
		db_name = excluded.db_name, db_title = excluded.db_title`

func (r alertDatabaseRows) args() []any {
	return []any{r.ids, r.wss, r.kinds, r.servers, r.names, r.titles}
}

// batchEvent is an event of a batch a commit writes, with the source a
// stored copy would name.
type batchEvent struct {
	ev     *store.StoredEvent
	ws     string
	source string
}

// batchEvents finds the events of the commit's batches.
func (c *committer) batchEvents() func(ws string, id event.ID) (store.StoredEvent, bool) {
	n := 0
	for _, b := range c.batches {
		n += len(b.Events)
	}
	byID := make(map[event.ID]batchEvent, n)
	for _, b := range c.batches {
		for i := range b.Events {
			byID[b.Events[i].ID] = batchEvent{ev: &b.Events[i], ws: b.Workspace, source: b.Source}
		}
	}
	return func(ws string, id event.ID) (store.StoredEvent, bool) {
		be, ok := byID[id]
		if !ok || be.ws != ws {
			return store.StoredEvent{}, false
		}
		ev := *be.ev
		if ev.Source == "" {
			ev.Source = be.source
		}
		return ev, true
	}
}

// queueAlertDatabases places the alerts this commit touched whose place is
// not final yet — those it created, and those placed from their entities
// (an evidence event or entities may have joined them) — and queues their
// rows. Only evidence events of earlier commits cost a query.
func (c *committer) queueAlertDatabases() error {
	var todo []*alert.Alert
	for _, a := range c.order {
		if !c.finalPlace[a.ID] {
			todo = append(todo, a)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	rows, err := c.db.placeAlerts(c.ctx, c.tx, todo, c.batchEvents())
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	c.writes.Queue(sqlUpsertAlertDatabases, rows.args()...)
	return nil
}

// fillChunk is how many alerts fillAlertDatabases places at a time (a
// variable: tests make several chunks of a few alerts).
var fillChunk = 500

// fillAlertDatabases places the alerts stored before migration 7, a chunk
// at a time, reading their evidence events from the blocks tx sees.
func fillAlertDatabases(ctx context.Context, tx pgx.Tx, db *DB) error {
	last := ""
	for {
		chunk, err := collect(ctx, tx, "alerts to place", func(rs scanner) (alert.Alert, error) {
			var ws string
			a, err := scanAlert(prefixed{rs, []any{&ws}})
			a.Workspace = ws
			return a, err
		}, `SELECT workspace, `+alertColumns+` FROM alerts WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`, last, fillChunk)
		if err != nil || len(chunk) == 0 {
			return err
		}
		as := make([]*alert.Alert, len(chunk))
		for i := range chunk {
			as[i] = &chunk[i]
		}
		rows, err := db.placeAlerts(ctx, tx, as, nil)
		if err != nil {
			return fmt.Errorf("place alerts: %w", err)
		}
		if _, err := tx.Exec(ctx, sqlUpsertAlertDatabases, rows.args()...); err != nil {
			return fmt.Errorf("place alerts: %w", err)
		}
		last = chunk[len(chunk)-1].ID
	}
}

// DatabaseCounts counts the database alerts of workspace matching q's
// filters by server, database, severity and alert type, from
// alert_databases and the alerts' columns (no document, no event).
func (db *DB) DatabaseCounts(ctx context.Context, workspace string, q store.AlertQuery) ([]store.DatabaseCount, error) {
	var a args
	where, err := alertFilter(workspace, q, &a)
	if err != nil {
		return nil, err
	}
	// The last alert is the greatest (last_seen, id), as the alert list
	// orders them: one text that sorts as the pair (a hash aggregate, where
	// ordering each group's ids sorted every alert).
	return collect(ctx, db.pool, "databases of "+workspace, func(rs scanner) (store.DatabaseCount, error) {
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
	}, `SELECT d.db_server, d.db_name, alerts.severity, d.db_title, count(*),
			max(lpad(alerts.last_seen::text, 20, '0') || alerts.id COLLATE "C")
		FROM alert_databases d JOIN alerts ON alerts.id = d.alert_id
		WHERE d.db_ws = `+a.add(workspace)+` AND d.db_kind IN `+store.PlaceKindsDatabase+` AND `+where+`
		GROUP BY d.db_server, d.db_name, alerts.severity, d.db_title`, a...)
}

// DatabaseAlerts lists the alerts of workspace about one database of one
// server ("" for none named) matching q, paged as Alerts pages.
func (db *DB) DatabaseAlerts(ctx context.Context, workspace, server, database string, q store.AlertQuery) ([]alert.Alert, string, error) {
	var a args
	where, err := alertFilter(workspace, q, &a)
	if err != nil {
		return nil, "", err
	}
	where += ` AND id IN (SELECT alert_id FROM alert_databases WHERE db_ws = ` + a.add(workspace) +
		` AND db_server = ` + a.add(text(server)) + ` AND db_name = ` + a.add(text(database)) +
		` AND db_kind IN ` + store.PlaceKindsDatabase + `)`
	what := "alerts of database " + server + "/" + database + " of " + workspace
	o, err := newListOrder(what, q.Sort, q.Cursor, q.Limit, cursorAlert, cursorAlertPriority, &a, &where)
	if err != nil {
		return nil, "", err
	}
	out, err := collect(ctx, db.pool, what, scanAlert, `SELECT `+alertColumns+` FROM alerts WHERE `+where+o.order+o.limit(&a), a...)
	if err != nil {
		return nil, "", err
	}
	out, next := page(o, out, func(x alert.Alert) (time.Time, string, int) { return x.LastSeen, x.ID, x.Priority })
	return out, next, nil
}
