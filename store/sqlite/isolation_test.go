package sqlite

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Two workspaces with the same source names, hosts and rules: every read of
// one shows none of the other's rows, and nothing of one can be changed
// through the other.
func TestWorkspaceIsolation(t *testing.T) {
	db, _ := openTest(t)
	for _, ws := range []string{"a", "b"} {
		mustWorkspace(t, db, ws)
		if err := db.CreateKey(ctx, key(ws, "key-"+ws)); err != nil {
			t.Fatal(err)
		}
		if err := db.PutSource(ctx, tenant.Source{Workspace: ws, Name: "ssh", Format: "syslog"}); err != nil {
			t.Fatal(err)
		}
		b := withSignals(batch(ws, "ssh", ev(ws, "ssh", t0, "web-1", "root", "1.1.1.1"), ev(ws, "ssh", t0, "web-2", "root", "1.1.1.1")), "r")
		for i := range b.Signals {
			b.Signals[i].DedupKey = "same-key-" + b.Signals[i].Entities[0].Value // equal across workspaces
		}
		commit(t, db, b)
		if err := db.Audit(ctx, store.AuditEntry{Workspace: ws, Actor: "cli", Action: "key.create", Target: "key-" + ws}); err != nil {
			t.Fatal(err)
		}
	}
	bAlerts, _, _ := db.Alerts(ctx, "b", store.AlertQuery{})
	bEvents, _, _ := db.Events(ctx, "b", store.EventQuery{})
	if len(bAlerts) != 2 || len(bEvents) != 2 {
		t.Fatalf("b has %d alerts, %d events; want 2 and 2", len(bAlerts), len(bEvents))
	}

	keys, _ := db.Keys(ctx, "a")
	for _, k := range keys {
		if k.Workspace != "a" {
			t.Errorf("Keys(a) returned %+v", k)
		}
	}
	srcs, _ := db.Sources(ctx, "a")
	for _, s := range srcs {
		if s.Workspace != "a" || s.Events != 2 {
			t.Errorf("Sources(a) returned %+v (events counted across workspaces?)", s)
		}
	}
	if s, err := db.Source(ctx, "a", "ssh"); err != nil || s.Workspace != "a" || s.Events != 2 {
		t.Errorf("Source(a, ssh) = %+v, %v", s, err)
	}
	for _, q := range []store.EventQuery{{}, {Entity: "web-1"}, {Source: "ssh"}, {From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}} {
		evs, _, err := db.Events(ctx, "a", q)
		if err != nil || len(evs) == 0 {
			t.Fatalf("Events(a, %+v) = %d, %v", q, len(evs), err)
		}
		for _, e := range evs {
			if e.Workspace != "a" {
				t.Errorf("Events(a, %+v) returned an event of %s", q, e.Workspace)
			}
		}
	}
	for _, q := range []store.AlertQuery{{}, {Entity: "web-1"}, {RuleID: "r"}, {Status: []alert.Status{alert.StatusNew}}} {
		as, _, err := db.Alerts(ctx, "a", q)
		if err != nil || len(as) == 0 {
			t.Fatalf("Alerts(a, %+v) = %d, %v", q, len(as), err)
		}
		for _, al := range as {
			if al.Workspace != "a" {
				t.Errorf("Alerts(a, %+v) returned an alert of %s", q, al.Workspace)
			}
		}
	}
	log, _, _ := db.AuditLog(ctx, "a", store.AuditQuery{})
	for _, e := range log {
		if e.Workspace != "a" {
			t.Errorf("AuditLog(a) returned %+v", e)
		}
	}

	// b's rows through a's workspace: not found, and unchanged.
	if _, err := db.Event(ctx, "a", bEvents[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Event(a, b's event): err = %v", err)
	}
	if _, err := db.Alert(ctx, "a", bAlerts[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert(a, b's alert): err = %v", err)
	}
	if _, err := db.SetAlertStatus(ctx, "a", bAlerts[0].ID, alert.StatusDismissed, "key:key-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetAlertStatus(a, b's alert): err = %v", err)
	}
	if err := db.RevokeKey(ctx, "a", "key-b", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey(a, b's key): err = %v", err)
	}
	if k, _ := db.KeyByHash(ctx, []byte("hash-key-b")); k.Revoked != nil {
		t.Error("b's key was revoked through a")
	}
	if al, _ := db.Alert(ctx, "b", bAlerts[0].ID); al.Status != alert.StatusNew {
		t.Errorf("b's alert is %s after a's attempt", al.Status)
	}
	if log, _, _ := db.AuditLog(ctx, "b", store.AuditQuery{}); len(log) != 1 {
		t.Errorf("b's audit log has %d entries, want its own 1", len(log))
	}
	// The same dedup key in both workspaces never merges across them.
	aAlerts, _, _ := db.Alerts(ctx, "a", store.AlertQuery{})
	for _, al := range append(aAlerts, bAlerts...) {
		if al.Count != 1 {
			t.Errorf("b's alert %s has count %d", al.ID, al.Count)
		}
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustWorkspace(t, db, "acme")
	bs := overlapping("acme", 3, 20, 5)
	withSignals(bs[0], "r")
	commit(t, db, bs...)
	wantEvents := allEvents(t, db, "acme", store.EventQuery{})
	wantAlerts, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{})
	sameEvents(t, "after reopen", allEvents(t, db, "acme", store.EventQuery{}), wantEvents)
	gotAlerts, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{})
	if len(gotAlerts) != len(wantAlerts) || len(gotAlerts) == 0 {
		t.Fatalf("alerts after reopen: %d, want %d", len(gotAlerts), len(wantAlerts))
	}
	for i := range gotAlerts {
		if gotAlerts[i].String() != wantAlerts[i].String() {
			t.Errorf("alert %d after reopen:\n got %s\nwant %s", i, gotAlerts[i].String(), wantAlerts[i].String())
		}
	}
	// Idempotence survives the restart: the batches are known.
	if n := commit(t, db, bs...); n != 0 {
		t.Errorf("replay after reopen: %d new, want 0", n)
	}
}

// Readers run beside the writer and always see whole commits: every batch
// is 10 events with one signal, so the event and alert counts a reader sees
// stay multiples of 10 and of 1, never half a batch, and never go down.
func TestConcurrentReadersAndWriter(t *testing.T) {
	db, _ := openTest(t)
	const batches = 40
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range batches {
			b := batch("acme", "s")
			for range 10 {
				b.Events = append(b.Events, ev("acme", "s", t0.Add(time.Duration(i)*time.Second), "h", "u", "1.1.1.1"))
			}
			b.Signals = []alert.Signal{sig("acme", "r", alert.Low, "h", b.Events[0])}
			if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				s, err := db.Source(ctx, "acme", "s")
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if s.Events%10 != 0 || int(s.Events) < last {
					errs <- errors.New("source counter shows a partial or lost commit")
					return
				}
				last = int(s.Events)
				as, _, err := db.Alerts(ctx, "acme", store.AlertQuery{})
				if err != nil {
					errs <- err
					return
				}
				if len(as) == 1 && as[0].Count < last/10 {
					errs <- errors.New("alert count behind the events of an earlier snapshot")
					return
				}
				if _, _, err := db.Events(ctx, "acme", store.EventQuery{Limit: 15, Entity: "h"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s, _ := db.Source(ctx, "acme", "s"); s.Events != batches*10 {
		t.Errorf("source events = %d, want %d", s.Events, batches*10)
	}
	if as, _, _ := db.Alerts(ctx, "acme", store.AlertQuery{}); len(as) != 1 || as[0].Count != batches {
		t.Errorf("alerts = %+v, want one of count %d", as, batches)
	}
}
