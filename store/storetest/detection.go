package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Promises of what `vigil serve` asks of a store beyond store.Store:
// asset inventories, baselines, rules turned off and the correlation
// journal. Every implementation has them (cmd/vigil's backend); a store
// that lacks one fails here rather than being skipped.

// RuleState is the rule switch (analysis.DisabledRuleLookup and the API's
// rule changes).
type RuleState interface {
	DisabledRules(ctx context.Context, workspace string) ([]store.DisabledRule, error)
	SetRuleEnabled(ctx context.Context, workspace, rule string, enabled bool, actor string) (bool, error)
}

// Baselines keep the behavioural baselines (enrich/baseline's store).
type Baselines interface {
	LoadBaseline(ctx context.Context, workspace, model string, after int64, limit int) (store.Baseline, error)
	SaveBaseline(ctx context.Context, workspace, model string, started time.Time, entries []store.BaselineEntry, purge time.Time) (int64, error)
}

// CorrelationStates is analysis.CorrelationStates.
type CorrelationStates interface {
	CorrelationState(ctx context.Context) ([]byte, int64, error)
	SaveCorrelationState(ctx context.Context, data []byte, journalSeq int64) error
	CorrelationJournal(ctx context.Context, afterSeq int64) ([]store.JournalEntry, error)
}

// EventReader reads events by id in one call (the API's evidence pages).
type EventReader interface {
	EventsByID(ctx context.Context, workspace string, ids []event.ID) (map[event.ID]store.StoredEvent, error)
}

// as is s as a T, or the test fails saying what s lacks.
func as[T any](t *testing.T, s store.Store, what string) T {
	t.Helper()
	v, ok := s.(T)
	if !ok {
		t.Fatalf("the store (%T) does not implement %s", s, what)
	}
	return v
}

