package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/store/storetest"
	"github.com/vigil-sec/vigil/tenant"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// testClock is a settable clock for the store's "now".
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openAt(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(ctx, path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openTest opens a fresh store with a test clock.
func openTest(t testing.TB) (*DB, *testClock) {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	c := &testClock{t: t0}
	db.now = c.now
	return db, c
}

var testIDs = event.NewIDSource()

// ev makes an event at t with a host, user and source ip.
func ev(ws, src string, t time.Time, host, user, ip string) store.StoredEvent {
	idTime := t
	if t.Before(time.Unix(0, 0)) {
		idTime = t0 // ids are given at ingest, whatever the event's own time
	}
	e := store.StoredEvent{
		ID:        testIDs.New(idTime),
		Workspace: ws,
		Source:    src,
		Format:    "json",
		Logsource: event.Logsource{Product: "linux", Service: "sshd"},
		Time:      t,
		Received:  t.Add(time.Second),
		Raw:       []byte(`{"host":"` + host + `","user":"` + user + `","ip":"` + ip + `"}`),
	}
	e.Common[event.HostName] = host
	e.Common[event.UserName] = user
	e.Common[event.SourceIP] = ip
	e.Common[event.EventOutcome] = "failure"
	return e
}

func batch(ws, src string, evs ...store.StoredEvent) *store.Batch {
	return &store.Batch{ID: event.NewID(), Workspace: ws, Source: src, Format: "json", Received: t0, Events: evs}
}

// sig makes a signal of rule about host h, evidenced by e.
func sig(ws, rule string, sev alert.Severity, h string, e store.StoredEvent) alert.Signal {
	ents := []alert.Entity{{Type: alert.EntityHost, Value: h}}
	return alert.Signal{
		Workspace:  ws,
		Type:       "signature",
		Rule:       alert.RuleRef{ID: rule, Title: "rule " + rule},
		Severity:   sev,
		Tactics:    []string{"credential_access"},
		Techniques: []string{"T1110"},
		Entities:   ents,
		DedupKey:   alert.DedupKey(ws, rule, ents),
		Evidence:   alert.Evidence{EventID: e.ID.String(), Time: e.Time},
	}
}

func commit(t testing.TB, db *DB, bs ...*store.Batch) int {
	t.Helper()
	n, err := db.Commit(ctx, bs)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return n
}

func mustWorkspace(t testing.TB, db *DB, name string) {
	t.Helper()
	if _, err := db.CreateWorkspace(ctx, name, tenant.TierStandard); err != nil {
		t.Fatalf("CreateWorkspace(%s): %v", name, err)
	}
}

// allEvents pages through Events with page size n.
func allEvents(t testing.TB, db *DB, ws string, q store.EventQuery) []store.StoredEvent {
	t.Helper()
	var out []store.StoredEvent
	for page := 0; ; page++ {
		evs, next, err := db.Events(ctx, ws, q)
		if err != nil {
			t.Fatalf("Events page %d: %v", page, err)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		if page > 100000 {
			t.Fatal("Events: paging does not end")
		}
		q.Cursor = next
	}
}

var dataDir = filepath.Join("..", "..", "..", "shared", "data")

// windowsEvents reads up to n events of the Mordor corpus
// (storetest.WindowsEvents); ok is false when the corpus is absent.
func windowsEvents(tb testing.TB, n int) ([]store.StoredEvent, bool) {
	return storetest.WindowsEvents(tb, filepath.Join(dataDir, "events", "windows-mordor.jsonl.gz"), n, t0)
}

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
