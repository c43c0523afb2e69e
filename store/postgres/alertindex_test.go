package postgres

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

// seedAlertIndex commits alerts the databases view and the threat pane
// count: database alerts placed from events of their commit and of an
// earlier one, and by entities; and rounds of located and unlocated
// signals over days that later rounds join (moving them to later hours
// and days), two cities at one place among them.
func seedAlertIndex(t *testing.T, db *DB) {
	t.Helper()
	for _, ws := range []string{"acme", "other"} {
		if _, err := db.CreateWorkspace(ctx, ws, tenant.TierStandard); err != nil {
			t.Fatal(err)
		}
	}
	sqlEv := func(host, name string, at time.Time) store.StoredEvent {
		e := storetest.Event("acme", "pg01", at, host, "app", "203.0.113.9")
		e.Logsource = event.Logsource{Product: "postgresql", Category: "database"}
		e.Common[event.DBName] = name
		return e
	}
	inj, hr := sqlEv("", "shop", storetest.T0), sqlEv("sqlsrv1", "hr", storetest.T0)
	ssh := storetest.Event("acme", "web01", storetest.T0, "web01", "root", "198.51.100.1")
	b := storetest.Batch("acme", "pg01", inj, hr, ssh)
	b.Signals = []alert.Signal{storetest.Signal("acme", "inj", alert.High, "h1", inj), storetest.Signal("acme", "hr", alert.High, "h2", hr),
		storetest.Signal("acme", "ssh", alert.Medium, "web01", ssh)}
	commitT(t, db, b)
	health := alert.Signal{Workspace: "acme", Type: "health", Rule: alert.RuleRef{ID: "silent", Title: "rule silent"},
		Severity: alert.Medium, Entities: []alert.Entity{{Type: alert.EntityDatabase, Value: "billing"}},
		DedupKey: "silent", Evidence: alert.Evidence{Time: storetest.T0}}
	corr := alert.Signal{Workspace: "acme", Type: "correlation", Rule: alert.RuleRef{ID: "corr", Title: "rule corr"},
		Severity: alert.High, DedupKey: "corr", Evidence: alert.Evidence{EventID: hr.ID.String(), Time: storetest.T0}}
	commitT(t, db, &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "correlation", Format: "json",
		Received: storetest.T0, Signals: []alert.Signal{health, corr}})

	day0 := storetest.T0.Truncate(24 * time.Hour)
	origins := []*alert.Origin{storetest.DEOrigin, storetest.JPOrigin, nil,
		{IP: "203.0.113.5", Scope: "public", Country: "US", ASN: 64500, ASOrg: "Example", City: "Ashburn", Lat: 39.04, Lon: -77.49},
		{IP: "203.0.113.6", Scope: "public", Country: "US", ASN: 64500, ASOrg: "Example", City: "", Lat: 39.04, Lon: -77.49}}
	sevs := []alert.Severity{alert.Low, alert.Medium, alert.High, alert.Critical}
	for round := range 4 {
		ob := storetest.Batch("acme", "src")
		for i := range 60 {
			at := day0.Add(time.Duration(i*137+round*300)*time.Minute + time.Duration(round)*time.Second)
			s, _ := storetest.OriginSignal("acme", fmt.Sprint("r", i%3), fmt.Sprint("rule ", i%3), sevs[(i+round)%4],
				[]string{"T1110"}, at, fmt.Sprint("h", i%17), fmt.Sprint("u", i%5), origins[i%len(origins)])
			ob.Signals = append(ob.Signals, s)
		}
		theirs, _ := storetest.OriginSignal("other", "r0", "rule 0", alert.High, []string{"T1110"}, day0.Add(time.Duration(round)*time.Hour), "x", "u", storetest.DEOrigin)
		tb := storetest.Batch("other", "src")
		tb.Signals = []alert.Signal{theirs}
		commitT(t, db, ob, tb)
	}
}

func commitT(t *testing.T, db *DB, bs ...*store.Batch) {
	t.Helper()
	if _, err := db.Commit(ctx, bs); err != nil {
		t.Fatal(err)
	}
}

