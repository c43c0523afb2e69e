package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// state is what a commit leaves behind, for before/after comparisons.
type state struct {
	events, blocks, alerts, alertCount int
	sourceEvents, sourceRejected       int64
}

func snapshot(t *testing.T, db *DB, ws string) state {
	t.Helper()
	var s state
	s.events = len(allEvents(t, db, ws, store.EventQuery{Limit: 1000}))
	db.r.QueryRowContext(ctx, `SELECT count(*) FROM event_blocks WHERE workspace = ?`, ws).Scan(&s.blocks)
	as, _, err := db.Alerts(ctx, ws, store.AlertQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s.alerts = len(as)
	for _, a := range as {
		s.alertCount += a.Count
	}
	srcs, err := db.Sources(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range srcs {
		s.sourceEvents += src.Events
		s.sourceRejected += src.Rejected
	}
	return s
}

// withSignals gives every event of b a signal of rule r about its host.
func withSignals(b *store.Batch, r string) *store.Batch {
	for _, e := range b.Events {
		b.Signals = append(b.Signals, sig(b.Workspace, r, alert.Medium, e.Common[event.HostName], e))
	}
	return b
}

func TestCommitIdempotent(t *testing.T) {
	db, _ := openTest(t)
	bs := overlapping("acme", 4, 25, 11)
	for _, b := range bs {
		withSignals(b, "r1")
		b.Rejected = 2
	}
	if n := commit(t, db, bs[:2]...); n != 2 {
		t.Fatalf("first commit: %d new, want 2", n)
	}
	first := snapshot(t, db, "acme")
	if first.events != 50 || first.alertCount != 50 || first.sourceEvents != 50 || first.sourceRejected != 4 {
		t.Fatalf("after first commit: %+v", first)
	}

	// The same batches again: nothing changes.
	if n := commit(t, db, bs[:2]...); n != 0 {
		t.Errorf("replay: %d new, want 0", n)
	}
	if got := snapshot(t, db, "acme"); got != first {
		t.Errorf("replay changed the store:\n got %+v\nwant %+v", got, first)
	}

	// A crash-like replay: the committed batches come again with new ones
	// (and one twice within the slice).
	if n := commit(t, db, bs[1], bs[0], bs[2], bs[3], bs[2]); n != 2 {
		t.Errorf("mixed replay: %d new, want 2", n)
	}
	want := state{events: 100, blocks: 4, alertCount: 100, sourceEvents: 100, sourceRejected: 8}
	got := snapshot(t, db, "acme")
	want.alerts = got.alerts // one a host; checked below
	if got != want {
		t.Errorf("after mixed replay:\n got %+v\nwant %+v", got, want)
	}
	if got.alerts != 5 {
		t.Errorf("%d alerts, want one for each of the 5 hosts", got.alerts)
	}
}

// A batch that only rejected records still counts on its source, once.
func TestCommitRejectedOnly(t *testing.T) {
	db, _ := openTest(t)
	b := batch("acme", "fw", nil...)
	b.Format = "cef"
	b.Rejected = 7
	commit(t, db, b)
	commit(t, db, b)
	s, err := db.Source(ctx, "acme", "fw")
	if err != nil {
		t.Fatal(err)
	}
	if s.Rejected != 7 || s.Events != 0 || s.Format != "cef" || s.LastSeen == nil || !s.LastSeen.Equal(t0) {
		t.Errorf("source after a rejected-only batch: %+v", s)
	}
}

func TestCommitSourceCounters(t *testing.T) {
	db, clock := openTest(t)
	mustWorkspace(t, db, "acme")
	if err := db.PutSource(ctx, tenant.Source{Workspace: "acme", Name: "ssh", Format: "syslog", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	b1 := batch("acme", "ssh", ev("acme", "ssh", t0, "h", "u", "1.1.1.1"))
	b2 := batch("acme", "ssh", ev("acme", "ssh", t0, "h", "u", "1.1.1.1"), ev("acme", "ssh", t0, "h", "u", "1.1.1.1"))
	b2.Received = t0.Add(time.Hour)
	b2.Rejected = 1
	clock.set(t0.Add(2 * time.Hour))
	commit(t, db, b2, b1) // older received second: last_seen keeps the newest
	s, err := db.Source(ctx, "acme", "ssh")
	if err != nil {
		t.Fatal(err)
	}
	if s.Events != 3 || s.Rejected != 1 || !s.LastSeen.Equal(t0.Add(time.Hour)) || s.Format != "syslog" || !s.Created.Equal(t0) {
		t.Errorf("source = %+v; want 3 events, 1 rejected, last seen %v, format syslog kept, created %v", s, t0.Add(time.Hour), t0)
	}
}

func TestCommitInvalid(t *testing.T) {
	db, _ := openTest(t)
	good := batch("acme", "s", ev("acme", "s", t0, "h", "u", "1.1.1.1"))
	cases := map[string]func(b *store.Batch){
		"no id":             func(b *store.Batch) { b.ID = event.ID{} },
		"no workspace":      func(b *store.Batch) { b.Workspace = "" },
		"no format":         func(b *store.Batch) { b.Format = "" },
		"negative rejected": func(b *store.Batch) { b.Rejected = -1 },
		"foreign event":     func(b *store.Batch) { b.Events[0].Workspace = "beta" },
		"event without id":  func(b *store.Batch) { b.Events[0].ID = event.ID{} },
		"foreign signal": func(b *store.Batch) {
			b.Signals = []alert.Signal{sig("beta", "r", alert.Low, "h", b.Events[0])}
		},
		"signal without rule": func(b *store.Batch) {
			b.Signals = []alert.Signal{sig("acme", "", alert.Low, "h", b.Events[0])}
		},
		"bad severity": func(b *store.Batch) {
			b.Signals = []alert.Signal{sig("acme", "r", alert.Severity(9), "h", b.Events[0])}
		},
	}
	for name, spoil := range cases {
		b := batch("acme", "s", ev("acme", "s", t0, "h", "u", "1.1.1.1"))
		spoil(b)
		if _, err := db.Commit(ctx, []*store.Batch{good, b}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := db.Commit(ctx, []*store.Batch{nil}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("nil batch: err = %v, want ErrInvalid", err)
	}
	// Nothing of a refused slice is written, the good batch included.
	if got := snapshot(t, db, "acme"); got != (state{}) {
		t.Errorf("a refused commit wrote %+v", got)
	}
	if n, err := db.Commit(ctx, nil); n != 0 || err != nil {
		t.Errorf("empty commit = %d, %v", n, err)
	}
}

func TestCommitCanceled(t *testing.T) {
	db, _ := openTest(t)
	c, cancel := contextWithCancel()
	cancel()
	if _, err := db.Commit(c, overlapping("acme", 1, 3, 2)); err == nil {
		t.Error("commit with a canceled context succeeded")
	}
	if got := snapshot(t, db, "acme"); got.events != 0 {
		t.Errorf("canceled commit stored %d events", got.events)
	}
}

func TestDedupWindow(t *testing.T) {
	db, clock := openTest(t)
	db.window = time.Hour
	at := func(d time.Duration) store.StoredEvent { return ev("acme", "s", t0.Add(d), "web-1", "u", "1.1.1.1") }
	one := func(e store.StoredEvent) *store.Batch { return withSignals(batch("acme", "s", e), "brute") }

	// Two signals in one commit and a third 50 minutes later: one alert.
	commit(t, db, one(at(0)), one(at(10*time.Minute)))
	commit(t, db, one(at(60*time.Minute)))
	as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(as) != 1 || as[0].Count != 3 || !as[0].FirstSeen.Equal(t0) || !as[0].LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("within the window: %d alerts %+v; want one of count 3", len(as), as)
	}
	firstID := as[0].ID

	// 61 minutes after the last signal: past the window, a new alert.
	commit(t, db, one(at(121*time.Minute)))
	as, _, _ = db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(as) != 2 || as[0].ID == firstID || as[0].Count != 1 || as[1].Count != 3 {
		t.Fatalf("past the window: %+v; want a new alert of count 1 beside the old one", as)
	}
	secondID := as[0].ID

	// A resolved alert is not reopened, even within the window.
	clock.set(t0.Add(3 * time.Hour))
	if _, err := db.SetAlertStatus(ctx, "acme", secondID, alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	commit(t, db, one(at(122*time.Minute)))
	as, _, _ = db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(as) != 3 {
		t.Fatalf("after resolving: %d alerts, want 3", len(as))
	}
	for _, a := range as {
		switch a.ID {
		case secondID:
			if a.Status != alert.StatusResolved || a.Count != 1 {
				t.Errorf("resolved alert changed: %+v", a)
			}
		case firstID:
		default:
			if a.Status != alert.StatusNew || a.Count != 1 {
				t.Errorf("new alert after the resolved one: %+v", a)
			}
		}
	}

	// An active (acknowledged) alert still gathers signals.
	if _, err := db.SetAlertStatus(ctx, "acme", as[0].ID, alert.StatusActive, "cli"); err != nil {
		t.Fatal(err)
	}
	commit(t, db, one(at(123*time.Minute)))
	a, err := db.Alert(ctx, "acme", as[0].ID)
	if err != nil || a.Count != 2 || a.Status != alert.StatusActive {
		t.Errorf("active alert after one more signal: %+v, %v; want count 2, still active", a, err)
	}
}

func TestAlertMerge(t *testing.T) {
	db, clock := openTest(t)
	e1 := ev("acme", "s", t0, "web-1", "root", "1.1.1.1")
	e2 := ev("acme", "s", t0.Add(time.Minute), "web-1", "admin", "1.1.1.1")
	s1 := sig("acme", "r", alert.Low, "web-1", e1)
	s2 := sig("acme", "r", alert.High, "web-1", e2)
	s2.Entities = append(s2.Entities, alert.Entity{Type: alert.EntityAccount, Value: "admin"})
	s2.DedupKey = s1.DedupKey // the rule keys on the host only
	commit(t, db, &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json",
		Events: []store.StoredEvent{e1}, Signals: []alert.Signal{s1}})
	clock.set(t0.Add(time.Hour))
	commit(t, db, &store.Batch{ID: event.NewID(), Workspace: "acme", Source: "s", Format: "json",
		Events: []store.StoredEvent{e2}, Signals: []alert.Signal{s2}})

	as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(as) != 1 {
		t.Fatalf("%d alerts, want 1", len(as))
	}
	a := as[0]
	if a.Severity != alert.High || a.Count != 2 || len(a.Entities) != 2 || len(a.Evidence) != 2 ||
		a.Evidence[1].EventID != e2.ID.String() || !a.Created.Equal(t0) || !a.Updated.Equal(t0.Add(time.Hour)) ||
		a.Rule.Title != "rule r" || a.Type != "signature" || len(a.Techniques) != 1 {
		t.Errorf("merged alert = %+v", a)
	}
	// The account that joined later is searchable.
	if got, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{Entity: "admin"}); len(got) != 1 {
		t.Errorf("alerts by a merged entity: %d, want 1", len(got))
	}
}
