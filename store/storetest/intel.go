package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/store"
)

// Promises of store.Intel: feeds, their status, the atomic replace of
// their indicators, additions, purges, and isolation between workspaces.

// clock is the time of the fetches these tests record (the store's own
// clock plays no part in them).
type clock struct{ t time.Time }

func newClock() *clock           { return &clock{t: T0} }
func (c *clock) now() time.Time  { return c.t }
func (c *clock) set(t time.Time) { c.t = t }

func ipInd(v string) intel.Indicator {
	return intel.Indicator{Kind: intel.KindIP, Value: v, ThreatType: intel.ThreatC2, Confidence: 80}
}

func mustFeed(t *testing.T, db store.Intel, ws, name string) {
	t.Helper()
	if err := db.PutFeed(ctx, store.Feed{Workspace: ws, Name: name, Format: "plain", Source: "https://example.org/" + name, Interval: time.Hour, Enabled: true}); err != nil {
		t.Fatal(err)
	}
}

func allIndicators(t *testing.T, db store.Intel, ws string, q store.IndicatorQuery) []intel.Indicator {
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

func testFeedSettingsAndStatus(t *testing.T, s store.Store) {
	db := as[store.Intel](t, s, "store.Intel")
	clock := newClock()
	mustWorkspace(t, s, "acme")
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
	clock.set(T0.Add(time.Hour))
	if err := db.SetFeedStatus(ctx, "acme", "feodo", store.Fetch{Attempt: clock.now(), Err: "GET: 500 Internal Server Error"}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "acme", "feodo")
	if got.LastError == "" || !got.LastSuccess.Equal(attempt) || !got.LastAttempt.Equal(clock.now()) || got.Indicators != 2 {
		t.Errorf("after a failure: %+v", got)
	}
	// Unchanged: a success that clears the error and keeps the ETag.
	clock.set(T0.Add(2 * time.Hour))
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

func testReplaceAndAddIndicators(t *testing.T, s store.Store) {
	db := as[store.Intel](t, s, "store.Intel")
	clock := newClock()
	mustWorkspace(t, s, "acme")
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
	second := []intel.Indicator{ipInd("203.0.113.9"), {Kind: intel.KindCIDR, Value: "203.0.113.0/24", ThreatType: intel.ThreatScanner, ValidUntil: T0.Add(time.Hour)}}
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", second, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	got = allIndicators(t, db, "acme", store.IndicatorQuery{Feed: "list"})
	if len(got) != 2 || got[1].Kind != intel.KindCIDR || !got[1].ValidUntil.Equal(T0.Add(time.Hour)) {
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

func testPurgeIndicators(t *testing.T, s store.Store) {
	db := as[store.Intel](t, s, "store.Intel")
	clock := newClock()
	mustWorkspace(t, s, "acme")
	mustFeed(t, db, "acme", "list")
	expired := ipInd("192.0.2.1")
	expired.ValidUntil = T0.Add(-time.Minute)
	revoked := ipInd("192.0.2.2")
	revoked.Revoked = true
	later := ipInd("192.0.2.3")
	later.ValidUntil = T0.Add(time.Hour)
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", []intel.Indicator{expired, revoked, later, ipInd("192.0.2.4")}, store.Fetch{Attempt: clock.now()}); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeIndicators(ctx, T0)
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
func testIntelIsolation(t *testing.T, s store.Store) {
	db := as[store.Intel](t, s, "store.Intel")
	clock := newClock()
	for _, ws := range []string{"a", "b"} {
		mustWorkspace(t, s, ws)
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

// testReplaceAtomic: a reader during refreshes sees one set or the other,
// whole, never a mix or a part, and the feed's count is one of the two.
func testReplaceAtomic(t *testing.T, s store.Store) {
	db := as[store.Intel](t, s, "store.Intel")
	mustWorkspace(t, s, "acme")
	mustFeed(t, db, "acme", "list")
	set := func(prefix string, n int) []intel.Indicator {
		out := make([]intel.Indicator, n)
		for i := range out {
			out[i] = ipInd(fmt.Sprintf("%s.%d.%d", prefix, i/250, i%250))
		}
		return out
	}
	a, b := set("10.1", 3000), set("10.2", 2000)
	if err := db.ReplaceFeedIndicators(ctx, "acme", "list", a, store.Fetch{Attempt: T0}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 6 {
			next := b
			if i%2 == 1 {
				next = a
			}
			if err := db.ReplaceFeedIndicators(ctx, "acme", "list", next, store.Fetch{Attempt: T0}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for reads := 0; ; reads++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if reads < 2 {
				t.Errorf("%d reads during the refreshes: the check saw nothing in between", reads)
			}
			t.Logf("%d reads during 6 refreshes", reads)
			return
		default:
		}
		page, _, err := db.Indicators(ctx, "acme", store.IndicatorQuery{Feed: "list", Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		prefix := ""
		if len(page) > 0 {
			prefix = page[0].Value[:4]
		}
		want := map[string]int{"10.1": len(a), "10.2": len(b)}[prefix]
		if len(page) != want {
			t.Fatalf("read %d indicators of set %q, want %d: a part of a set", len(page), prefix, want)
		}
		for _, ind := range page {
			if ind.Value[:4] != prefix {
				t.Fatalf("a read mixes the sets: %s and %s", prefix, ind.Value)
			}
		}
	}
}
