package sqlite

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

func alertDatabaseRows(t *testing.T, db *DB) map[string]alertDatabaseRow {
	t.Helper()
	rows, err := list(ctx, db, "alert databases", func(rs scanner) (alertDatabaseRow, error) {
		var r alertDatabaseRow
		err := rs.Scan(&r.alert, &r.ws, &r.kind, &r.server, &r.database, &r.title)
		return r, err
	}, `SELECT alert_id, db_ws, db_kind, db_server, db_name, db_title FROM alert_databases`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alertDatabaseRow{}
	for _, r := range rows {
		out[r.title] = r
	}
	return out
}

// Commit places each alert it writes (alert_databases); an alert placed
// by its entities is placed again when an evidence event joins it; and the
// migration's fill places a store's alerts as Commit did.
func TestAlertDatabases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := openAt(t, path, Options{})
	mustWorkspace(t, db, "acme")

	sqlEv := func(host, dbName string, at time.Time) store.StoredEvent {
		e := ev("acme", "pg01", at, host, "app", "203.0.113.9")
		e.Logsource = event.Logsource{Product: "postgresql", Category: "database"}
		e.Common[event.DBName] = dbName
		return e
	}
	inj := sqlEv("", "shop", t0)     // no host: the source names the server
	hr := sqlEv("sqlsrv1", "hr", t0) // the audit record's server
	noDB := sqlEv("sqlsrv1", "", t0) // a login refused before a database
	ssh := ev("acme", "web01", t0, "web01", "root", "198.51.100.1")
	b := batch("acme", "pg01", inj, hr, noDB, ssh)
	b.Signals = []alert.Signal{sig("acme", "inj", alert.High, "h1", inj), sig("acme", "hr", alert.High, "h2", hr),
		sig("acme", "nodb", alert.Low, "h3", noDB), sig("acme", "ssh", alert.Medium, "h4", ssh)}
	commit(t, db, b)

	// A health alert names no event: its database entity places it.
	health := alert.Signal{Workspace: "acme", Type: "health", Rule: alert.RuleRef{ID: "silent", Title: "rule silent"},
		Severity: alert.Medium, Entities: []alert.Entity{{Type: alert.EntityDatabase, Value: "billing"}},
		DedupKey: "silent", Evidence: alert.Evidence{Time: t0}}
	// A correlation names an event of the earlier commit.
	corr := alert.Signal{Workspace: "acme", Type: "correlation", Rule: alert.RuleRef{ID: "corr", Title: "rule corr"},
		Severity: alert.High, DedupKey: "corr", Evidence: alert.Evidence{EventID: hr.ID.String(), Time: t0}}
	sb := &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "correlation", Format: "json", Received: t0, Signals: []alert.Signal{health, corr}}
	commit(t, db, sb)

	got := alertDatabaseRows(t, db)
	want := map[string]alertDatabaseRow{
		"rule inj":    {ws: "acme", kind: store.PlaceKindEvent, server: "pg01", database: "shop", title: "rule inj"},
		"rule hr":     {ws: "acme", kind: store.PlaceKindEvent, server: "sqlsrv1", database: "hr", title: "rule hr"},
		"rule nodb":   {ws: "acme", kind: store.PlaceKindEvent, server: "sqlsrv1", database: "", title: "rule nodb"},
		"rule ssh":    {ws: "acme", kind: store.PlaceKindNone, server: "", database: "", title: "rule ssh"},
		"rule silent": {ws: "acme", kind: store.PlaceKindEntities, server: "", database: "billing", title: "rule silent"},
		"rule corr":   {ws: "acme", kind: store.PlaceKindEvent, server: "sqlsrv1", database: "hr", title: "rule corr"},
	}
	for title, w := range want {
		g, ok := got[title]
		if !ok {
			t.Errorf("%s: no row", title)
			continue
		}
		w.alert = g.alert
		if g != w {
			t.Errorf("%s: %+v, want %+v", title, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d: %+v", len(got), len(want), got)
	}

	// An evidence event joins the health alert: the event places it now.
	late := sqlEv("sqlsrv2", "billing", t0.Add(time.Minute))
	lb := batch("acme", "pg01", late)
	health.Evidence = alert.Evidence{EventID: late.ID.String(), Time: late.Time}
	lb.Signals = []alert.Signal{health}
	commit(t, db, lb)
	got = alertDatabaseRows(t, db)
	if g := got["rule silent"]; g.kind != store.PlaceKindEvent || g.server != "sqlsrv2" || g.database != "billing" {
		t.Errorf("health alert after an event joined: %+v", g)
	}

	// The migration places the same alerts the same way.
	before := alertDatabaseRows(t, db)
	err := db.write(ctx, "migrate again", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_databases`); err != nil {
			return err
		}
		return migrateAlertDatabases(ctx, tx, t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := alertDatabaseRows(t, db); !reflect.DeepEqual(after, before) {
		t.Errorf("migrated rows\n%+v\nwant\n%+v", after, before)
	}
	counts, err := db.DatabaseCounts(ctx, "acme", store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c.Alerts
	}
	if n != 5 {
		t.Errorf("database alerts %d, want 5: %+v", n, counts)
	}
}
