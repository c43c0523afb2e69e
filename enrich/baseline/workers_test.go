package baseline_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/enrich"
	"github.com/vigil-sec/vigil/enrich/baseline"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/internal/teststore"
	"github.com/vigil-sec/vigil/store"
)

// Detect workers of a split deployment each learn a workspace's baselines
// from their share of the events, on one store (SQLite, or PostgreSQL with
// VIGIL_TEST_STORE=postgres). These tests hold them to one worker's
// learning over all the events.

// baselineDB is what the baselines need of the store.
type baselineDB interface {
	LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (store.Baseline, error)
	SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) (int64, error)
}

// storeOf hands the baselines' entries to and from the store (as
// cmd/vigil does).
type storeOf struct{ db baselineDB }

func (s storeOf) LoadBaseline(ctx context.Context, ws, model string, after int64, limit int) (baseline.Snapshot, error) {
	b, err := s.db.LoadBaseline(ctx, ws, model, after, limit)
	out := baseline.Snapshot{Started: b.Started, Rev: b.Rev}
	for _, r := range b.Entries {
		out.Entries = append(out.Entries, baseline.Entry{Entity: r.Entity, Value: r.Value, Count: r.Count, Max: r.Max, First: r.First, Last: r.Last})
	}
	return out, err
}

func (s storeOf) SaveBaseline(ctx context.Context, ws, model string, started time.Time, entries []baseline.Entry, purge time.Time) (int64, error) {
	rows := make([]store.BaselineEntry, len(entries))
	for i, e := range entries {
		rows[i] = store.BaselineEntry{Entity: e.Entity, Value: e.Value, Count: e.Count, Max: e.Max, First: e.First, Last: e.Last}
	}
	return s.db.SaveBaseline(ctx, ws, model, started, rows, purge)
}

var (
	start = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	dict  = event.NewDict("application_name", "response_rows", baseline.FieldFirstSeen, baseline.FieldRare,
		baseline.FieldVolume, baseline.FieldLearning)
)

// statement is a SQL Server statement of user on server from ip by app
// that read rows.
func statement(at time.Time, server, user, ip, app string, rows int) *event.Event {
	ev := &event.Event{Time: at, Source: "sql-src", Logsource: event.Logsource{Product: "mssql", Category: "database"}}
	ev.Fields.Bind(dict)
	ev.Common[event.HostName] = server
	ev.Common[event.UserName] = user
	ev.Common[event.SourceIP] = ip
	ev.Common[event.EventOutcome] = "success"
	id, _ := dict.ID("application_name")
	ev.Fields.Set(id, app)
	id, _ = dict.ID("response_rows")
	ev.Fields.Set(id, fmt.Sprint(rows))
	return ev
}

// traffic is n statements over three days, in time order, of a few
// servers, principals (in two spellings: the principal model folds case),
// addresses and applications, drawn from seed.
func traffic(seed uint64, n int) []*event.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	users := []string{"webapp", "WebApp", "report", "dba", "CORP\\alice", "corp\\bob", "etl"}
	apps := []string{"webshop", "excel", "ssms", "sqlcmd"}
	out := make([]*event.Event, n)
	for i := range out {
		at := start.Add(time.Duration(i) * 3 * 24 * time.Hour / time.Duration(n))
		out[i] = statement(at, fmt.Sprintf("db%d", r.IntN(3)), users[r.IntN(len(users))],
			fmt.Sprintf("10.0.%d.%d", r.IntN(2), r.IntN(12)), apps[r.IntN(len(apps))], 10+r.IntN(5000))
	}
	return out
}

