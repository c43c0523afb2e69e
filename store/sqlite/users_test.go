package sqlite

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

func TestUsersAndSessions(t *testing.T) {
	db, clock := openTest(t)
	for _, ws := range []string{"acme", "beta"} {
		if _, err := db.CreateWorkspace(ctx, ws, tenant.TierStandard); err != nil {
			t.Fatal(err)
		}
	}
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
	got, err := db.User(ctx, "alice")
	if err != nil || got.RoleIn("acme") != tenant.RoleResponder || got.RoleIn("beta") != tenant.RoleReader || got.PasswordHash != "$argon2id$x" {
		t.Fatalf("alice: %+v, %v", got, err)
	}

	now := clock.now()
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
	if err != nil || s.User != "alice" || s.Role != tenant.RoleResponder || s.CSRF != "tok-s1" {
		t.Fatalf("session s1: %+v, %v", s, err)
	}
	if _, err := db.SessionByHash(ctx, h1, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v", err)
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
	session("s4", "acme")
	session("s5", "acme")
	if n, err := db.DeleteUserSessions(ctx, "alice"); err != nil || n != 2 {
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
