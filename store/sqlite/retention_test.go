package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// receivedAt makes a batch of evs that vigil received at t, whatever the
// events' own time stamps say.
func receivedAt(t time.Time, ws, src string, evs ...store.StoredEvent) *store.Batch {
	for i := range evs {
		evs[i].Received = t
	}
	b := batch(ws, src, evs...)
	b.Received = t
	return b
}

func sourceEvents(t *testing.T, db *DB, ws, name string) int64 {
	t.Helper()
	s, err := db.Source(ctx, ws, name)
	if err != nil {
		t.Fatalf("source %s/%s: %v", ws, name, err)
	}
	return s.Events
}

func storedCount(t *testing.T, db *DB, ws, src string) int64 {
	t.Helper()
	return int64(len(allEvents(t, db, ws, store.EventQuery{Source: src, Limit: 1000})))
}

// Retention counts from when vigil received an event: history loaded today
// (events of 2019) stays, events received long ago go, whatever their own
// time stamps.
func TestPurgeEventsByReceivedTime(t *testing.T) {
	db, _ := openTest(t)
	y2019 := time.Date(2019, 5, 20, 10, 0, 0, 0, time.UTC)
	history := receivedAt(t0, "acme", "import",
		ev("acme", "import", y2019, "WORKSTATION5", "alice", "10.0.0.1"),
		ev("acme", "import", y2019.Add(time.Hour), "WORKSTATION5", "alice", "10.0.0.1"))
	// Received 48 hours ago, though the events claim to be from now (a
	// clock that runs ahead, or an old batch replayed).
	stale := receivedAt(t0.Add(-48*time.Hour), "acme", "live",
		ev("acme", "live", t0, "h1", "bob", "10.0.0.2"),
		ev("acme", "live", t0.Add(time.Minute), "h1", "bob", "10.0.0.2"))
	otherWS := receivedAt(t0.Add(-48*time.Hour), "beta", "live", ev("beta", "live", y2019, "h3", "u", "10.0.0.3"))
	commit(t, db, history, stale, otherWS)

	n, err := db.PurgeEvents(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("PurgeEvents = %d, want 3 (the events received 48h ago, in both workspaces)", n)
	}
	if got := allEvents(t, db, "acme", store.EventQuery{Source: "import"}); len(got) != 2 {
		t.Errorf("history of 2019 received now: %d events left, want 2", len(got))
	}
	if got := allEvents(t, db, "acme", store.EventQuery{Source: "live"}); len(got) != 0 {
		t.Errorf("events received 48h ago: %d left, want 0", len(got))
	}
	if got := allEvents(t, db, "acme", store.EventQuery{Entity: "WORKSTATION5"}); len(got) != 2 {
		t.Errorf("entity index of the kept block: %d events, want 2", len(got))
	}
	var entities int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM event_entities WHERE block_id IN (?, ?)`,
		stale.ID[:], otherWS.ID[:]).Scan(&entities); err != nil {
		t.Fatal(err)
	}
	if entities != 0 {
		t.Errorf("%d entity rows of purged blocks remain", entities)
	}
	if n, err := db.PurgeEvents(ctx, t0.Add(-24*time.Hour)); n != 0 || err != nil {
		t.Errorf("second purge = %d, %v; want 0", n, err)
	}
}

// A batch without a receive time counts as received when it is committed,
// not at the zero time (which would purge it at once).
func TestPurgeEventsBatchWithoutReceivedTime(t *testing.T) {
	db, clock := openTest(t)
	b := batch("acme", "s", ev("acme", "s", time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), "h", "u", "10.0.0.1"))
	b.Received = time.Time{}
	commit(t, db, b)
	if n, err := db.PurgeEvents(ctx, t0.Add(-time.Hour)); n != 0 || err != nil {
		t.Fatalf("PurgeEvents = %d, %v; want 0: committed now", n, err)
	}
	clock.set(t0.Add(48 * time.Hour))
	if n, err := db.PurgeEvents(ctx, t0.Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("PurgeEvents after the retention = %d, %v; want 1", n, err)
	}
}

// The evidence of an open alert stays while the alert is open, however long
// ago it was received; once the alert is closed it ages out as usual.
func TestPurgeEventsKeepsOpenAlertEvidence(t *testing.T) {
	db, _ := openTest(t)
	long := t0.Add(-90 * 24 * time.Hour)
	open := receivedAt(long, "acme", "s", ev("acme", "s", long, "h-open", "u", "10.0.0.1"), ev("acme", "s", long, "h-open", "u", "10.0.0.1"))
	open.Signals = []alert.Signal{sig("acme", "r-open", alert.High, "h-open", open.Events[1])}
	closed := receivedAt(long, "acme", "s", ev("acme", "s", long, "h-closed", "u", "10.0.0.1"))
	closed.Signals = []alert.Signal{sig("acme", "r-closed", alert.High, "h-closed", closed.Events[0])}
	plain := receivedAt(long, "acme", "s", ev("acme", "s", long, "h-plain", "u", "10.0.0.1"))
	commit(t, db, open, closed, plain)
	// A correlation batch (signals only) names evidence from another block.
	corr := receivedAt(t0, "acme", "correlation")
	corrSig := sig("acme", "r-corr", alert.Critical, "h-plain", plain.Events[0])
	corr.Signals = []alert.Signal{corrSig}
	commit(t, db, corr)

	alertOf := func(rule string) alert.Alert {
		t.Helper()
		as := allAlerts(t, db, "acme", store.AlertQuery{RuleID: rule})
		if len(as) != 1 {
			t.Fatalf("rule %s: %d alerts, want 1", rule, len(as))
		}
		return as[0]
	}
	if _, err := db.SetAlertStatus(ctx, "acme", alertOf("r-closed").ID, alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}

	n, err := db.PurgeEvents(ctx, t0.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("PurgeEvents = %d, want 1 (the resolved alert's evidence; the open ones' stay)", n)
	}
	for _, e := range []store.StoredEvent{open.Events[1], plain.Events[0]} {
		if _, err := db.Event(ctx, "acme", e.ID); err != nil {
			t.Errorf("evidence %s of an open alert: %v", e.ID, err)
		}
	}
	if _, err := db.Event(ctx, "acme", closed.Events[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("evidence of the resolved alert: err = %v, want ErrNotFound", err)
	}
	if got, want := sourceEvents(t, db, "acme", "s"), storedCount(t, db, "acme", "s"); got != want || got != 3 {
		t.Errorf("source counter %d, stored %d; want 3 both", got, want)
	}

	// Closed, the alerts' evidence ages out at the next purge.
	for _, rule := range []string{"r-open", "r-corr"} {
		if _, err := db.SetAlertStatus(ctx, "acme", alertOf(rule).ID, alert.StatusDismissed, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.PurgeEvents(ctx, t0.Add(-30*24*time.Hour)); n != 3 || err != nil {
		t.Errorf("purge after closing the alerts = %d, %v; want 3", n, err)
	}
	if got := sourceEvents(t, db, "acme", "s"); got != 0 {
		t.Errorf("source counter %d after everything went, want 0", got)
	}
}

// A block whose id range spans an evidence event it does not hold (batches
// of concurrent sources interleave their ids) is not kept for it.
func TestPurgeEventsEvidenceElsewhere(t *testing.T) {
	db, _ := openTest(t)
	long := t0.Add(-90 * 24 * time.Hour)
	first, mid, last := ev("acme", "a", long, "h", "u", "10.0.0.1"), ev("acme", "b", long, "h", "u", "10.0.0.1"), ev("acme", "a", long, "h", "u", "10.0.0.1")
	spanning := receivedAt(long, "acme", "a", first, last) // ids first < mid < last
	holder := receivedAt(t0, "acme", "b", mid)
	holder.Signals = []alert.Signal{sig("acme", "r", alert.High, "h", holder.Events[0])}
	commit(t, db, spanning, holder)
	if n, err := db.PurgeEvents(ctx, t0.Add(-time.Hour)); n != 2 || err != nil {
		t.Errorf("PurgeEvents = %d, %v; want 2: the spanning block holds no evidence", n, err)
	}
	if _, err := db.Event(ctx, "acme", mid.ID); err != nil {
		t.Errorf("evidence: %v", err)
	}
}

// Source counters say what the store holds: a purge lowers them by what it
// deleted.
func TestPurgeEventsSourceCounters(t *testing.T) {
	db, _ := openTest(t)
	var bs []*store.Batch
	for i := range 5 {
		at := t0.Add(-time.Duration(i) * 24 * time.Hour) // received today, 1, 2, 3, 4 days ago
		bs = append(bs, receivedAt(at, "acme", "sshd",
			ev("acme", "sshd", time.Date(2019, 1, 1, 0, 0, i, 0, time.UTC), "h", "u", "10.0.0.1"),
			ev("acme", "sshd", time.Date(2019, 1, 1, 0, 0, i, 1, time.UTC), "h", "u", "10.0.0.1")))
	}
	bs = append(bs, receivedAt(t0.Add(-72*time.Hour), "acme", "web", ev("acme", "web", t0, "h", "u", "10.0.0.1")))
	commit(t, db, bs...)
	if got := sourceEvents(t, db, "acme", "sshd"); got != 10 {
		t.Fatalf("sshd counter after commit = %d, want 10", got)
	}
	n, err := db.PurgeEvents(ctx, t0.Add(-36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("PurgeEvents = %d, want 7 (three sshd blocks of 2, web's 1)", n)
	}
	for _, src := range []string{"sshd", "web"} {
		if got, want := sourceEvents(t, db, "acme", src), storedCount(t, db, "acme", src); got != want {
			t.Errorf("source %s: counter %d, stored %d", src, got, want)
		}
	}
}

// A batch committed, then purged by retention, then delivered again (the
// process died between the commit and the bus acknowledgement) is still
// known: retention does not take the dedup state with the events.
func TestPurgeEventsKeepsCommittedBatchIDs(t *testing.T) {
	db, clock := openTest(t)
	old := receivedAt(t0.Add(-48*time.Hour), "acme", "live",
		ev("acme", "live", t0, "h1", "bob", "10.0.0.2"),
		ev("acme", "live", t0.Add(time.Minute), "h1", "bob", "10.0.0.2"))
	if n := commit(t, db, old); n != 1 {
		t.Fatalf("first commit: %d new, want 1", n)
	}
	if n, err := db.PurgeEvents(ctx, t0.Add(-24*time.Hour)); n != 2 || err != nil {
		t.Fatalf("PurgeEvents = %d, %v; want 2", n, err)
	}
	if n := commit(t, db, old); n != 0 {
		t.Errorf("re-commit of a purged batch: %d new, want 0 (skipped)", n)
	}
	if got := storedCount(t, db, "acme", "live"); got != 0 {
		t.Errorf("re-commit stored %d events again, want 0", got)
	}
	if got := sourceEvents(t, db, "acme", "live"); got != 0 {
		t.Errorf("source counts %d events after the replay, want 0", got)
	}

	// The ids go on their own schedule: kept for the window from their
	// commit, then dropped.
	if n, err := db.PurgeCommittedBatches(ctx, t0.Add(-time.Hour)); n != 0 || err != nil {
		t.Errorf("PurgeCommittedBatches before the id's commit = %d, %v; want 0", n, err)
	}
	clock.set(t0.Add(48 * time.Hour))
	if n, err := db.PurgeCommittedBatches(ctx, t0.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("PurgeCommittedBatches after the window = %d, %v; want 1", n, err)
	}
}