func newWorker(t *testing.T, db baselineDB, ws string) *baseline.Enricher {
	t.Helper()
	e, err := baseline.New(baseline.Config{Workspace: ws, Learning: 24 * time.Hour, Store: storeOf{db}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// enrichAll runs evs through e.
func enrichAll(t *testing.T, e *baseline.Enricher, evs []*event.Event) {
	t.Helper()
	for _, ev := range evs {
		r := &enrich.Result{}
		r.Reset(ev.Time)
		e.Enrich(ev, r)
	}
}

// stored is every model of ws as the store holds it, entries sorted.
func stored(t *testing.T, db baselineDB, ws string) map[string]store.Baseline {
	t.Helper()
	out := map[string]store.Baseline{}
	for _, m := range baseline.Defaults {
		b, err := db.LoadBaseline(context.Background(), ws, m.Name, 0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(b.Entries, func(x, y store.BaselineEntry) int {
			return cmp.Or(cmp.Compare(x.Entity, y.Entity), cmp.Compare(x.Value, y.Value))
		})
		b.Rev = 0 // how many saves made it differs
		out[m.Name] = b
	}
	return out
}

// sameStored fails t where got's models differ from want's.
func sameStored(t *testing.T, got, want map[string]store.Baseline) {
	t.Helper()
	for model, w := range want {
		g := got[model]
		if !g.Started.Equal(w.Started) {
			t.Errorf("%s: started %v, want %v", model, g.Started, w.Started)
		}
		if !slices.Equal(g.Entries, w.Entries) {
			t.Errorf("%s: %d entries\n%+v\nwant %d\n%+v", model, len(g.Entries), g.Entries, len(w.Entries), w.Entries)
		}
	}
}

// anomalies is what e finds in ev, in a comparable form.
func anomalies(e *baseline.Enricher, ev *event.Event) []string {
	r := &enrich.Result{}
	r.Reset(ev.Time)
	e.Enrich(ev, r)
	var out []string
	for _, a := range r.Anomalies {
		out = append(out, fmt.Sprintf("%s %s %s/%s seen %d", a.Model, a.Kind, a.Entity, a.Value, a.Seen))
	}
	slices.Sort(out)
	return out
}

func TestTwoWorkersLearnAsOne(t *testing.T) {
	ctx := context.Background()
	db := teststore.Open[baselineDB](t)
	evs := traffic(15, 3000)

	one := newWorker(t, db, "one")
	enrichAll(t, one, evs)
	if err := one.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Two workers, the events split between them as a queue would (at
	// random), syncing every 100 events (serve: every 30 seconds).
	a, b := newWorker(t, db, "two"), newWorker(t, db, "two")
	r := rand.New(rand.NewPCG(7, 7))
	for i, ev := range evs {
		w := a
		if r.IntN(2) == 1 {
			w = b
		}
		enrichAll(t, w, []*event.Event{ev})
		if i%100 == 99 {
			for _, w := range []*baseline.Enricher{a, b} {
				if err := w.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, w := range []*baseline.Enricher{a, b} {
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := stored(t, db, "one")
	if n := len(want["sql.principal"].Entries); n < 10 {
		t.Fatalf("one worker learnt %d principals: the traffic is too thin to tell", n)
	}
	sameStored(t, stored(t, db, "two"), want)

	// Synced, each worker knows what one worker knows: the same values
	// and counts, so the same verdicts — first seen, rare, volume — on
	// what comes next.
	for _, w := range []*baseline.Enricher{a, b} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, w := range map[string]*baseline.Enricher{"a": a, "b": b, "a new worker": newWorker(t, db, "two")} {
		if got, want := w.Status(), one.Status(); !slices.Equal(got, want) {
			t.Errorf("%s: status %+v\nwant %+v", name, got, want)
		}
	}
	later := evs[len(evs)-1].Time.Add(time.Hour)
	probes := []*event.Event{
		statement(later, "db1", "intruder", "10.0.0.1", "webshop", 100),  // a new principal
		statement(later, "db2", "WEBAPP", "10.0.1.11", "excel", 100),     // known, in other case
		statement(later, "db0", "etl", "203.0.113.9", "python", 100),     // a new address and application
		statement(later, "db0", "dba", "10.0.0.3", "ssms", 4_000_000),    // far more rows than dba read
		statement(later, "db1", "report", "10.0.1.4", "sqlcmd", 49_000),  // under ten times report's largest
		statement(later, "db2", "corp\\alice", "10.0.0.7", "webshop", 1), // a known domain
	}
	flagged := 0
	for i, ev := range probes {
		want := anomalies(one, ev)
		flagged += len(want)
		if got := anomalies(a, ev); !slices.Equal(got, want) {
			t.Errorf("probe %d: worker a finds %v, one worker %v", i, got, want)
		}
	}
	if flagged == 0 {
		t.Fatal("no probe flagged anything: the comparison proves nothing")
	}
}

// A worker killed between syncs loses what it learnt since its last save,
// and nothing else: the store holds one worker's learning over every
// event but those.
func TestKilledWorkerLosesOnlyItsUnsavedLearning(t *testing.T) {
	ctx := context.Background()
	db := teststore.Open[baselineDB](t)
	evs := traffic(16, 1200)
	a, b := newWorker(t, db, "two"), newWorker(t, db, "two")
	var lost []*event.Event
	for i, ev := range evs {
		switch {
		case i < 600 && i%2 == 0:
			enrichAll(t, a, []*event.Event{ev})
		case i < 600:
			enrichAll(t, b, []*event.Event{ev})
		case i < 700 && i%2 == 0:
			enrichAll(t, a, []*event.Event{ev}) // after a's last save
			lost = append(lost, ev)
		default:
			enrichAll(t, b, []*event.Event{ev})
		}
		if i == 599 {
			for _, w := range []*baseline.Enricher{a, b} {
				if err := w.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if i == 699 {
			a = nil // SIGKILL: no flush
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	one := newWorker(t, db, "one")
	var kept []*event.Event
	for _, ev := range evs {
		if !slices.Contains(lost, ev) {
			kept = append(kept, ev)
		}
	}
	enrichAll(t, one, kept)
	if err := one.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameStored(t, stored(t, db, "two"), stored(t, db, "one"))
}

// BenchmarkSyncTwoWorkers: two workers each learn 500 statements (new
// and known addresses, applications, principals), then each saves its
// deltas (flush) and reads the other's (sync), per op; on the suite's
// store. flush-sync is the cost of reading back.
func BenchmarkSyncTwoWorkers(b *testing.B) {
	for _, read := range []bool{false, true} {
		name := "flush"
		if read {
			name = "sync"
		}
		b.Run(name, func(b *testing.B) { benchmarkWorkers(b, read) })
	}
}

func benchmarkWorkers(b *testing.B, read bool) {
	ctx := context.Background()
	db := teststore.Open[baselineDB](b)
	workers := make([]*baseline.Enricher, 2)
	for i := range workers {
		e, err := baseline.New(baseline.Config{Workspace: "w", Learning: -1, Store: storeOf{db}})
		if err != nil {
			b.Fatal(err)
		}
		workers[i] = e
	}
	evs := traffic(17, 1000)
	r := rand.New(rand.NewPCG(1, 2))
	at := start
	for b.Loop() {
		for _, w := range workers {
			for range 500 {
				at = at.Add(time.Second)
				ev := *evs[r.IntN(len(evs))]
				ev.Time = at
				ev.Common[event.SourceIP] = fmt.Sprintf("10.1.%d.%d", r.IntN(20), r.IntN(250))
				res := &enrich.Result{}
				res.Reset(at)
				w.Enrich(&ev, res)
			}
		}
		for _, w := range workers {
			sync := w.Flush
			if read {
				sync = w.Sync
			}
			if err := sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
