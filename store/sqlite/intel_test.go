package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

func ipInd(v string) intel.Indicator {
	return intel.Indicator{Kind: intel.KindIP, Value: v, ThreatType: intel.ThreatC2, Confidence: 80}
}

func mustFeed(t *testing.T, db *DB, ws, name string) {
	t.Helper()
	if err := db.PutFeed(ctx, store.Feed{Workspace: ws, Name: name, Format: "plain", Source: "https://example.org/" + name, Interval: time.Hour, Enabled: true}); err != nil {
		t.Fatal(err)
	}
}

func allIndicators(t *testing.T, db *DB, ws string, q store.IndicatorQuery) []intel.Indicator {
	t.Helper()
	var out []intel.Indicator
	for {
		page, next, err := db.Indicators(ctx, ws, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}

// A reader during a replace sees the old set or the new one, whole.
// A refresh writes in many transactions (replaceChunk is made small), yet
// a reader, by the store's own query or by SQL on the current generation,
// sees the old indicators or the new ones, whole, never a mix or a part.
func TestReplaceIsAtomicForReaders(t *testing.T) {
	defer func(n int) { replaceChunk = n }(replaceChunk)
	replaceChunk = 64
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	mustFeed(t, db, "acme", "list")
	set := func(prefix string) []intel.Indicator {
		var out []intel.Indicator
		for i := range 500 {
			out = append(out, ipInd(fmt.Sprintf("%s.%d.%d", prefix, i/250, i%250)))
		}
		return out
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", set("10.0"), store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(2)
	var torn, reads atomic.Int64
	seen := map[string]bool{}
	var seenMu sync.Mutex
	go func() {
		defer wg.Done()
		for !stop.Load() {
			var n int
			if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators i WHERE i.workspace = 'acme' AND `+currentGen).Scan(&n); err != nil {
				return
			}
			if n != 500 {
				torn.Add(1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for !stop.Load() {
			inds, _, err := db.Indicators(ctx, "acme", store.IndicatorQuery{Feed: "list", Limit: 1000})
			if err != nil {
				return
			}
			reads.Add(1)
			prefixes := map[string]bool{}
			for _, ind := range inds {
				prefixes[ind.Value[:strings.LastIndexByte(ind.Value[:strings.LastIndexByte(ind.Value, '.')], '.')]] = true
			}
			if len(inds) != 500 || len(prefixes) != 1 {
				torn.Add(1)
				continue
			}
			seenMu.Lock()
			for p := range prefixes {
				seen[p] = true
			}
			seenMu.Unlock()
		}
	}()
	for i := range 10 {
		if err := db.ReplaceFeedIndicators(ctx, "acme", "list", set(fmt.Sprintf("10.%d", i+1)), store.Fetch{Attempt: clock.now()}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // let the readers see this generation
	}
	stop.Store(true)
	wg.Wait()
	if torn.Load() > 0 {
		t.Errorf("a reader saw a partial or mixed set %d times (of %d reads)", torn.Load(), reads.Load())
	}
	if len(seen) < 2 {
		t.Errorf("the readers saw generations %v: the test did not read during the refreshes", seen)
	}
	// Only the current generation is left in the table.
	var rows int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators`).Scan(&rows); err != nil || rows != 500 {
		t.Errorf("%d rows after the refreshes (%v), want the 500 of the last", rows, err)
	}
	if f, _ := db.Feed(ctx, "acme", "list"); f.Indicators != 500 {
		t.Errorf("feed counts %d indicators", f.Indicators)
	}
}

// Event commits take the writer between a refresh's chunks: while a
// refresh of many indicators runs, commits keep completing, each waiting
// far less than the refresh takes. Written in one transaction (the old
// way), every commit made meanwhile would wait for the whole refresh.
func TestReplaceLetsCommitsInterleave(t *testing.T) {
	defer func(n int) { replaceChunk = n }(replaceChunk)
	replaceChunk = 500
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	mustFeed(t, db, "acme", "big")
	var inds []intel.Indicator
	for i := range 30000 {
		inds = append(inds, ipInd(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)))
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "big", inds, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	started, done, stopCommits := make(chan struct{}), make(chan struct{}), make(chan struct{})
	type commitTime struct{ at, wait time.Duration }
	var commits []commitTime
	var commitErr error
	t0 := time.Now()
	go func() {
		defer close(done)
		close(started)
		for {
			select {
			case <-stopCommits:
				return
			case <-time.After(time.Millisecond):
			}
			start := time.Now()
			if _, err := db.Commit(ctx, []*store.Batch{batch("acme", "src", ev("acme", "src", clock.now(), "h", "u", "192.0.2.1"))}); err != nil {
				commitErr = err
				return
			}
			commits = append(commits, commitTime{start.Sub(t0), time.Since(start)})
		}
	}()
	<-started
	rStart := time.Since(t0)
	if err := db.ReplaceFeedIndicators(ctx, "acme", "big", inds, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	rEnd := time.Since(t0)
	close(stopCommits)
	<-done
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	during, maxWait := 0, time.Duration(0)
	for _, c := range commits {
		if c.at >= rStart && c.at+c.wait <= rEnd {
			during++
		}
		if c.at < rEnd && c.wait > maxWait {
			maxWait = c.wait
		}
	}
	t.Logf("refresh of %d indicators took %v; %d commits completed during it, the longest waited %v", len(inds), (rEnd - rStart).Round(time.Millisecond), during, maxWait.Round(time.Millisecond))
	if during < 3 || maxWait > (rEnd-rStart)/2 {
		t.Errorf("commits did not interleave with the refresh: %d completed during it, the longest waited %v of %v", during, maxWait, rEnd-rStart)
	}
}

// A store of schema version 6 upgrades to 7: its rows stay, and feeds and
// indicators can be kept.
func TestMigrateFromVersion6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	raw, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`)
	for v := 1; v <= 6; v++ {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1].sql); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
		if f := migrations[v-1].fill; f != nil {
			if err := f(ctx, tx, t0); err != nil {
				t.Fatalf("migration %d: %v", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO workspaces (name, tier, created) VALUES ('acme', 'standard', 0)`)
	if _, err := raw.ExecContext(ctx, `SELECT 1 FROM intel_feeds`); err == nil {
		t.Fatal("a version 6 store already has intel_feeds")
	}
	raw.Close()

	db := openAt(t, path, Options{})
	vs := schemaVersions(t, db)
	if len(vs) < 7 || vs[6] != 7 {
		t.Fatalf("versions after upgrade = %v, want 7 among them", vs)
	}
	if _, err := db.Workspace(ctx, "acme"); err != nil {
		t.Fatalf("workspace of version 6: %v", err)
	}
	mustFeed(t, db, "acme", "drop")
	if err := db.ReplaceFeedIndicators(ctx, "acme", "drop", []intel.Indicator{ipInd("192.0.2.1")}, store.Fetch{Attempt: t0}); err != nil {
		t.Fatal(err)
	}
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{Value: "192.0.2.1"}); len(got) != 1 {
		t.Errorf("indicator after upgrade: %+v", got)
	}
}

// BenchmarkReplaceFeedIndicators replaces a feed of 100,000 indicators
// (one in three a range) in one transaction, as a refresh does.
func BenchmarkReplaceFeedIndicators(b *testing.B) {
	db := openAt(b, filepath.Join(b.TempDir(), "vigil.db"), Options{})
	if _, err := db.CreateWorkspace(ctx, "acme", "standard"); err != nil {
		b.Fatal(err)
	}
	if err := db.PutFeed(ctx, store.Feed{Workspace: "acme", Name: "big", Format: "plain", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	inds := make([]intel.Indicator, 100000)
	for i := range inds {
		if i%3 == 0 {
			inds[i] = intel.Indicator{Kind: intel.KindCIDR, Value: fmt.Sprintf("10.%d.%d.0/24", i>>16&255, i>>8&255), ThreatType: intel.ThreatBotnet, Confidence: 80}
		} else {
			inds[i] = intel.Indicator{Kind: intel.KindIP, Value: fmt.Sprintf("11.%d.%d.%d", i>>16&255, i>>8&255, i&255), ThreatType: intel.ThreatScanner, Confidence: 60}
		}
	}
	b.ResetTimer()
	for range b.N {
		if err := db.ReplaceFeedIndicators(ctx, "acme", "big", inds, store.Fetch{Attempt: t0}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(inds)), "ns/indicator")
}

// Rows a refresh left behind (a crash between its chunks) are of a
// generation that is not current: readers and counts never see them, and
// the next refresh deletes them.
func TestUnfinishedGenerationIsInvisibleAndCleared(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	mustFeed(t, db, "acme", "list")
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", []intel.Indicator{ipInd("192.0.2.1")}, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	err := db.write(ctx, "stage", func(tx *sql.Tx) error {
		return insertIndicators(ctx, tx, "acme", "list", 99, []intel.Indicator{ipInd("198.51.100.7"), ipInd("192.0.2.1")}, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{}); len(got) != 1 || got[0].Value != "192.0.2.1" {
		t.Fatalf("indicators with an unfinished generation in the table: %+v", got)
	}
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{Value: "198.51.100.7"}); len(got) != 0 {
		t.Fatalf("lookup by value found the unfinished generation: %+v", got)
	}
	if n, err := db.AddIndicators(ctx, "acme", "list", []intel.Indicator{ipInd("203.0.113.5")}); err != nil || n != 2 {
		t.Fatalf("AddIndicators: %d, %v; want 2 (the current generation's)", n, err)
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", []intel.Indicator{ipInd("203.0.113.9")}, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM intel_indicators`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("%d rows after the next refresh (%v), want its 1", rows, err)
	}
}

// A store of schema version 8 upgrades to 9: the feeds' indicators stay
// visible (generation 0), a refresh replaces them, and assets can be kept.
func TestMigrateFromVersion8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	raw, err := sql.Open("sqlite", dsn(path, "immediate", false))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 8; v++ {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1].sql); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
		if f := migrations[v-1].fill; f != nil {
			if err := f(ctx, tx, t0); err != nil {
				t.Fatalf("migration %d: %v", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, v); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO workspaces (name, tier, created) VALUES ('acme', 'standard', 0)`,
		`INSERT INTO intel_feeds (workspace, name, format, created, indicators) VALUES ('acme', 'old', 'plain', 0, 1)`,
		`INSERT INTO intel_indicators (workspace, feed, kind, value, doc) VALUES ('acme', 'old', 'ip', '192.0.2.1', '{"kind":"ip","value":"192.0.2.1","feed":"old"}')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := openAt(t, path, Options{})
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "old"}); len(got) != 1 || got[0].Value != "192.0.2.1" {
		t.Fatalf("after the upgrade: %+v", got)
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "old", []intel.Indicator{ipInd("198.51.100.1")}, store.Fetch{Attempt: t0}); err != nil {
		t.Fatal(err)
	}
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "old"}); len(got) != 1 || got[0].Value != "198.51.100.1" {
		t.Fatalf("after a refresh: %+v", got)
	}
	if err := db.CreateAsset(ctx, store.Asset{Workspace: "acme", Name: "web", Type: store.AssetHost}); err != nil {
		t.Fatal(err)
	}
}
