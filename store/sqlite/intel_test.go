package sqlite

import (
	"database/sql"
	"errors"
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

func TestFeedSettingsAndStatus(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	if err := db.PutFeed(ctx, store.Feed{Workspace: "nobody", Name: "f", Format: "plain"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("feed of a missing workspace: err = %v, want ErrNotFound", err)
	}
	for _, bad := range []store.Feed{{Name: "a/b", Format: "plain"}, {Name: "", Format: "plain"}, {Name: "f"}, {Name: "f", Format: "plain", Confidence: 101}} {
		bad.Workspace = "acme"
		if err := db.PutFeed(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutFeed(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	f := store.Feed{Workspace: "acme", Name: "feodo", Format: "csv", Source: "https://example.org/feodo.csv", Interval: time.Hour,
		ThreatType: intel.ThreatC2, Confidence: 75, TLP: "clear", Enabled: true}
	if err := db.PutFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := db.Feed(ctx, "acme", "feodo")
	if err != nil || got.Format != "csv" || got.Interval != time.Hour || got.ThreatType != intel.ThreatC2 || got.Confidence != 75 || !got.Enabled || got.LastAttempt != nil {
		t.Fatalf("Feed = %+v, %v", got, err)
	}

	attempt := clock.now()
	probs := make([]intel.Problem, store.MaxFeedProblems+5)
	for i := range probs {
		probs[i] = intel.Problem{Where: fmt.Sprintf("line %d", i+1), Reason: "not an address"}
	}
	err = db.ReplaceFeedIndicators(ctx, "acme", "feodo", []intel.Indicator{ipInd("192.0.2.1"), ipInd("192.0.2.2"), ipInd("192.0.2.1")},
		store.Fetch{Attempt: attempt, ProblemCount: len(probs), Problems: probs, ETag: `"v1"`})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "acme", "feodo")
	if got.Indicators != 2 || got.LastSuccess == nil || !got.LastSuccess.Equal(attempt) || got.ProblemCount != len(probs) ||
		len(got.Problems) != store.MaxFeedProblems || got.Problems[0].Where != "line 1" || got.ETag != `"v1"` {
		t.Errorf("after a replace: %+v (want 2 indicators, the duplicate merged; %d problems, the first %d kept)", got, len(probs), store.MaxFeedProblems)
	}

	// A failure keeps the last success and the indicators.
	clock.set(t0.Add(time.Hour))
	if err := db.SetFeedStatus(ctx, "acme", "feodo", store.Fetch{Attempt: clock.now(), Err: "GET: 500 Internal Server Error"}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "acme", "feodo")
	if got.LastError == "" || !got.LastSuccess.Equal(attempt) || !got.LastAttempt.Equal(clock.now()) || got.Indicators != 2 {
		t.Errorf("after a failure: %+v", got)
	}
	// Unchanged: a success that clears the error and keeps the ETag.
	clock.set(t0.Add(2 * time.Hour))
	if err := db.SetFeedStatus(ctx, "acme", "feodo", store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "acme", "feodo")
	if got.LastError != "" || !got.LastSuccess.Equal(clock.now()) || got.ETag != `"v1"` || got.ProblemCount != len(probs) {
		t.Errorf("after an unchanged fetch: %+v", got)
	}
	// Changing the settings keeps the status.
	f.Interval = 2 * time.Hour
	if err := db.PutFeed(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "acme", "feodo")
	if got.Interval != 2*time.Hour || got.Indicators != 2 || got.LastSuccess == nil {
		t.Errorf("after a settings change: %+v", got)
	}
	if err := db.SetFeedStatus(ctx, "acme", "nope", store.Fetch{Attempt: clock.now()}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of a missing feed: %v", err)
	}
	if err := db.DeleteFeed(ctx, "acme", "feodo"); err != nil {
		t.Fatal(err)
	}
	if n := len(allIndicators(t, db, "acme", store.IndicatorQuery{})); n != 0 {
		t.Errorf("a deleted feed left %d indicators", n)
	}
}

func TestReplaceAndAddIndicators(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	mustFeed(t, db, "acme", "list")
	if err := db.ReplaceFeedIndicators(ctx, "acme", "missing", []intel.Indicator{ipInd("192.0.2.1")}, store.Fetch{Attempt: clock.now()}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replace in a missing feed: %v", err)
	}
	var first []intel.Indicator
	for i := range 250 {
		first = append(first, ipInd(fmt.Sprintf("198.51.100.%d", i)))
	}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", first, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	got := allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "list", Limit: 100})
	if len(got) != 250 || got[0].Value != "198.51.100.0" || got[0].Feed != "list" || got[0].ThreatType != intel.ThreatC2 {
		t.Fatalf("paged %d indicators, first %+v", len(got), got[0])
	}
	second := []intel.Indicator{ipInd("203.0.113.9"), {Kind: intel.KindCIDR, Value: "203.0.113.0/24", ThreatType: intel.ThreatScanner, ValidUntil: t0.Add(time.Hour)}}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", second, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	got = allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "list"})
	if len(got) != 2 || got[1].Kind != intel.KindCIDR || !got[1].ValidUntil.Equal(t0.Add(time.Hour)) {
		t.Errorf("after the second replace: %+v", got)
	}
	if hit := allIndicators(t, db, "acme", store.IndicatorQuery{Value: "198.51.100.7"}); len(hit) != 0 {
		t.Errorf("an indicator of the old set is still there: %+v", hit)
	}
	// A replace that fails half-way leaves the old set.
	bad := []intel.Indicator{ipInd("192.0.2.50"), {Kind: intel.KindIP}}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", bad, store.Fetch{Attempt: clock.now()}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("replace with an empty value: %v, want ErrInvalid", err)
	}
	if got := allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "list"}); len(got) != 2 {
		t.Errorf("after a failed replace: %d indicators, want the 2 of before", len(got))
	}

	mustFeed(t, db, "acme", "manual")
	n, err := db.AddIndicators(ctx, "acme", "manual", []intel.Indicator{ipInd("192.0.2.7"), {Kind: intel.KindDomain, Value: "evil.example", ThreatType: intel.ThreatPhishing}})
	if err != nil || n != 2 {
		t.Fatalf("AddIndicators = %d, %v", n, err)
	}
	upd := ipInd("192.0.2.7")
	upd.Confidence = 10
	if n, err = db.AddIndicators(ctx, "acme", "manual", []intel.Indicator{upd}); err != nil || n != 2 {
		t.Fatalf("AddIndicators of a known value = %d, %v; want 2", n, err)
	}
	hit := allIndicators(t, db, "acme", store.IndicatorQuery{Value: "192.0.2.7"})
	if len(hit) != 1 || hit[0].Confidence != 10 {
		t.Errorf("the added indicator was not replaced: %+v", hit)
	}
	if f, _ := db.Feed(ctx, "acme", "manual"); f.Indicators != 2 {
		t.Errorf("manual feed count = %d", f.Indicators)
	}
	if _, _, err := db.Indicators(ctx, "acme", store.IndicatorQuery{Cursor: "garbage"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestPurgeIndicators(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	mustFeed(t, db, "acme", "list")
	expired := ipInd("192.0.2.1")
	expired.ValidUntil = t0.Add(-time.Minute)
	revoked := ipInd("192.0.2.2")
	revoked.Revoked = true
	later := ipInd("192.0.2.3")
	later.ValidUntil = t0.Add(time.Hour)
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", []intel.Indicator{expired, revoked, later, ipInd("192.0.2.4")}, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeIndicators(ctx, t0)
	if err != nil || n != 2 {
		t.Fatalf("PurgeIndicators = %d, %v; want 2 (the expired and the revoked)", n, err)
	}
	got := allIndicators(t, db, "acme", store.IndicatorQuery{})
	if len(got) != 2 || got[0].Value != "192.0.2.3" || got[1].Value != "192.0.2.4" {
		t.Errorf("left: %+v", got)
	}
	if f, _ := db.Feed(ctx, "acme", "list"); f.Indicators != 2 {
		t.Errorf("count after the purge = %d, want 2", f.Indicators)
	}
}

// Two workspaces with feeds of the same name and the same values: neither
// sees, replaces nor purges the other's.
func TestIntelWorkspaceIsolation(t *testing.T) {
	db, clock := openTest(t)
	for _, ws := range []string{"a", "b"} {
		mustWorkspace(t, db, ws)
		mustFeed(t, db, ws, "drop")
	}
	if err := db.ReplaceFeedIndicators(ctx, "a", "drop", []intel.Indicator{ipInd("192.0.2.1"), ipInd("192.0.2.2")}, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceFeedIndicators(ctx, "b", "drop", []intel.Indicator{ipInd("192.0.2.1")}, store.Fetch{Attempt: clock.now(), Err: ""}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetFeedStatus(ctx, "b", "drop", store.Fetch{Attempt: clock.now(), Err: "boom"}); err != nil {
		t.Fatal(err)
	}
	fa, _ := db.Feed(ctx, "a", "drop")
	fb, _ := db.Feed(ctx, "b", "drop")
	if fa.Indicators != 2 || fa.LastError != "" || fb.Indicators != 1 || fb.LastError != "boom" {
		t.Errorf("a: %+v; b: %+v", fa, fb)
	}
	for _, ind := range allIndicators(t, db, "b", store.IndicatorQuery{}) {
		if ind.Value == "192.0.2.2" {
			t.Errorf("b sees a's indicator %+v", ind)
		}
	}
	if hit := allIndicators(t, db, "b", store.IndicatorQuery{Value: "192.0.2.2"}); len(hit) != 0 {
		t.Errorf("lookup in b found a's: %+v", hit)
	}
	if fs, _ := db.Feeds(ctx, "a"); len(fs) != 1 || fs[0].Workspace != "a" {
		t.Errorf("Feeds(a) = %+v", fs)
	}
	if fs, _ := db.Feeds(ctx, ""); len(fs) != 2 {
		t.Errorf("Feeds(every workspace) = %d feeds, want 2", len(fs))
	}
	if err := db.DeleteFeed(ctx, "b", "drop"); err != nil {
		t.Fatal(err)
	}
	if got := allIndicators(t, db, "a", store.IndicatorQuery{}); len(got) != 2 {
		t.Errorf("deleting b's feed took a's indicators: %d left", len(got))
	}
	if _, err := db.AddIndicators(ctx, "b", "drop", []intel.Indicator{ipInd("192.0.2.9")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("add to b's deleted feed: %v", err)
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