// tableRows lists a table's rows as text, in order.
func tableRows(t *testing.T, db *DB, table, where string) []string {
	t.Helper()
	rows, err := db.pool.Query(ctx, `SELECT t::text FROM `+table+` t `+where+` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The threat pane's count tables answer as reading every alert of the
// range does — the city of a place whose alerts name two included, as both
// take the greatest — and what Commit keeps in them equals what the
// migration counts afresh.
func TestThreatCountsKept(t *testing.T) {
	db := openTest(t, Options{})
	seedAlertIndex(t, db)
	day0 := storetest.T0.Truncate(24 * time.Hour)
	ranges := [][2]time.Time{
		{day0, day0.Add(7 * 24 * time.Hour)},
		{day0.Add(5 * time.Hour), day0.Add(6*24*time.Hour + 3*time.Hour)},
		{day0.Add(2*time.Hour + time.Minute), day0.Add(20 * time.Hour)},
		{day0.Add(3 * time.Hour), day0.Add(27 * time.Hour)},
	}
	n := 0
	for _, r := range ranges {
		for _, bucket := range []time.Duration{time.Hour, 24 * time.Hour} {
			q := store.ThreatQuery{From: r[0], To: r[1], Bucket: bucket}
			db.paneFromAlerts = false
			gs, err1 := db.ThreatSeries(ctx, "acme", q)
			gor, err2 := db.ThreatOrigins(ctx, "acme", q)
			gp, err3 := db.ThreatPoints(ctx, "acme", q, 1000)
			db.paneFromAlerts = true
			ws, err4 := db.ThreatSeries(ctx, "acme", q)
			wo, err5 := db.ThreatOrigins(ctx, "acme", q)
			wp, err6 := db.ThreatPoints(ctx, "acme", q, 1000)
			db.paneFromAlerts = false
			for _, err := range []error{err1, err2, err3, err4, err5, err6} {
				if err != nil {
					t.Fatal(err)
				}
			}
			what := fmt.Sprintf("%v to %v by %v", r[0], r[1], bucket)
			if !reflect.DeepEqual(gs, ws) {
				t.Errorf("%s: series\n%+v\nwant\n%+v", what, gs, ws)
			}
			if !reflect.DeepEqual(gor, wo) {
				t.Errorf("%s: origins\n%+v\nwant\n%+v", what, gor, wo)
			}
			if !reflect.DeepEqual(gp, wp) {
				t.Errorf("%s: points\n%+v\nwant\n%+v", what, gp, wp)
			}
			for _, p := range wp {
				n += int(p.Alerts)
			}
		}
	}
	if n == 0 {
		t.Fatal("no located alert in the ranges: the test compares no points")
	}
	kept := map[string][]string{}
	for _, pt := range paneTables {
		kept[pt.Name] = tableRows(t, db, pt.Name, "")
		if zero := tableRows(t, db, pt.Name, "WHERE alerts <= 0"); len(zero) > 0 {
			t.Errorf("%s: rows left at zero: %v", pt.Name, zero)
		}
	}
	if err := db.tx(ctx, "count afresh", func(tx pgx.Tx) error { return rebuildPaneCounts(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	for _, pt := range paneTables {
		fresh := tableRows(t, db, pt.Name, "")
		if len(fresh) == 0 || !reflect.DeepEqual(kept[pt.Name], fresh) {
			t.Errorf("%s as Commit kept it\n%v\nas counted afresh\n%v", pt.Name, kept[pt.Name], fresh)
		}
	}
}

// Migration 6 on a store with alerts places them as Commit did and counts
// the pane's tables as Commit kept them.
func TestDatabasesAndThreatCountsMigration(t *testing.T) {
	db := openTest(t, Options{})
	seedAlertIndex(t, db)
	tables := []string{"alert_databases", "threat_days", "threat_hours"}
	before := map[string][]string{}
	for _, tb := range tables {
		before[tb] = tableRows(t, db, tb, "")
	}
	if len(before["alert_databases"]) < 4 {
		t.Fatalf("alert_databases %v: the seed places too little", before["alert_databases"])
	}
	kinds := tableRows(t, db, "(SELECT db_kind, db_server, db_name, db_title FROM alert_databases WHERE db_kind <> 3)", "")
	// The pane's alerts name events never stored: their entities (a
	// host, no database) place them, as kind 3, left out here.
	want := []string{"(0,\"\",\"\",\"rule ssh\")", "(1,pg01,shop,\"rule inj\")", "(1,sqlsrv1,hr,\"rule corr\")", "(1,sqlsrv1,hr,\"rule hr\")", "(2,\"\",billing,\"rule silent\")"}
	if got := dedupe(kinds); !reflect.DeepEqual(got, want) {
		t.Errorf("places %v, want %v", got, want)
	}
	// Back to version 6, then open again: migration 7 runs on the alerts.
	if _, err := db.pool.Exec(ctx, `DROP TABLE alert_databases, threat_days, threat_hours;
		DELETE FROM schema_migrations WHERE version = 7`); err != nil {
		t.Fatal(err)
	}
	// Chunks of 7 alerts: the fill goes on from where a chunk ended.
	defer func(n int) { fillChunk = n }(fillChunk)
	fillChunk = 7
	again, err := Open(ctx, testDSN(), Options{Schema: db.schema})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, tb := range tables {
		if after := tableRows(t, again, tb, ""); !reflect.DeepEqual(after, before[tb]) {
			t.Errorf("%s after the migration\n%v\nas Commit kept it\n%v", tb, after, before[tb])
		}
	}
}

// dedupe drops repeats of sorted rows.
func dedupe(rows []string) []string {
	var out []string
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1] != r {
			out = append(out, r)
		}
	}
	return out
}
