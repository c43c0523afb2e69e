package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/suppress"
	"github.com/vigil-sec/vigil/tenant"
)

// sqliteEnv is the tests' environment with the store settings of the
// PostgreSQL suite (e2e_helpers_test.go) taken out: the processes it runs
// keep their data dir's vigil.db whatever the suite runs on.
func sqliteEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VIGIL_STORE") || strings.HasPrefix(kv, teststore.EnvSchemaPrefix+"=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "VIGIL_STORE=sqlite")
}

// runEnv runs vigil with env and returns its output and error.
func runEnv(env []string, args ...string) (string, error) {
	cmd := exec.Command(vigilBin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// needPostgres skips t when the suite's PostgreSQL does not answer,
// saying why, unless VIGIL_REQUIRE_POSTGRES=1.
func needPostgres(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, teststore.URL())
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL (%s): %v (VIGIL_REQUIRE_POSTGRES=1)", teststore.EnvURL, err)
		}
		t.Skipf("no PostgreSQL to copy into (%v): set %s, or VIGIL_REQUIRE_POSTGRES=1 to fail instead", err, teststore.EnvURL)
	}
	conn.Close(ctx)
}

// TestStoreCopySQLiteToPostgres fills a SQLite store through serve (events,
// alerts, incidents, the streams and their cursors, correlation state) and
// the store API (incident work, users and sessions, assets, suppressions,
// intelligence, baselines), copies it with `vigil store copy` into a new
// PostgreSQL schema, and reads everything back through the PostgreSQL
// store: the answers are the SQLite store's. A second copy into the same
// target is refused, and a target table the copy does not know stops it.
func TestStoreCopySQLiteToPostgres(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	env := sqliteEnv()
	dir := t.TempDir()
	if out, err := runEnv(env, "workspaces", "create", "acme", "--data-dir", dir); err != nil {
		t.Fatalf("workspaces create: %v\n%s", err, out)
	}
	if out, err := runEnv(env, "workspaces", "create", "beta", "--data-dir", dir); err != nil {
		t.Fatalf("workspaces create: %v\n%s", err, out)
	}
	out, err := runEnv(env, "keys", "create", "--workspace", "acme", "--scope", "admin", "--json", "--data-dir", dir)
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.Secret == "" {
		t.Fatalf("keys create: %q, %v", out, err)
	}
	key := k.Secret

	srv := startServeEnv(t, env, dir)
	at := time.Now().UTC().Add(-time.Hour)
	for i, user := range []string{"j.doe", "a.smith"} {
		if r := ingestBody(t, srv.url, key, "dc", "windows", "application/x-ndjson", incidentEvents(user, at.Add(time.Duration(i)*10*time.Minute))); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}
	poll(t, "five alerts", func() bool { return len(listAlerts(t, srv.url, key)) >= 5 })
	path := filepath.Join(dir, "vigil.db")
	poll(t, "the incidents consumer caught up", func() bool {
		db, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return false
		}
		defer db.Close()
		last, _, err := db.ChangeHeads(ctx)
		cur, err2 := db.ConsumerCursor(ctx, "incidents")
		return err == nil && err2 == nil && last > 0 && cur >= last
	})
	srv.stop()

	src, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillForCopy(t, src)
	before := storeAnswers(t, src)
	for _, ws := range []string{"acme", "beta"} {
		if dbs := before[ws+" databases"].([]store.DatabaseCount); len(dbs) == 0 {
			t.Fatalf("%s has no database alert: the databases view would be compared empty", ws)
		}
	}
	if len(before["acme alerts by last seen"].([]alert.Alert)) < 5 || len(before["acme incidents"].([]incident.Incident)) < 2 ||
		len(before["acme events"].([]store.StoredEvent)) < 6 {
		t.Fatalf("the SQLite store holds too little to copy: %d alerts, %d incidents, %d events",
			len(before["acme alerts by last seen"].([]alert.Alert)), len(before["acme incidents"].([]incident.Incident)),
			len(before["acme events"].([]store.StoredEvent)))
	}
	alertHead, incidentHead, err := src.ChangeHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()

	schema := teststore.Schema(t)
	copyArgs := []string{"store", "copy", "--from", dir, "--to", teststore.URL(), "--store-schema", schema, "--batch-rows", "2"}
	out, err = runEnv(env, copyArgs...)
	if err != nil {
		t.Fatalf("store copy: %v\n%s", err, out)
	}
	for _, want := range []string{"alerts ", "event_ids ", "incidents ", "committed as one transaction"} {
		if !strings.Contains(out, want) {
			t.Errorf("store copy's report lacks %q:\n%s", want, out)
		}
	}

	dst, err := postgres.Open(ctx, teststore.URL(), postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	after := storeAnswers(t, dst)
	for name, want := range before {
		if got := after[name]; !sameAnswer(got, want) {
			t.Errorf("%s: PostgreSQL answers\n%+v\nSQLite answered\n%+v", name, got, want)
		}
	}

	// The streams go on after the copied sequences: a consumer's cursor
	// never sees a new change at or below what it read.
	alerts := before["acme alerts by last seen"].([]alert.Alert)
	if _, err := dst.SetAlertStatus(ctx, "acme", alerts[0].ID, alert.StatusActive, "alice"); err != nil {
		t.Fatal(err)
	}
	changes, err := dst.AlertChanges(ctx, alertHead, 10)
	if err != nil || len(changes) != 1 || changes[0].Seq <= alertHead {
		t.Errorf("the alert stream after the copy's head %d: %+v, %v", alertHead, changes, err)
	}
	incs := before["acme incidents"].([]incident.Incident)
	if _, err := dst.ChangeIncident(ctx, "acme", incs[0].ID, incident.Change{Comment: "after the move"}, "alice"); err != nil {
		t.Fatal(err)
	}
	ich, err := dst.IncidentChanges(ctx, incidentHead, 10)
	if err != nil || len(ich) != 1 || ich[0].Seq <= incidentHead {
		t.Errorf("the incident stream after the copy's head %d: %+v, %v", incidentHead, ich, err)
	}

	// The partition count came along: workers of another count are refused.
	if err := dst.SetCorrelationPartitions(ctx, 5); err == nil {
		t.Error("the target took 5 correlation partitions after the copy of a store recording 4")
	}
	if len(after["partition journal 1"].([]store.JournalEntry)) != 1 || len(after["beta quarantine"].([]store.QuarantineEntry)) != 1 ||
		after["partition state 2"] != "partition 2's state@0" {
		t.Errorf("after the copy: partition 1's journal %+v, partition 2's state %q, beta's quarantine %+v",
			after["partition journal 1"], after["partition state 2"], after["beta quarantine"])
	}

	// A second copy into the same target is refused, and leaves it.
	out, err = runEnv(env, copyArgs...)
	if err == nil || !strings.Contains(out, "not empty") || !strings.Contains(out, "--replace") {
		t.Errorf("a second copy into a store that holds rows: %v\n%s", err, out)
	}
	if tl, _, err := dst.Timeline(ctx, "acme", incs[0].ID, store.TimelineQuery{Limit: 1000}); err != nil ||
		len(tl) != len(before["acme incident "+incs[0].ID+" timeline"].([]incident.TimelineEntry))+1 {
		t.Errorf("after the refused copy the incident's timeline has %d entries (%v), want the comment made after the copy too", len(tl), err)
	}

	// A table the copy does not know (added by a newer migration) stops
	// it, even with --replace, naming the table; the target keeps its rows.
	conn, err := pgx.Connect(ctx, teststore.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	unknown := pgx.Identifier{schema, "copy_test_unknown"}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE TABLE `+unknown+` (x integer)`); err != nil {
		t.Fatal(err)
	}
	out, err = runEnv(env, append(copyArgs, "--replace")...)
	if err == nil || !strings.Contains(out, "copy_test_unknown") {
		t.Errorf("a copy into a target with a table it does not know: %v\n%s", err, out)
	}
	if n, err := dst.CountAlerts(ctx, "acme", store.AlertQuery{}); err != nil || n != len(alerts) {
		t.Errorf("after the refused copy the target counts %d alerts (%v), want %d", n, err, len(alerts))
	}
	if _, err := conn.Exec(ctx, `DROP TABLE `+unknown); err != nil {
		t.Fatal(err)
	}
	// So does a column of the source the copy does not know.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `ALTER TABLE alerts ADD COLUMN copy_test_extra TEXT`); err != nil {
		t.Fatal(err)
	}
	out, err = runEnv(env, append(copyArgs, "--replace")...)
	if err == nil || !strings.Contains(out, "table alerts: the source's column copy_test_extra has no place in the target") {
		t.Errorf("a copy of a source with a column it does not know: %v\n%s", err, out)
	}
	if _, err := raw.ExecContext(ctx, `ALTER TABLE alerts DROP COLUMN copy_test_extra`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	// --replace copies again over what the target holds: the answers are
	// the source's once more, the change made above gone.
	if out, err = runEnv(env, append(copyArgs, "--replace")...); err != nil {
		t.Fatalf("store copy --replace: %v\n%s", err, out)
	}
	again := storeAnswers(t, dst)
	if !reflect.DeepEqual(again["alert changes"], before["alert changes"]) {
		t.Errorf("after --replace the alert stream is %+v, want %+v", again["alert changes"], before["alert changes"])
	}
}

// fillForCopy adds through the store API what serve did not write:
// incident work, people, assets, suppressions, intelligence, baselines, a
// consumer's cursor, and a second workspace's rows.
func fillForCopy(t *testing.T, db backend) {
	t.Helper()
	ctx := context.Background()
	incs, _, err := db.Incidents(ctx, "acme", store.IncidentQuery{Limit: 10})
	if err != nil || len(incs) == 0 {
		t.Fatalf("incidents: %d, %v", len(incs), err)
	}
	owner, stage := "alice", incident.StageAssess
	if _, err := db.ChangeIncident(ctx, "acme", incs[0].ID, incident.Change{Owner: &owner, Stage: &stage,
		AddTags: []string{"migrated"}, Comment: "moving to PostgreSQL"}, "alice"); err != nil {
		t.Fatal(err)
	}
	alerts, _, err := db.Alerts(ctx, "acme", store.AlertQuery{Limit: 10})
	if err != nil || len(alerts) == 0 {
		t.Fatalf("alerts: %d, %v", len(alerts), err)
	}
	if _, err := db.SetAlertStatus(ctx, "acme", alerts[len(alerts)-1].ID, alert.StatusActive, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "alice", PasswordHash: "$argon2id$x", Created: time.Now().UTC(),
		Roles: []tenant.Membership{{Workspace: "acme", Role: tenant.RoleResponder}, {Workspace: "beta", Role: tenant.RoleReader}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	h := sha256.Sum256([]byte("session secret"))
	if err := db.CreateSession(ctx, tenant.Session{ID: "s1", Hash: h[:], User: "alice", Workspace: "acme", CSRF: "tok",
		Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{"acme", "beta"} {
		if err := db.CreateAsset(ctx, store.Asset{Workspace: ws, Name: "web-1.corp.example", Type: store.AssetHost,
			Match: []string{"10.0.0.5"}, Criticality: "high", Owner: "web team", Tags: []string{"pci"}}); err != nil {
			t.Fatal(err)
		}
	}
	exp := now.Add(48 * time.Hour)
	if _, err := db.CreateSuppression(ctx, suppress.Suppression{Workspace: "acme", Rule: "r1",
		Entity: &alert.Entity{Type: "account", Value: "svc"}, Reason: "backup job", Expires: &exp}, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFeed(ctx, store.Feed{Workspace: "acme", Name: "list", Format: "plain", Source: "https://example.org/list",
		Interval: time.Hour, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// Two refreshes: the first one's indicators are not the feed's any more.
	for _, vals := range [][]string{{"198.51.100.1", "198.51.100.2"}, {"203.0.113.9", "198.51.100.2", "192.0.2.7"}} {
		var inds []intel.Indicator
		for _, v := range vals {
			inds = append(inds, intel.Indicator{Kind: intel.KindIP, Value: v, ThreatType: intel.ThreatC2})
		}
		if err := db.ReplaceFeedIndicators(ctx, "acme", "list", inds, store.Fetch{Attempt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SaveBaseline(ctx, "acme", "sql.principal", now.Add(-time.Hour), []store.BaselineEntry{
		{Entity: "db1", Value: "webapp", Count: 5, First: now.Add(-time.Hour), Last: now},
		{Entity: "db1", Value: "oth\xffer", Count: 1, First: now, Last: now}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetConsumerCursor(ctx, "copy-test", 2); err != nil {
		t.Fatal(err)
	}

	// A database alert in each workspace, for the databases view the copy
	// computes afresh.
	for _, ws := range []string{"acme", "beta"} {
		de := storetest.Event(ws, "sql-audit", now.Add(-90*time.Minute), "sql01", "app", "203.0.113.9")
		de.Logsource = event.Logsource{Product: "mssql", Category: "database"}
		de.Common[event.DBName] = "billing"
		db2 := storetest.Batch(ws, "sql-audit", de)
		db2.Signals = append(db2.Signals, storetest.Signal(ws, "sql-rule", alert.Medium, "sql01", de))
		if _, err := db.Commit(ctx, []*store.Batch{db2}); err != nil {
			t.Fatal(err)
		}
	}

	// A batch of beta's with what serve's single detect stage does not
	// write: a quarantined record, the partitioned correlation's journal
	// entry; and a partition's saved state.
	e := storetest.Event("beta", "fw", now.Add(-2*time.Hour), "Host-B", "Bob", "192.0.2.10")
	b := storetest.Batch("beta", "fw", e)
	b.Signals = append(b.Signals, storetest.Signal("beta", "beta-rule", alert.High, "Host-B", e))
	b.Correlation, b.CorrelationGroup = []byte("matches"), event.NewID()
	b.CorrelationParts = []store.PartitionInput{{Part: 1, Data: []byte("partition 1's matches")}}
	b.Quarantined = []store.Quarantined{{ID: event.NewID(), Line: 3, Reason: "not JSON: \xff", Raw: []byte("{\x00")}}
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	ps := db.(copiedPartitions)
	if err := ps.SetCorrelationPartitions(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if ok, err := ps.AcquireLease(ctx, "copy-test-part-2", "w1", time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v, %v", ok, err)
	}
	if err := ps.SavePartitionState(ctx, 2, "copy-test-part-2", "w1", []byte("partition 2's state"), 0); err != nil {
		t.Fatal(err)
	}
}

// copiedPartitions is what partitioned correlation keeps in a store.
type copiedPartitions interface {
	SetCorrelationPartitions(ctx context.Context, n int) error
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	SavePartitionState(ctx context.Context, part int, lease, owner string, data []byte, journalSeq int64) error
	PartitionState(ctx context.Context, part int) ([]byte, int64, error)
	PartitionJournal(ctx context.Context, part int, afterSeq int64, limit int) ([]store.JournalEntry, error)
}

// storeAnswers is what a store answers of everything fillForCopy and the
// server wrote, by name.
func storeAnswers(t *testing.T, db backend) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	must := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	type indexes interface {
		DatabaseCounts(ctx context.Context, workspace string, q store.AlertQuery) ([]store.DatabaseCount, error)
		ThreatOrigins(ctx context.Context, workspace string, q store.ThreatQuery) ([]store.ThreatOrigin, error)
		ThreatSeries(ctx context.Context, workspace string, q store.ThreatQuery) ([]store.ThreatBucket, error)
	}
	ix := db.(indexes)
	for _, ws := range []string{"acme", "beta"} {
		// The alerts' indexes, which the copy computes afresh.
		dbs, err := ix.DatabaseCounts(ctx, ws, store.AlertQuery{})
		must(ws+" databases", dbs, err)
		tq := store.ThreatQuery{From: time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Hour), To: time.Now().Add(time.Hour).Truncate(time.Hour), Bucket: 24 * time.Hour}
		origins, err := ix.ThreatOrigins(ctx, ws, tq)
		must(ws+" threat origins", origins, err)
		series, err := ix.ThreatSeries(ctx, ws, tq)
		must(ws+" threat series", series, err)
		for _, sort := range []string{store.AlertSortLastSeen, store.AlertSortPriority} {
			var all []alert.Alert
			q := store.AlertQuery{Limit: 2, Sort: sort}
			for {
				page, next, err := db.Alerts(ctx, ws, q)
				if err != nil {
					t.Fatalf("alerts of %s by %s: %v", ws, sort, err)
				}
				all = append(all, page...)
				if next == "" {
					break
				}
				q.Cursor = next
			}
			out[ws+" alerts by "+strings.ReplaceAll(sort, "_", " ")] = all
		}
		var incs []incident.Incident
		q := store.IncidentQuery{Limit: 1}
		for {
			page, next, err := db.Incidents(ctx, ws, q)
			if err != nil {
				t.Fatalf("incidents of %s: %v", ws, err)
			}
			incs = append(incs, page...)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		out[ws+" incidents"] = incs
		for _, inc := range incs {
			got, err := db.Incident(ctx, ws, inc.ID)
			must(ws+" incident "+inc.ID, got, err)
			as, err := db.IncidentAlerts(ctx, ws, inc.ID)
			must(ws+" incident "+inc.ID+" alerts", as, err)
			tl, _, err := db.Timeline(ctx, ws, inc.ID, store.TimelineQuery{Limit: 1000})
			must(ws+" incident "+inc.ID+" timeline", tl, err)
		}
		text, _, err := db.Incidents(ctx, ws, store.IncidentQuery{Text: "inc-web", Limit: 100})
		must(ws+" incidents holding inc-web", text, err)
		tagged, _, err := db.Incidents(ctx, ws, store.IncidentQuery{Tag: "migrated", Limit: 100})
		must(ws+" incidents tagged", tagged, err)
		evs, _, err := db.Events(ctx, ws, store.EventQuery{Limit: 1000})
		must(ws+" events", evs, err)
		for _, e := range evs {
			got, err := db.Event(ctx, ws, e.ID)
			must(ws+" event "+e.ID.String(), got, err)
		}
		byEntity, _, err := db.Events(ctx, ws, store.EventQuery{Entity: "inc-web-01", Limit: 1000})
		must(ws+" events of inc-web-01", byEntity, err)
		assets, err := db.Assets(ctx, ws)
		must(ws+" assets", assets, err)
		sups, err := db.Suppressions(ctx, ws)
		must(ws+" suppressions", sups, err)
		feeds, err := db.Feeds(ctx, ws)
		must(ws+" feeds", feeds, err)
		inds, _, err := db.Indicators(ctx, ws, store.IndicatorQuery{Limit: 1000})
		must(ws+" indicators", inds, err)
		bl, err := db.LoadBaseline(ctx, ws, "sql.principal", 0, 100)
		if len(bl.Entries) == 0 {
			bl.Entries = nil // one store answers none as nil, the other as empty
		}
		must(ws+" baseline", bl, err)
	}
	users, err := db.Users(ctx)
	must("users", users, err)
	h := sha256.Sum256([]byte("session secret"))
	sess, err := db.SessionByHash(ctx, h[:], time.Now())
	must("session", sess, err)
	changes, err := db.AlertChanges(ctx, 0, 1000)
	must("alert changes", changes, err)
	ich, err := db.IncidentChanges(ctx, 0, 1000)
	must("incident changes", ich, err)
	for _, c := range []string{"incidents", "copy-test"} {
		cur, err := db.ConsumerCursor(ctx, c)
		must("cursor "+c, cur, err)
	}
	for part := 1; part <= 2; part++ {
		data, seq, err := db.(copiedPartitions).PartitionState(ctx, part)
		must(fmt.Sprint("partition state ", part), fmt.Sprintf("%s@%d", data, seq), err)
		j, err := db.(copiedPartitions).PartitionJournal(ctx, part, 0, 100)
		must(fmt.Sprint("partition journal ", part), j, err)
	}
	for _, ws := range []string{"acme", "beta"} {
		q, _, err := db.Quarantine(ctx, ws, store.QuarantineQuery{Limit: 100})
		must(ws+" quarantine", q, err)
	}
	state, seq, err := db.CorrelationState(ctx)
	must("correlation state", fmt.Sprint(state, seq), err)
	journal, err := db.CorrelationJournal(ctx, 0)
	must("correlation journal", journal, err)
	return out
}

// sameAnswer compares two answers, an empty list and none alike.
func sameAnswer(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == reflect.Slice && vb.Kind() == reflect.Slice && va.Len() == 0 && vb.Len() == 0
}
