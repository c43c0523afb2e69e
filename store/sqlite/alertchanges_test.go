package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
)

// changesAfter reads the whole stream after seq.
func changesAfter(t *testing.T, db *DB, seq int64) []store.AlertChange {
	t.Helper()
	var out []store.AlertChange
	for {
		cs, err := db.AlertChanges(ctx, seq, 2) // small pages: paging is exercised
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return out
		}
		out = append(out, cs...)
		seq = cs[len(cs)-1].Seq
	}
}

func TestAlertStreamCommitAndStatus(t *testing.T) {
	db, clock := openTest(t)
	signal := db.AlertChangesSignal()

	// Batch 1 starts two alerts (acme) and one (beta).
	e1 := ev("acme", "s", t0, "h1", "u", "1.1.1.1")
	e2 := ev("acme", "s", t0, "h2", "u", "1.1.1.1")
	b1 := batch("acme", "s", e1, e2)
	b1.Signals = []alert.Signal{sig("acme", "r1", alert.High, "h1", e1), sig("acme", "r1", alert.High, "h2", e2),
		sig("acme", "r1", alert.High, "h1", e1)} // h1 twice: one alert, one change
	eb := ev("beta", "s", t0, "hb", "u", "2.2.2.2")
	bb := batch("beta", "s", eb)
	bb.Signals = []alert.Signal{sig("beta", "r1", alert.Low, "hb", eb)}
	commit(t, db, b1, bb)
	select {
	case <-signal:
	default:
		t.Error("the change signal was not raised by a commit that changed alerts")
	}

	// Batch 2 grows h1's alert; committing it twice (a replay) appends
	// nothing the second time.
	clock.set(t0.Add(time.Minute))
	e3 := ev("acme", "s", t0.Add(time.Minute), "h1", "u", "1.1.1.1")
	b2 := batch("acme", "s", e3)
	b2.Signals = []alert.Signal{sig("acme", "r1", alert.High, "h1", e3)}
	commit(t, db, b2)
	signal = db.AlertChangesSignal()
	if n := commit(t, db, b2); n != 0 {
		t.Fatalf("replay committed %d batches", n)
	}
	select {
	case <-signal:
		t.Error("a replayed batch raised the change signal")
	default:
	}

	as := allAlerts(t, db, "acme", store.AlertQuery{})
	byHost := map[string]string{}
	for _, a := range as {
		byHost[a.Entities[0].Value] = a.ID
	}
	bs := allAlerts(t, db, "beta", store.AlertQuery{})

	// A status change appends a change; a refused one and a repeat that
	// changes nothing do not.
	clock.set(t0.Add(2 * time.Minute))
	if _, err := db.SetAlertStatus(ctx, "acme", byHost["h2"], alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetAlertStatus(ctx, "acme", byHost["h2"], alert.StatusNew, "cli"); err == nil {
		t.Fatal("resolved -> new accepted")
	}
	if _, err := db.SetAlertStatus(ctx, "acme", byHost["h2"], alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	// A reclassification with the same status is a change.
	if _, err := db.ClassifyAlert(ctx, "acme", byHost["h2"], alert.StatusResolved, alert.ReasonTruePositive, "cli"); err != nil {
		t.Fatal(err)
	}

	type want struct {
		ws, id string
		kind   store.ChangeKind
		status alert.Status
		at     time.Time
	}
	wants := []want{
		{"acme", byHost["h1"], store.ChangeCreated, alert.StatusNew, t0},
		{"acme", byHost["h2"], store.ChangeCreated, alert.StatusNew, t0},
		{"beta", bs[0].ID, store.ChangeCreated, alert.StatusNew, t0},
		{"acme", byHost["h1"], store.ChangeUpdated, alert.StatusNew, t0.Add(time.Minute)},
		{"acme", byHost["h2"], store.ChangeStatus, alert.StatusResolved, t0.Add(2 * time.Minute)},
		{"acme", byHost["h2"], store.ChangeStatus, alert.StatusResolved, t0.Add(2 * time.Minute)},
	}
	got := changesAfter(t, db, 0)
	if len(got) != len(wants) {
		t.Fatalf("stream = %+v, want %d changes", got, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Workspace != w.ws || g.AlertID != w.id || g.Kind != w.kind || g.Status != w.status || !g.At.Equal(w.at) {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
		if i > 0 && g.Seq <= got[i-1].Seq {
			t.Errorf("change %d: seq %d after %d", i, g.Seq, got[i-1].Seq)
		}
	}
	if rest := changesAfter(t, db, got[3].Seq); len(rest) != 2 || rest[0].Seq != got[4].Seq {
		t.Errorf("changes after %d = %+v", got[3].Seq, rest)
	}
}

// TestAlertStreamCursorsAcrossRestart: a consumer's cursor survives the
// store's restart, never moves back, and retention keeps what the slowest
// consumer has not acknowledged.
func TestAlertStreamCursorsAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := openAt(t, path, Options{})
	for i := range 5 {
		e := ev("acme", "s", t0, "h"+string(rune('a'+i)), "u", "1.1.1.1")
		b := batch("acme", "s", e)
		b.Signals = []alert.Signal{sig("acme", "r1", alert.High, "h"+string(rune('a'+i)), e)}
		commit(t, db, b)
	}
	all := changesAfter(t, db, 0)
	if len(all) != 5 {
		t.Fatalf("%d changes, want 5", len(all))
	}
	if seq, err := db.ConsumerCursor(ctx, "incidents"); err != nil || seq != 0 {
		t.Fatalf("new consumer's cursor = %d, %v", seq, err)
	}
	if err := db.SetConsumerCursor(ctx, "incidents", all[2].Seq); err != nil {
		t.Fatal(err)
	}
	if err := db.SetConsumerCursor(ctx, "notify", all[0].Seq); err != nil {
		t.Fatal(err)
	}
	if err := db.SetConsumerCursor(ctx, "incidents", all[1].Seq); err != nil { // a late retry
		t.Fatal(err)
	}
	if err := db.SetConsumerCursor(ctx, "", 1); err == nil {
		t.Error("a cursor without a name was accepted")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{})
	seq, err := db.ConsumerCursor(ctx, "incidents")
	if err != nil || seq != all[2].Seq {
		t.Fatalf("after restart: cursor = %d, %v; want %d", seq, err, all[2].Seq)
	}
	rest := changesAfter(t, db, seq)
	if len(rest) != 2 || rest[0].AlertID != all[3].AlertID || rest[1].AlertID != all[4].AlertID {
		t.Errorf("resumed with %+v, want the last two changes", rest)
	}

	// Retention: "notify" acknowledged only the first change, so only it
	// goes (the horizon is far back).
	n, err := db.PurgeAlertChanges(ctx, t0.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	if left := changesAfter(t, db, 0); len(left) != 4 || left[0].Seq != all[1].Seq {
		t.Errorf("after purge: %+v", left)
	}
	// The horizon purges what a lagging consumer has not read.
	if n, err := db.PurgeAlertChanges(ctx, time.Now().Add(time.Hour)); err != nil || n != 4 {
		t.Fatalf("purge by horizon = %d, %v; want 4", n, err)
	}
	// Seqs are not reused after a purge: a cursor never skips a change.
	e := ev("acme", "s", t0, "hz", "u", "1.1.1.1")
	b := batch("acme", "s", e)
	b.Signals = []alert.Signal{sig("acme", "r1", alert.High, "hz", e)}
	commit(t, db, b)
	if next := changesAfter(t, db, 0); len(next) != 1 || next[0].Seq <= all[4].Seq {
		t.Errorf("after purging all: %+v (last seq before %d)", next, all[4].Seq)
	}
}

func TestCorrelationStateSaved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db := openAt(t, path, Options{})
	if data, seq, err := db.CorrelationState(ctx); err != nil || data != nil || seq != 0 {
		t.Fatalf("fresh store: %q, %d, %v", data, seq, err)
	}
	// Three batches journal their correlator input; a save that includes
	// the first two leaves the third.
	var seqs []int64
	for i := range 3 {
		e := ev("acme", "s", t0, "hz", "u", "1.1.1.1")
		b := batch("acme", "s", e)
		b.Correlation = []byte{1, byte(i)}
		b.CorrelationGroup = b.ID
		commit(t, db, b)
		if b.JournalSeq == 0 {
			t.Fatalf("batch %d: no journal entry", i)
		}
		seqs = append(seqs, b.JournalSeq)
	}
	for _, s := range []string{"first", "second\x00\xff"} {
		if err := db.SaveCorrelationState(ctx, []byte(s), seqs[1]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openAt(t, path, Options{})
	if data, seq, err := db.CorrelationState(ctx); err != nil || string(data) != "second\x00\xff" || seq != seqs[1] {
		t.Fatalf("after restart: %q, %d, %v", data, seq, err)
	}
	j, err := db.CorrelationJournal(ctx, seqs[1])
	if err != nil || len(j) != 1 || j[0].Seq != seqs[2] || string(j[0].Data) != "\x01\x02" {
		t.Fatalf("journal after the save: %+v, %v", j, err)
	}
	if all, _ := db.CorrelationJournal(ctx, 0); len(all) != 1 {
		t.Fatalf("the save left %d journal entries, want the one after it", len(all))
	}
}
