package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
)

// DatabaseIndex is what the databases view asks of a store that records
// each alert's database as it commits it (api's databaseIndex).
type DatabaseIndex interface {
	DatabaseCounts(ctx context.Context, workspace string, q store.AlertQuery) ([]store.DatabaseCount, error)
	DatabaseAlerts(ctx context.Context, workspace, server, database string, q store.AlertQuery) ([]alert.Alert, string, error)
}

// dbEvent is an SQL audit event of server (its host.name; "" when the
// record names none and the source stands for the server) and database.
func dbEvent(ws, src, server, database string, at time.Time) store.StoredEvent {
	e := Event(ws, src, at, server, "app", "203.0.113.9")
	e.Logsource = event.Logsource{Product: "postgresql", Category: "database"}
	e.Common[event.DBName] = database
	return e
}

// dbSignal is a signal of rule (titled title) evidenced by e, about user.
func dbSignal(ws, rule, title string, sev alert.Severity, user string, e store.StoredEvent) alert.Signal {
	ents := []alert.Entity{{Type: alert.EntityAccount, Value: user}}
	return alert.Signal{Workspace: ws, Type: "signature", Rule: alert.RuleRef{ID: rule, Title: title},
		Severity: sev, Entities: ents, DedupKey: alert.DedupKey(ws, rule, ents),
		Evidence: alert.Evidence{EventID: e.ID.String(), Time: e.Time}}
}