func testAssets(t *testing.T, s store.Store) {
	db := as[store.Assets](t, s, "store.Assets")
	mustWorkspace(t, s, "acme", "other")
	web := store.Asset{Workspace: "acme", Name: "web-1.corp.example", Type: store.AssetHost, Match: []string{"10.0.0.5"},
		Criticality: "High", Owner: "web team", Environment: "prod", Tags: []string{"pci"}}
	if err := db.CreateAsset(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAsset(ctx, web); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	if err := db.CreateAsset(ctx, store.Asset{Workspace: "nope", Name: "x", Type: store.AssetHost}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("create in a missing workspace: %v, want ErrNotFound", err)
	}
	got, err := db.Asset(ctx, "acme", web.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Criticality != "high" || !slices.Equal(got.Match, web.Match) || !slices.Equal(got.Tags, web.Tags) || got.Owner != "web team" || got.Updated.IsZero() {
		t.Fatalf("stored asset = %+v", got)
	}
	if _, err := db.Asset(ctx, "other", web.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another workspace sees the asset: %v", err)
	}
	if err := db.DeleteAsset(ctx, "other", web.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another workspace deletes the asset: %v", err)
	}

	net := store.Asset{Workspace: "acme", Name: "dmz", Type: store.AssetNetwork, Match: []string{"192.0.2.77/24"}, Criticality: "critical"}
	created, err := db.PutAsset(ctx, net)
	if err != nil || !created {
		t.Fatalf("put new: created %v, %v", created, err)
	}
	net.Owner, net.Tags = "netops", []string{"edge"}
	if created, err := db.PutAsset(ctx, net); err != nil || created {
		t.Fatalf("put existing: created %v, %v", created, err)
	}
	got, _ = db.Asset(ctx, "acme", "dmz")
	if got.Owner != "netops" || !slices.Equal(got.Match, []string{"192.0.2.0/24"}) || !slices.Equal(got.Tags, []string{"edge"}) {
		t.Fatalf("replaced network = %+v (the range is kept masked)", got)
	}

	for _, bad := range []store.Asset{
		{Workspace: "acme", Name: "", Type: store.AssetHost},
		{Workspace: "acme", Name: "x", Type: "printer"},
		{Workspace: "acme", Name: "x", Type: store.AssetHost, Criticality: "extreme"},
		{Workspace: "acme", Name: "lan", Type: store.AssetNetwork},
		{Workspace: "acme", Name: "lan", Type: store.AssetNetwork, Match: []string{"10.0.0.0/8", "not a range"}},
	} {
		if _, err := db.PutAsset(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutAsset(%+v) = %v, want ErrInvalid", bad, err)
		}
	}

	if _, err := db.PutAsset(ctx, store.Asset{Workspace: "acme", Name: web.Name, Type: store.AssetHost}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Asset(ctx, "acme", web.Name); len(got.Match) != 0 || len(got.Tags) != 0 || got.Owner != "" || got.Criticality != "" {
		t.Fatalf("put replaces every field: %+v", got)
	}
	if err := db.CreateAsset(ctx, store.Asset{Workspace: "other", Name: "theirs", Type: store.AssetHost}); err != nil {
		t.Fatal(err)
	}
	list, _ := db.Assets(ctx, "acme")
	if len(list) != 2 || list[0].Name != "dmz" || list[1].Name != web.Name {
		t.Fatalf("assets = %+v", list)
	}
	err = db.ReplaceAssets(ctx, "acme", []store.Asset{{Name: "db-1", Type: store.AssetDatabase}, {Name: "db-1", Type: store.AssetDatabase}})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("replace with a name twice: %v", err)
	}
	if list, _ := db.Assets(ctx, "acme"); len(list) != 2 {
		t.Fatalf("a refused replace changed the inventory: %+v", list)
	}
	if err := db.ReplaceAssets(ctx, "nope", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replace in a missing workspace: %v, want ErrNotFound", err)
	}
	if err := db.ReplaceAssets(ctx, "acme", []store.Asset{{Name: "db-1", Type: store.AssetDatabase, Criticality: "medium"}}); err != nil {
		t.Fatal(err)
	}
	list, _ = db.Assets(ctx, "acme")
	if len(list) != 1 || list[0].Name != "db-1" || list[0].Workspace != "acme" || list[0].Criticality != "medium" {
		t.Fatalf("after replace: %+v", list)
	}
	if list, _ := db.Assets(ctx, "other"); len(list) != 1 || list[0].Name != "theirs" {
		t.Fatalf("a replace in acme changed other's inventory: %+v", list)
	}
	if err := db.DeleteAsset(ctx, "acme", "db-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAsset(ctx, "acme", "db-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testBaseline(t *testing.T, s store.Store) {
	db := as[Baselines](t, s, "LoadBaseline and SaveBaseline")
	e := func(ent, v string, n int64, first, last int) store.BaselineEntry {
		return store.BaselineEntry{Entity: ent, Value: v, Count: n, First: T0.Add(time.Duration(first) * time.Hour), Last: T0.Add(time.Duration(last) * time.Hour)}
	}
	load := func(ws, model string, after int64, limit int) store.Baseline {
		t.Helper()
		b, err := db.LoadBaseline(ctx, ws, model, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := load("w", "sql.principal", 0, 10); !b.Started.IsZero() || b.Rev != 0 || len(b.Entries) != 0 {
		t.Fatalf("empty load = %+v", b)
	}
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", T0.Add(time.Hour), []store.BaselineEntry{e("db1", "webapp", 5, 1, 10), e("db1", "dba", 1, 1, 1), e("db2", "old", 2, 1, 2)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A save is a delta: its count is added, first and last widen, and
	// an earlier start moves the model's start back, a later one not.
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", T0, []store.BaselineEntry{e("db1", "webapp", 7, 0, 12)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if rev, err := db.SaveBaseline(ctx, "w", "sql.principal", T0.Add(3*time.Hour), nil, time.Time{}); err != nil || rev != 3 {
		t.Fatalf("third save: revision %d, %v; want 3", rev, err)
	}
	// Values as logs give them: bytes that are not UTF-8 come back as
	// they went.
	if _, err := db.SaveBaseline(ctx, "x", "sql.principal", T0, []store.BaselineEntry{e("db1", "oth\xffer\x00", 1, 0, 0)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	b := load("w", "sql.principal", 0, 2)
	if !b.Started.Equal(T0) || b.Rev != 3 {
		t.Errorf("started, rev = %v, %d; want %v, 3 (three saves)", b.Started, b.Rev, T0)
	}
	want := []store.BaselineEntry{e("db1", "webapp", 12, 0, 12), e("db2", "old", 2, 1, 2)}
	if !slices.Equal(b.Entries, want) {
		t.Fatalf("load (limit 2, most recent first) = %+v, want %+v", b.Entries, want)
	}
	// A load after a revision returns only what was saved since.
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", time.Time{}, []store.BaselineEntry{e("db2", "old", 1, 4, 4)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	b = load("w", "sql.principal", 3, 10)
	if want := []store.BaselineEntry{e("db2", "old", 3, 1, 4)}; b.Rev != 4 || !slices.Equal(b.Entries, want) || !b.Started.Equal(T0) {
		t.Fatalf("load after revision 3 = %+v, want revision 4 and %+v", b, want)
	}
	if b := load("w", "sql.principal", 4, 10); b.Rev != 4 || len(b.Entries) != 0 {
		t.Fatalf("load after the last revision = %+v, want nothing", b)
	}
	// A volume model's largest amount: the larger of the two, wherever
	// it was saved from; an entry of a value twice in one save (a failed
	// save retried beside newer learning) counts both.
	peak := func(n int64, last int) store.BaselineEntry {
		x := e("db1/alice", "peak", n, last, last)
		x.Max = true
		return x
	}
	for _, save := range [][]store.BaselineEntry{{peak(500, 1)}, {peak(300, 2)}, {peak(900, 3), peak(700, 4)}} {
		if _, err := db.SaveBaseline(ctx, "w", "sql.rows_read", T0, save, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", time.Time{}, []store.BaselineEntry{e("db1", "dba", 1, 5, 5), e("db1", "dba", 2, 6, 6)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if b := load("w", "sql.rows_read", 0, 10); len(b.Entries) != 1 || b.Entries[0].Count != 900 || !b.Entries[0].First.Equal(T0.Add(time.Hour)) || !b.Entries[0].Last.Equal(T0.Add(4*time.Hour)) {
		t.Fatalf("volume model = %+v, want the largest, 900, seen from hour 1 to 4", b.Entries)
	}
	if b := load("w", "sql.principal", 4, 10); len(b.Entries) != 1 || b.Entries[0] != e("db1", "dba", 4, 1, 6) {
		t.Fatalf("a value twice in a save = %+v, want counted 1+1+2", b.Entries)
	}
	// The purge drops what was last seen before its time, in that model
	// only, before the save's values: one purged is counted afresh.
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", time.Time{}, []store.BaselineEntry{e("db2", "old", 1, 20, 20)}, T0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got := load("w", "sql.principal", 0, 10).Entries
	want = []store.BaselineEntry{e("db2", "old", 1, 20, 20), e("db1", "webapp", 12, 0, 12), e("db1", "dba", 4, 1, 6)}
	if !slices.Equal(got, want) {
		t.Fatalf("after purge = %+v, want %+v", got, want)
	}
	if b := load("w", "sql.rows_read", 0, 10); len(b.Entries) != 1 {
		t.Fatalf("a purge of sql.principal changed sql.rows_read: %+v", b.Entries)
	}
	if _, err := db.SaveBaseline(ctx, "w", "sql.principal", time.Time{}, []store.BaselineEntry{e("db1", "x", -1, 0, 0)}, time.Time{}); err == nil {
		t.Error("a negative count was saved")
	}
	if got := load("x", "sql.principal", 0, 10).Entries; len(got) != 1 || got[0].Value != "oth\xffer\x00" {
		t.Fatalf("workspace x = %+v", got)
	}
	if b := load("w", "other.model", 0, 10); len(b.Entries) != 0 || b.Rev != 0 {
		t.Fatalf("another model = %+v", b)
	}
}

// Detect workers save one model at once, each its own deltas: no save
// is lost, and the counts add up.
func testBaselineConcurrentSaves(t *testing.T, s store.Store) {
	db := as[Baselines](t, s, "LoadBaseline and SaveBaseline")
	const workers, saves = 4, 25
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := range saves {
				at := T0.Add(time.Duration(w*saves+i) * time.Minute)
				entries := []store.BaselineEntry{
					{Entity: "db1", Value: "shared", Count: 2, First: at, Last: at},
					{Entity: "db1", Value: string(rune('a' + w)), Count: 1, First: at, Last: at},
				}
				if _, err = db.SaveBaseline(ctx, "w", "m", at, entries, time.Time{}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	b, err := db.LoadBaseline(ctx, "w", "m", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if b.Rev != workers*saves || !b.Started.Equal(T0) || len(b.Entries) != workers+1 {
		t.Fatalf("rev %d, started %v, %d values; want %d, %v, %d", b.Rev, b.Started, len(b.Entries), workers*saves, T0, workers+1)
	}
	for _, e := range b.Entries {
		want := int64(saves)
		if e.Value == "shared" {
			want = 2 * workers * saves
		}
		if e.Count != want {
			t.Errorf("%s: count %d, want %d", e.Value, e.Count, want)
		}
	}
}

// A rule turned off is listed for its workspace only, with who turned it
// off and when; turned on again, it is gone; repeats change nothing.
func testDisabledRules(t *testing.T, s store.Store) {
	db := as[RuleState](t, s, "DisabledRules and SetRuleEnabled")
	mustWorkspace(t, s, "w1", "w2")
	before := time.Now().Add(-time.Second)
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", false, "user:alice"); err != nil || !changed {
		t.Fatalf("turn off: %t, %v", changed, err)
	}
	after := time.Now().Add(time.Second)
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", false, "user:bob"); err != nil || changed {
		t.Fatalf("turn off again: %t, %v (want no change)", changed, err)
	}
	got, err := db.DisabledRules(ctx, "w1")
	if err != nil || len(got) != 1 || got[0].Rule != "r1" || got[0].Actor != "user:alice" || got[0].Since.Before(before) || got[0].Since.After(after) {
		t.Fatalf("w1 disabled %+v, %v", got, err)
	}
	if got, err := db.DisabledRules(ctx, "w2"); err != nil || len(got) != 0 {
		t.Fatalf("w2 sees %+v, %v", got, err)
	}
	if changed, err := db.SetRuleEnabled(ctx, "w2", "r1", true, "user:alice"); err != nil || changed {
		t.Fatalf("turn on in w2, where it is on: %t, %v", changed, err)
	}
	if changed, err := db.SetRuleEnabled(ctx, "w1", "r1", true, "user:alice"); err != nil || !changed {
		t.Fatalf("turn on: %t, %v", changed, err)
	}
	if got, _ := db.DisabledRules(ctx, "w1"); len(got) != 0 {
		t.Fatalf("after turning on: %+v", got)
	}
	if _, err := db.SetRuleEnabled(ctx, "nope", "r1", false, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown workspace: %v, want ErrNotFound", err)
	}
	if _, err := db.SetRuleEnabled(ctx, "w1", "", false, "x"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no rule id: %v, want ErrInvalid", err)
	}
}

// testCorrelationJournal: a new batch's correlator input is journalled in
// its commit, in order, and told its place; a batch delivered again is
// not journalled twice; saving the state forgets what it includes.
func testCorrelationJournal(t *testing.T, s store.Store) {
	db := as[CorrelationStates](t, s, "analysis.CorrelationStates")
	mustWorkspace(t, s, "acme", "other")
	if data, seq, err := db.CorrelationState(ctx); err != nil || data != nil || seq != 0 {
		t.Fatalf("no state saved: %q, %d, %v", data, seq, err)
	}
	group := event.NewID()
	var bs []*store.Batch
	for i, ws := range []string{"acme", "other", "acme"} {
		b := Batch(ws, "ssh", Event(ws, "ssh", T0.Add(time.Duration(i)*time.Minute), "h", "u", "10.0.0.1"))
		b.Correlation, b.CorrelationGroup = []byte{byte('a' + i), 0, 0xff}, group
		bs = append(bs, b)
	}
	plain := Batch("acme", "ssh", Event("acme", "ssh", T0, "h", "u", "10.0.0.1"))
	if n := commit(t, s, bs[0], plain, bs[1]); n != 2+1 {
		t.Fatalf("committed %d, want 3", n)
	}
	if bs[0].JournalSeq <= 0 || bs[1].JournalSeq <= bs[0].JournalSeq || plain.JournalSeq != 0 {
		t.Fatalf("journal seqs %d, %d (plain %d): want increasing from 1, none for a batch without input",
			bs[0].JournalSeq, bs[1].JournalSeq, plain.JournalSeq)
	}
	commit(t, s, bs[2])
	if n := commit(t, s, bs[0]); n != 0 {
		t.Fatalf("a batch delivered again committed %d", n)
	}
	j, err := db.CorrelationJournal(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != 3 {
		t.Fatalf("journal of %d entries, want 3 (a replay adds none): %+v", len(j), j)
	}
	for i, e := range j {
		if e.Seq != bs[i].JournalSeq || e.Batch != bs[i].ID || e.Group != group || string(e.Data) != string(bs[i].Correlation) {
			t.Errorf("entry %d = %+v, want batch %s at %d with %q", i, e, bs[i].ID, bs[i].JournalSeq, bs[i].Correlation)
		}
	}
	if err := db.SaveCorrelationState(ctx, []byte("windows"), bs[1].JournalSeq); err != nil {
		t.Fatal(err)
	}
	data, seq, err := db.CorrelationState(ctx)
	if err != nil || string(data) != "windows" || seq != bs[1].JournalSeq {
		t.Fatalf("state = %q, %d, %v", data, seq, err)
	}
	if j, _ := db.CorrelationJournal(ctx, 0); len(j) != 1 || j[0].Batch != bs[2].ID {
		t.Fatalf("after the save the journal holds %+v, want the third batch's entry only", j)
	}
	if j, _ := db.CorrelationJournal(ctx, bs[2].JournalSeq); len(j) != 0 {
		t.Fatalf("after the last seq: %+v", j)
	}
	// An older save does not move the state's seq back.
	if err := db.SaveCorrelationState(ctx, []byte("older"), bs[0].JournalSeq); err != nil {
		t.Fatal(err)
	}
	if _, seq, _ := db.CorrelationState(ctx); seq != bs[1].JournalSeq {
		t.Errorf("seq after an older save = %d, want %d", seq, bs[1].JournalSeq)
	}
	// Signals in a batch with correlation input still alert.
	e := Event("acme", "ssh", T0, "corr", "u", "10.0.0.1")
	b := Batch("acme", "ssh", e)
	b.Correlation, b.CorrelationGroup = []byte("x"), group
	b.Signals = []alert.Signal{Signal("acme", "corr-rule", alert.High, "corr", e)}
	commit(t, s, b)
	if as := allAlerts(t, s, "acme", store.AlertQuery{RuleID: "corr-rule"}); len(as) != 1 {
		t.Errorf("alerts of the correlated batch: %d, want 1", len(as))
	}
}

// testEventsByID: the events asked for come back from every block that
// holds them, once each; ids of another workspace or never stored do not.
func testEventsByID(t *testing.T, s store.Store) {
	db := as[EventReader](t, s, "EventsByID")
	mustWorkspace(t, s, "acme", "other")
	a1, a2 := Event("acme", "s", T0, "h1", "u1", "10.0.0.1"), Event("acme", "s", T0, "h2", "u2", "10.0.0.2")
	b1 := Event("acme", "s", T0, "h3", "u3", "10.0.0.3")
	o1 := Event("other", "s", T0, "h4", "u4", "10.0.0.4")
	commit(t, s, Batch("acme", "s", a1, a2))
	commit(t, s, Batch("acme", "s", b1))
	commit(t, s, Batch("other", "s", o1))
	never := event.NewID()
	got, err := db.EventsByID(ctx, "acme", []event.ID{a2.ID, b1.ID, o1.ID, never, a1.ID, a2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d events, want a1, a2 and b1", len(got))
	}
	for _, want := range []store.StoredEvent{a1, a2, b1} {
		e, ok := got[want.ID]
		if !ok || e.ID != want.ID || string(e.Raw) != string(want.Raw) || e.Workspace != "acme" || e.Source != "s" {
			t.Errorf("event %s: %+v, %v", want.ID, e, ok)
		}
	}
	again, err := db.EventsByID(ctx, "acme", []event.ID{a1.ID})
	if err != nil || len(again) != 1 || string(again[a1.ID].Raw) != string(a1.Raw) {
		t.Fatalf("again: %v, %v", again, err)
	}
	if got, err := db.EventsByID(ctx, "acme", nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v, %v", got, err)
	}
}

// SourceControls set what an admin controls on a running source.
type SourceControls interface {
	SetSourceControls(ctx context.Context, workspace, name string, c tenant.SourceControls) (tenant.Source, error)
}

// testSourceControls: a source's controls are kept with it, in its
// workspace only, and survive commits to its counters.
func testSourceControls(t *testing.T, s store.Store) {
	db := as[SourceControls](t, s, "SetSourceControls")
	mustWorkspace(t, s, "acme", "other")
	for _, ws := range []string{"acme", "other"} {
		if err := s.PutSource(ctx, tenant.Source{Workspace: ws, Name: "fw", Format: "json"}); err != nil {
			t.Fatal(err)
		}
	}
	c := tenant.SourceControls{Quarantined: true, SilentAfter: 90 * time.Minute, NoSilenceAlert: true}
	got, err := db.SetSourceControls(ctx, "acme", "fw", c)
	if err != nil || got.SourceControls != c || got.Name != "fw" || got.Format != "json" {
		t.Fatalf("SetSourceControls = %+v, %v", got, err)
	}
	commit(t, s, Batch("acme", "fw", Event("acme", "fw", T0, "h", "u", "10.0.0.1")))
	if src, err := s.Source(ctx, "acme", "fw"); err != nil || src.SourceControls != c || src.Events != 1 {
		t.Errorf("read back %+v, %v", src, err)
	}
	if src, _ := s.Source(ctx, "other", "fw"); src.SourceControls != (tenant.SourceControls{}) {
		t.Errorf("the other workspace's source of the name got controls: %+v", src.SourceControls)
	}
	if _, err := db.SetSourceControls(ctx, "acme", "nope", c); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing source: %v, want ErrNotFound", err)
	}
	if _, err := db.SetSourceControls(ctx, "acme", "fw", tenant.SourceControls{SilentAfter: -time.Second}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a negative silent-after: %v, want ErrInvalid", err)
	}
	if got, err := db.SetSourceControls(ctx, "acme", "fw", tenant.SourceControls{}); err != nil || got.SourceControls != (tenant.SourceControls{}) {
		t.Errorf("controls cleared: %+v, %v", got, err)
	}
}
