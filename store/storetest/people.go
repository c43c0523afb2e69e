package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// People is the rest of what `vigil serve` asks of a store for the people
// who work it and what they work on: users and sessions, incidents, and the
// alert and incident streams.
type People interface {
	store.Store
	store.Users
	store.Incidents
	store.IncidentCorrelation
	store.AlertStream
	ChangeHeads(ctx context.Context) (alerts, incidents int64, err error)
	PurgeIncidentChanges(ctx context.Context, before time.Time) (int64, error)
	// AlertsByID reads the alerts of these ids in one query (an
	// incident's assessment).
	AlertsByID(ctx context.Context, workspace string, ids []string) (map[string]alert.Alert, error)
}

// PeopleOpener opens an empty store for one test, and closes it when the
// test ends.
type PeopleOpener func(t *testing.T) People

// RunPeople runs the conformance tests of users, incidents and the streams
// against stores that open makes.
func RunPeople(t *testing.T, open PeopleOpener) {
	tests := []struct {
		name string
		f    func(*testing.T, People)
	}{
		{"UsersAndSessions", testUsersAndSessions},
		{"AlertStream", testAlertStream},
		{"AlertStreamConcurrentWriters", testAlertStreamConcurrent},
		{"IncidentsByHand", testIncidentsByHand},
		{"AlertsByID", testAlertsByID},
		{"IncidentPagingAndFilters", testIncidentPaging},
		{"IncidentIsolation", testIncidentIsolation},
		{"IncidentCorrelation", testIncidentCorrelation},
		{"IncidentStreamConcurrentWriters", testIncidentStreamConcurrent},
		{"IncidentConcurrentChanges", testIncidentConcurrentChanges},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

func testUsersAndSessions(t *testing.T, db People) {
	mustWorkspace(t, db, "acme", "beta")
	u := tenant.User{Name: "alice", PasswordHash: "$argon2id$x", Roles: []tenant.Membership{{Workspace: "acme", Role: tenant.RoleResponder}}}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second alice: %v, want a conflict", err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "bob", PasswordHash: "h", Roles: []tenant.Membership{{Workspace: "nowhere", Role: tenant.RoleAdmin}}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a role in a missing workspace: %v", err)
	}
	if _, err := db.User(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob was kept after his refused role: %v", err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "carol", PasswordHash: "h", Roles: []tenant.Membership{{Workspace: "acme", Role: "root"}}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("role root: %v", err)
	}
	if err := db.SetRole(ctx, "alice", "beta", tenant.RoleReader); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRole(ctx, "nobody", "beta", tenant.RoleReader); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role of a missing user: %v", err)
	}
	got, err := db.User(ctx, "alice")
	if err != nil || got.RoleIn("acme") != tenant.RoleResponder || got.RoleIn("beta") != tenant.RoleReader || got.PasswordHash != "$argon2id$x" {
		t.Fatalf("alice: %+v, %v", got, err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "dave", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	all, err := db.Users(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "alice" || all[1].Name != "dave" || len(all[0].Roles) != 2 ||
		all[0].Roles[0].Workspace != "acme" || all[1].Roles == nil || len(all[1].Roles) != 0 {
		t.Fatalf("users: %+v, %v", all, err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	if err := db.RecordLogin(ctx, "alice", at); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.User(ctx, "alice"); got.LastLogin == nil || !got.LastLogin.Equal(at) {
		t.Fatalf("last login %v, want %v", got.LastLogin, at)
	}

	now := time.Now().UTC()
	session := func(id, ws string) []byte {
		h := sha256.Sum256([]byte("secret-" + id))
		if err := db.CreateSession(ctx, tenant.Session{ID: id, Hash: h[:], User: "alice", Workspace: ws, CSRF: "tok-" + id,
			Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return h[:]
	}
	h1, h2 := session("s1", "acme"), session("s2", "beta")
	s, err := db.SessionByHash(ctx, h1, now)
	if err != nil || s.User != "alice" || s.Role != tenant.RoleResponder || s.CSRF != "tok-s1" || s.ID != "s1" {
		t.Fatalf("session s1: %+v, %v", s, err)
	}
	if _, err := db.SessionByHash(ctx, h1, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v", err)
	}
	// Touching moves the expiry.
	if err := db.TouchSession(ctx, "s1", now.Add(time.Minute), now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h1, now.Add(2*time.Hour)); err != nil {
		t.Fatalf("a touched session: %v", err)
	}
	// Losing the role in beta ends the beta session only.
	if err := db.SetRole(ctx, "alice", "beta", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h2, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session in a workspace the user left: %v", err)
	}
	if _, err := db.SessionByHash(ctx, h1, now); err != nil {
		t.Fatalf("session s1 after leaving beta: %v", err)
	}
	// A changed role ends the sessions of that workspace, granted for the
	// old role; the same role again ends none.
	if err := db.SetRole(ctx, "alice", "beta", tenant.RoleReader); err != nil {
		t.Fatal(err)
	}
	h7 := session("s7", "beta")
	if err := db.SetRole(ctx, "alice", "beta", tenant.RoleReader); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h7, now); err != nil {
		t.Fatalf("session after the same role again: %v", err)
	}
	if err := db.SetRole(ctx, "alice", "beta", tenant.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h7, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after a role change: %v", err)
	}
	if _, err := db.SessionByHash(ctx, h1, now); err != nil {
		t.Fatalf("session s1 in acme after a role change in beta: %v", err)
	}
	// Disabling ends every session; enabling does not bring them back.
	if err := db.SetUserDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h1, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if err := db.SetUserDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h1, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session came back with the user: %v", err)
	}
	// A new password ends sessions; logging out everywhere too.
	h3 := session("s3", "acme")
	if err := db.SetPassword(ctx, "alice", "$argon2id$y"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h3, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after a password change: %v", err)
	}
	if got, _ := db.User(ctx, "alice"); got.PasswordHash != "$argon2id$y" {
		t.Fatalf("password hash %q after the change", got.PasswordHash)
	}
	h4 := session("s4", "acme")
	session("s5", "acme")
	if err := db.DeleteSession(ctx, "s4"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, h4, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted session: %v", err)
	}
	if n, err := db.DeleteUserSessions(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("log out everywhere: %d, %v", n, err)
	}
	if err := db.SetPassword(ctx, "nobody", "h"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("password of a missing user: %v", err)
	}
	session("s6", "acme")
	if n, err := db.PurgeSessions(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
}

// alertChangesAfter reads the whole alert stream after seq, in small
// pages.
func alertChangesAfter(t *testing.T, db People, seq int64) []store.AlertChange {
	t.Helper()
	var out []store.AlertChange
	for {
		cs, err := db.AlertChanges(ctx, seq, 2)
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

func raised(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func testAlertStream(t *testing.T, db People) {
	mustWorkspace(t, db, "acme", "beta")
	signal := db.AlertChangesSignal()
	e1 := Event("acme", "s", T0, "h1", "u", "1.1.1.1")
	e2 := Event("acme", "s", T0, "h2", "u", "1.1.1.1")
	b1 := Batch("acme", "s", e1, e2)
	b1.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h1", e1), Signal("acme", "r1", alert.High, "h2", e2),
		Signal("acme", "r1", alert.High, "h1", e1)} // h1 twice: one alert, one change
	eb := Event("beta", "s", T0, "hb", "u", "2.2.2.2")
	bb := Batch("beta", "s", eb)
	bb.Signals = []alert.Signal{Signal("beta", "r1", alert.Low, "hb", eb)}
	commit(t, db, b1, bb)
	if !raised(signal) {
		t.Error("the change signal was not raised by a commit that changed alerts")
	}
	cs := alertChangesAfter(t, db, 0)
	if len(cs) != 3 {
		t.Fatalf("%d changes after the first commit, want 3: %+v", len(cs), cs)
	}
	for i, c := range cs {
		if c.Kind != store.ChangeCreated || c.Status != alert.StatusNew || (i > 0 && c.Seq <= cs[i-1].Seq) {
			t.Fatalf("change %d: %+v", i, c)
		}
	}

	// A signal that joins an alert is an update; a replayed batch appends
	// nothing and raises no signal.
	e3 := Event("acme", "s", T0.Add(time.Minute), "h1", "u", "1.1.1.1")
	b2 := Batch("acme", "s", e3)
	b2.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h1", e3)}
	commit(t, db, b2)
	signal = db.AlertChangesSignal()
	if n := commit(t, db, b2); n != 0 {
		t.Fatalf("replay committed %d batches", n)
	}
	if raised(signal) {
		t.Error("a replayed batch raised the change signal")
	}
	cs = alertChangesAfter(t, db, 0)
	if len(cs) != 4 || cs[3].Kind != store.ChangeUpdated || cs[3].AlertID != cs[0].AlertID && cs[3].AlertID != cs[1].AlertID {
		t.Fatalf("after the update: %+v", cs)
	}
	h1 := cs[3].AlertID

	// A status change appends one; a refused one does not.
	if _, err := db.SetAlertStatus(ctx, "acme", h1, alert.StatusResolved, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetAlertStatus(ctx, "acme", h1, alert.StatusNew, "cli"); err == nil {
		t.Fatal("resolved -> new accepted")
	}
	cs = alertChangesAfter(t, db, cs[3].Seq)
	if len(cs) != 1 || cs[0].Kind != store.ChangeStatus || cs[0].Status != alert.StatusResolved || cs[0].AlertID != h1 || cs[0].Workspace != "acme" {
		t.Fatalf("after the status change: %+v", cs)
	}
	heads, _, err := db.ChangeHeads(ctx)
	if err != nil || heads != cs[0].Seq {
		t.Fatalf("head %d, %v; want %d", heads, err, cs[0].Seq)
	}

	// Cursors: 0 for a consumer never seen, never move back.
	if seq, err := db.ConsumerCursor(ctx, "incidents"); err != nil || seq != 0 {
		t.Fatalf("new cursor %d, %v", seq, err)
	}
	for _, s := range []int64{heads, 1} {
		if err := db.SetConsumerCursor(ctx, "incidents", s); err != nil {
			t.Fatal(err)
		}
	}
	if seq, _ := db.ConsumerCursor(ctx, "incidents"); seq != heads {
		t.Fatalf("cursor %d after moving it back, want %d", seq, heads)
	}
	if err := db.SetConsumerCursor(ctx, "", 1); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a cursor without a name: %v", err)
	}
	// Purging keeps what a consumer has not acknowledged.
	if err := db.SetConsumerCursor(ctx, "slow", 2); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PurgeAlertChanges(ctx, T0.Add(-time.Hour)); err != nil || n != 2 {
		t.Fatalf("purge up to the slowest cursor: %d, %v", n, err)
	}
	if cs := alertChangesAfter(t, db, 0); len(cs) != 3 || cs[0].Seq != 3 {
		t.Fatalf("after the purge: %+v", cs)
	}
	if n, err := db.PurgeAlertChanges(ctx, time.Now().Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("purge by age: %d, %v", n, err)
	}
	// A purged seq is not given again.
	e4 := Event("acme", "s", T0.Add(2*time.Minute), "h9", "u", "1.1.1.1")
	b4 := Batch("acme", "s", e4)
	b4.Signals = []alert.Signal{Signal("acme", "r1", alert.High, "h9", e4)}
	commit(t, db, b4)
	if cs := alertChangesAfter(t, db, 0); len(cs) != 1 || cs[0].Seq <= heads {
		t.Fatalf("after the purge, a new change: %+v (head was %d)", cs, heads)
	}
}

// testAlertStreamConcurrent commits from several writers at once while a
// consumer follows the stream: it must see every change, in seq order,
// none twice — a change committed after a higher seq was read would be
// skipped.
func testAlertStreamConcurrent(t *testing.T, db People) {
	const writers, batches = 4, 15
	mustWorkspace(t, db, "acme")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				h := fmt.Sprintf("h%d-%d", w, i)
				// A source each: writers share no row a store might
				// lock, so only the stream itself orders them.
				src := fmt.Sprintf("s%d", w)
				e := Event("acme", src, T0.Add(time.Duration(i)*time.Second), h, "u", "1.1.1.1")
				b := Batch("acme", src, e)
				b.Signals = []alert.Signal{Signal("acme", "r1", alert.High, h, e)}
				if _, err := db.Commit(ctx, []*store.Batch{b}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen []store.AlertChange
	var cursor int64
	follow := func() {
		cs, err := db.AlertChanges(ctx, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Seq <= cursor {
				t.Fatalf("change %d after cursor %d", c.Seq, cursor)
			}
			cursor = c.Seq
		}
		seen = append(seen, cs...)
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		follow()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for range 3 {
		follow()
	}
	all := alertChangesAfter(t, db, 0)
	if len(all) != writers*batches {
		t.Fatalf("%d changes in the stream, want %d", len(all), writers*batches)
	}
	if len(seen) != len(all) {
		missed := map[int64]bool{}
		for _, c := range all {
			missed[c.Seq] = true
		}
		for _, c := range seen {
			delete(missed, c.Seq)
		}
		t.Fatalf("the consumer saw %d of %d changes; skipped %v", len(seen), len(all), slices.Sorted(mapKeys(missed)))
	}
}

func mapKeys(m map[int64]bool) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