// testDatabaseIndex: DatabaseCounts and DatabaseAlerts answer as placing
// every alert from its first evidence event (store.DatabasePlaceOf, the
// events read back from the store) does, under the alert list's filters
// and paging, as alerts are raised (from events of the same commit and of
// earlier ones, or from entities alone), joined by later signals (an
// evidence event joining an alert placed by its entities moves it) and
// change status; in their workspace only.
func testDatabaseIndex(t *testing.T, s store.Store) {
	db := as[DatabaseIndex](t, s, "the databases index (DatabaseCounts, DatabaseAlerts)")
	reader := as[EventReader](t, s, "EventsByID")
	mustWorkspace(t, s, "acme", "other")
	at := func(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }

	shop1 := dbEvent("acme", "pg01", "", "shop", at(1))   // no host: the source names the server
	shop2 := dbEvent("acme", "pg01", "", "shop", at(2))   // the same place, a tie in time below
	hr := dbEvent("acme", "pg01", "sqlsrv1", "hr", at(2)) // the record's server
	noDB := dbEvent("acme", "maria", "db1", "", at(3))    // a login refused before a database
	ssh := Event("acme", "web01", at(4), "web01", "root", "198.51.100.1")
	theirs := dbEvent("other", "pg01", "", "shop", at(1))
	b := Batch("acme", "pg01", shop1, shop2, hr, noDB, ssh)
	b.Signals = []alert.Signal{
		dbSignal("acme", "sqli", "Potential SQL Injection", alert.High, "app", shop1),
		dbSignal("acme", "sqli2", "Potential SQL Injection", alert.Critical, "web", shop2),
		dbSignal("acme", "shell", "Shell Execution from SQL", alert.Medium, "app", hr),
		dbSignal("acme", "brute", "Suspected Brute Force Attack", alert.Low, "sa", noDB),
		Signal("acme", "ssh", alert.High, "web01", ssh),
	}
	ob := Batch("other", "pg01", theirs)
	ob.Signals = []alert.Signal{dbSignal("other", "sqli", "Potential SQL Injection", alert.High, "app", theirs)}
	commit(t, s, b, ob)

	// A correlation names an event of the earlier commit; a health alert
	// names none and its database and host entities place it.
	health := alert.Signal{Workspace: "acme", Type: "health", Rule: alert.RuleRef{ID: "silent", Title: "Database audit silent"},
		Severity: alert.Medium, DedupKey: "silent", Evidence: alert.Evidence{Time: at(5)},
		Entities: []alert.Entity{{Type: alert.EntityDatabase, Value: "billing"}, {Type: alert.EntityHost, Value: "pg09"}}}
	corr := alert.Signal{Workspace: "acme", Type: "correlation", Rule: alert.RuleRef{ID: "corr", Title: "SQL injection then login"},
		Severity: alert.High, DedupKey: "corr", Evidence: alert.Evidence{EventID: hr.ID.String(), Time: at(5)}}
	commit(t, s, &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "correlation", Format: "json", Received: at(5),
		Signals: []alert.Signal{health, corr}})

	check := func(when string, servers int) {
		t.Helper()
		alerts := allAlerts(t, s, "acme", store.AlertQuery{Limit: 100})
		places := placesOf(t, reader, alerts)
		seen := map[[2]string]bool{}
		for _, p := range places {
			if p.IsDatabase {
				seen[[2]string{p.Server, p.Database}] = true
			}
		}
		srv := map[string]bool{}
		for k := range seen {
			srv[k[0]] = true
		}
		if len(srv) != servers {
			t.Errorf("%s: servers %v, want %d", when, seen, servers)
		}
		filters := []store.AlertQuery{{}, {MinSeverity: sevPtr(alert.High)}, {Status: []alert.Status{alert.StatusNew}},
			{Status: []alert.Status{alert.StatusResolved}}, {RuleID: "sqli"}, {Since: at(2)}, {Until: at(3)}, {Entity: "app"}}
		for _, f := range filters {
			want := scanDatabaseCounts(t, s, places, f)
			got, err := db.DatabaseCounts(ctx, "acme", f)
			if err != nil {
				t.Fatalf("%s: DatabaseCounts(%+v): %v", when, f, err)
			}
			sortDatabaseCounts(got)
			if !equalLists(got, want) {
				t.Errorf("%s: DatabaseCounts(%+v)\n%+v\nwant (placing every alert)\n%+v", when, f, got, want)
			}
			for k := range seen {
				q := f
				q.Limit = 2
				var gotIDs []string
				for range 20 {
					page, next, err := db.DatabaseAlerts(ctx, "acme", k[0], k[1], q)
					if err != nil {
						t.Fatalf("%s: DatabaseAlerts(%q, %q, %+v): %v", when, k[0], k[1], q, err)
					}
					for _, a := range page {
						gotIDs = append(gotIDs, a.ID)
					}
					if next == "" {
						break
					}
					q.Cursor = next
				}
				var wantIDs []string
				for _, a := range allAlerts(t, s, "acme", f) {
					if p := places[a.ID]; p.IsDatabase && p.Server == k[0] && p.Database == k[1] {
						wantIDs = append(wantIDs, a.ID)
					}
				}
				if !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("%s: DatabaseAlerts(%q, %q, %+v) = %v, want %v", when, k[0], k[1], f, gotIDs, wantIDs)
				}
			}
		}
	}
	check("raised", 4) // pg01, sqlsrv1, db1, pg09

	// A status change moves alerts between the status filters; an
	// evidence event joins the health alert (the event places it now, on
	// another server), and a later signal joins an injection alert.
	sqli := allAlerts(t, s, "acme", store.AlertQuery{RuleID: "sqli"})
	if len(sqli) != 1 {
		t.Fatalf("sqli alerts %+v", sqli)
	}
	if _, err := s.SetAlertStatus(ctx, "acme", sqli[0].ID, alert.StatusResolved, "tester"); err != nil {
		t.Fatal(err)
	}
	late := dbEvent("acme", "pg02", "sqlsrv2", "billing", at(7))
	again := dbEvent("acme", "pg01", "", "shop", at(8))
	lb := Batch("acme", "pg02", late, again)
	health.Evidence = alert.Evidence{EventID: late.ID.String(), Time: late.Time}
	lb.Signals = []alert.Signal{health, dbSignal("acme", "sqli2", "Potential SQL Injection", alert.Critical, "web", again)}
	commit(t, s, lb)
	check("joined", 4) // pg01, sqlsrv1, db1, sqlsrv2
	counts, err := db.DatabaseCounts(ctx, "acme", store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c.Alerts
	}
	if n != 6 { // two injections, the shell, the brute force, the correlation, the health alert
		t.Errorf("database alerts %d, want 6: %+v", n, counts)
	}
	theirCounts, err := db.DatabaseCounts(ctx, "other", store.AlertQuery{})
	if err != nil || len(theirCounts) != 1 || theirCounts[0].Alerts != 1 {
		t.Errorf("other's databases: %+v, %v", theirCounts, err)
	}
	if _, err := db.DatabaseCounts(ctx, "acme", store.AlertQuery{Status: []alert.Status{"bogus"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("DatabaseCounts with a bad status: %v, want ErrInvalid", err)
	}
}

func sevPtr(s alert.Severity) *alert.Severity { return &s }

// placesOf places alerts from their evidence events as the store returns
// them.
func placesOf(t *testing.T, reader EventReader, alerts []alert.Alert) map[string]store.DatabasePlace {
	t.Helper()
	out := map[string]store.DatabasePlace{}
	for i := range alerts {
		a := &alerts[i]
		p, err := store.DatabasePlaceOf(a, func(id event.ID) (store.StoredEvent, bool, error) {
			evs, err := reader.EventsByID(ctx, a.Workspace, []event.ID{id})
			ev, ok := evs[id]
			return ev, ok, err
		})
		if err != nil {
			t.Fatalf("alert %s: %v", a.ID, err)
		}
		out[a.ID] = p
	}
	return out
}

// scanDatabaseCounts counts the alerts matching q by place, severity and
// type, the latest alert of each the greatest (last seen, id).
func scanDatabaseCounts(t *testing.T, s store.Store, places map[string]store.DatabasePlace, q store.AlertQuery) []store.DatabaseCount {
	t.Helper()
	type key struct {
		server, database, typ string
		sev                   alert.Severity
	}
	counts := map[key]*store.DatabaseCount{}
	for _, a := range allAlerts(t, s, "acme", q) {
		p := places[a.ID]
		if !p.IsDatabase {
			continue
		}
		k := key{p.Server, p.Database, a.Rule.Title, a.Severity}
		c := counts[k]
		if c == nil {
			c = &store.DatabaseCount{Server: p.Server, Database: p.Database, Severity: a.Severity, Type: a.Rule.Title}
			counts[k] = c
		}
		c.Alerts++
		if c.LastAlert == "" || a.LastSeen.After(c.LastSeen) || a.LastSeen.Equal(c.LastSeen) && a.ID > c.LastAlert {
			c.LastSeen, c.LastAlert = a.LastSeen.UTC(), a.ID
		}
	}
	out := make([]store.DatabaseCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	sortDatabaseCounts(out)
	return out
}

func sortDatabaseCounts(cs []store.DatabaseCount) {
	sort.Slice(cs, func(i, j int) bool {
		return fmt.Sprint(cs[i].Server, "\x00", cs[i].Database, "\x00", cs[i].Type, "\x00", cs[i].Severity) <
			fmt.Sprint(cs[j].Server, "\x00", cs[j].Database, "\x00", cs[j].Type, "\x00", cs[j].Severity)
	})
	for i := range cs {
		cs[i].LastSeen = cs[i].LastSeen.UTC()
	}
}
