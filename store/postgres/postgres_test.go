package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

var ctx = context.Background()

// TestOpenTogether opens one new schema from several stores at once, as
// processes started together do: each migration is applied once, and all
// of them open.
func TestOpenTogether(t *testing.T) {
	schema := testSchema(t)
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, testDSN(), Options{Schema: schema}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var rows, max int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &max); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || max != ms[len(ms)-1].version {
		t.Errorf("schema_migrations: %d rows up to version %d, want each of the %d migrations once", rows, max, len(ms))
	}
}

// TestNewerSchemaRefused: a database a newer vigil migrated is not opened.
func TestNewerSchemaRefused(t *testing.T) {
	schema := testSchema(t)
	db, err := Open(ctx, testDSN(), Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, testDSN(), Options{Schema: schema}); err == nil {
		db.Close()
		t.Fatal("a database at a newer schema version opened")
	}
}

// TestTwoProcesses runs two stores on one schema — two pools, as two vigil
// processes have — committing signals of one dedup key and the same
// batches at once: one alert counts every signal once, and each batch is
// stored once.
func TestTwoProcesses(t *testing.T) {
	schema := testSchema(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, testDSN(), Options{Schema: schema, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	if _, err := dbs[0].CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	var batches []*store.Batch
	for i := range rounds {
		e := storetest.Event("acme", "ssh", storetest.T0.Add(time.Duration(i)*time.Second), "web1", "root", "10.0.0.1")
		b := storetest.Batch("acme", "ssh", e)
		b.Signals = []alert.Signal{storetest.Signal("acme", "r1", alert.High, "web1", e)}
		batches = append(batches, b)
	}
	var wg sync.WaitGroup
	added := make([]int, 2*len(dbs))
	errs := make(chan error, 2*len(dbs))
	for w := range 2 * len(dbs) {
		wg.Go(func() {
			db := dbs[w%len(dbs)]
			for i := range batches {
				// Every writer commits every batch: half of them in
				// the other order, so that they meet mid-way.
				b := batches[i]
				if w >= len(dbs) {
					b = batches[len(batches)-1-i]
				}
				n, err := db.Commit(ctx, []*store.Batch{b})
				if err != nil {
					errs <- err
					return
				}
				added[w] += n
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Commit: %v", err)
	}
	total := 0
	for _, n := range added {
		total += n
	}
	if total != rounds {
		t.Errorf("%d batches committed as new among the writers, want %d (each once)", total, rounds)
	}
	as, _, err := dbs[1].Alerts(ctx, "acme", store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Count != rounds {
		t.Errorf("%d alerts (first counting %v), want one counting %d", len(as), func() any {
			if len(as) > 0 {
				return as[0].Count
			}
			return nil
		}(), rounds)
	}
	if src, err := dbs[0].Source(ctx, "acme", "ssh"); err != nil || src.Events != rounds {
		t.Errorf("source: %+v, %v; want %d events", src, err, rounds)
	}
}

// TestRetentionDropsPartitions: days wholly before the limit go as
// partitions, but a day holding an open alert's evidence, from which only
// the other batches' rows go.
func TestRetentionDropsPartitions(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return storetest.T0.Add(time.Duration(d) * 24 * time.Hour) }
	var evidence store.StoredEvent
	for d := range 5 {
		for k := range 2 {
			e := storetest.Event("acme", "ssh", day(d), fmt.Sprintf("h%d", k), "u", "10.0.0.1")
			b := storetest.Batch("acme", "ssh", e)
			if d == 1 && k == 0 {
				b.Signals = []alert.Signal{storetest.Signal("acme", "r1", alert.High, "h0", e)}
				evidence = e
			}
			if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() map[string]bool {
		parts, err := db.partitions(ctx, db.pool)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, p := range parts {
			m[p.of("event_blocks")] = true
		}
		return m
	}
	if !count()[partitionName("event_blocks", dayOf(nanos(day(0))))] {
		t.Fatal("no partition for the first day's events")
	}
	// Days 0–2 end before the limit; day 3 holds it.
	n, err := db.PurgeEvents(ctx, day(3).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Day 0: 2 (dropped); day 1: 1 (the other batch); day 2: 2 (dropped);
	// day 3: received at T0+1s on its day, before the limit: 2.
	if n != 7 {
		t.Errorf("purged %d events, want 7", n)
	}
	parts := count()
	for d, want := range map[int]bool{0: false, 1: true, 2: false, 3: true, 4: true} {
		if got := parts[partitionName("event_blocks", dayOf(nanos(day(d))))]; got != want {
			t.Errorf("day %d: partition kept %v, want %v", d, got, want)
		}
	}
	if _, err := db.Event(ctx, "acme", evidence.ID); err != nil {
		t.Errorf("the open alert's evidence went: %v", err)
	}
	if src, _ := db.Source(ctx, "acme", "ssh"); src.Events != 3 {
		t.Errorf("source counts %d events, want 3", src.Events)
	}
	// A batch received on a dropped day comes again, late: its day is
	// made anew, and the store knows it was committed before.
	late := storetest.Batch("acme", "ssh", storetest.Event("acme", "ssh", day(0), "h9", "u", "10.0.0.1"))
	if n, err := db.Commit(ctx, []*store.Batch{late}); err != nil || n != 1 {
		t.Fatalf("a batch of a dropped day: %d, %v", n, err)
	}
	if !count()[partitionName("event_blocks", dayOf(nanos(day(0))))] {
		t.Error("the dropped day's partition was not made again")
	}
}

// TestDroppedElsewhere: a partition another process's retention dropped is
// made again when this process, which thought it there, commits into it.
func TestDroppedElsewhere(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	b := storetest.Batch("acme", "ssh", storetest.Event("acme", "ssh", storetest.T0, "h", "u", "10.0.0.1"))
	if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
		t.Fatal(err)
	}
	for _, table := range eventTables {
		if _, err := db.pool.Exec(ctx, `DROP TABLE `+partitionName(table, dayOf(nanos(b.Received)))); err != nil {
			t.Fatal(err)
		}
	}
	b2 := storetest.Batch("acme", "ssh", storetest.Event("acme", "ssh", storetest.T0, "h", "u", "10.0.0.1"))
	if n, err := db.Commit(ctx, []*store.Batch{b2}); err != nil || n != 1 {
		t.Fatalf("commit into a partition dropped elsewhere: %d, %v", n, err)
	}
}

func TestPoolConfig(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := poolConfig("postgres://vigil:fromdsn@db.example:5433/vigil", Options{PasswordFile: pw, MaxConns: 7, Schema: "vigil_a"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConnConfig.Password != "s3cret" || cfg.MaxConns != 7 || cfg.ConnConfig.RuntimeParams["search_path"] != "vigil_a" {
		t.Errorf("config: password %q, max conns %d, search_path %q", cfg.ConnConfig.Password, cfg.MaxConns, cfg.ConnConfig.RuntimeParams["search_path"])
	}
	t.Setenv("PGHOST", "pg.example")
	t.Setenv("PGUSER", "envuser")
	if cfg, err := poolConfig("", Options{}); err != nil || cfg.ConnConfig.Host != "pg.example" || cfg.ConnConfig.User != "envuser" || cfg.MaxConns != 10 {
		t.Errorf("DSN from the environment: %v, %+v", err, cfg)
	}
	if _, err := poolConfig("", Options{Schema: "Bad-Name"}); err == nil {
		t.Error("a schema name that needs quoting was taken")
	}
	if _, err := poolConfig("", Options{PasswordFile: filepath.Join(t.TempDir(), "absent")}); err == nil {
		t.Error("an absent password file was ignored")
	}
	if _, err := poolConfig("postgres://u:secretpw@[bad", Options{}); err == nil {
		t.Error("a bad DSN parsed")
	} else if got := err.Error(); strings.Contains(got, "secretpw") {
		t.Errorf("the DSN's error shows its password: %s", got)
	}
}

func TestDayOf(t *testing.T) {
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{d, d.Add(time.Hour), d.Add(24*time.Hour - 1)} {
		if got := dayOf(nanos(at)); got != nanos(d) {
			t.Errorf("dayOf(%v) = %v", at, fromNanos(got))
		}
	}
	old := time.Date(1960, 5, 5, 3, 0, 0, 0, time.UTC)
	if got := fromNanos(dayOf(nanos(old))); !got.Equal(time.Date(1960, 5, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("dayOf before 1970: %v", got)
	}
	if day, ok := dayOfPartition(partitionName("event_blocks", nanos(d))); !ok || day != nanos(d) {
		t.Errorf("partition name round trip: %v %v", fromNanos(day), ok)
	}
}

// TestRefusesWhatItDoesNotKeep: batches with a correlation journal entry or
// suppression hits are refused, not half kept.
func TestRefusesWhatItDoesNotKeep(t *testing.T) {
	db := openTest(t, Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", tenant.TierStandard); err != nil {
		t.Fatal(err)
	}
	b := storetest.Batch("acme", "ssh", storetest.Event("acme", "ssh", storetest.T0, "h", "u", "10.0.0.1"))
	b.Correlation = []byte("matches")
	if _, err := db.Commit(ctx, []*store.Batch{b}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a batch with a correlation journal entry: %v, want ErrInvalid", err)
	}
	b.Correlation = nil
	if n, err := db.Commit(ctx, []*store.Batch{b}); err != nil || n != 1 {
		t.Errorf("the same batch without: %d, %v", n, err)
	}
}

// TestOpenStatusesIndexed: the partial index on open alerts, written in
// the migration, covers the statuses package alert calls open, which the
// queries name (sqlOpenStatuses): otherwise the planner cannot use it.
func TestOpenStatusesIndexed(t *testing.T) {
	db := openTest(t, Options{})
	var def string
	if err := db.pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = 'alerts_dedup' AND schemaname = current_schema()`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	for _, s := range alert.OpenStatuses() {
		if !strings.Contains(def, "'"+string(s)+"'") {
			t.Errorf("alerts_dedup (%s) leaves out the open status %s", def, s)
		}
	}
}
