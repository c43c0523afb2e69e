package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

type usersPage struct {
	Users []WorkspaceUser `json:"users"`
}

func (p usersPage) role(name string) string {
	for _, u := range p.Users {
		if u.Name == name {
			return u.Role
		}
	}
	return ""
}

// auditActionsOn are the actions of workspace ws's audit log on target,
// oldest first.
func auditActionsOn(t *testing.T, st store.Store, ws, target string) []string {
	t.Helper()
	entries, _, err := st.AuditLog(context.Background(), ws, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Target == target {
			out = append(out, e.Action+" "+e.Detail)
		}
	}
	slices.Reverse(out) // oldest first
	return out
}

// TestUsers: a workspace's admin creates a user, changes its role and
// removes it; each change is audited and ends the user's sessions here;
// other roles may not; the last admin stays; a user of another workspace
// keeps its password.
func TestUsers(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	const pw = "a long password here"

	// Who may: admins only, reading included.
	wantProblem(t, f.do(http.MethodGet, "/api/v1/users", "a-read", nil), http.StatusForbidden, "")
	wantProblem(t, f.do(http.MethodGet, "/api/v1/users", "a-responder", nil), http.StatusForbidden, "")
	wantProblem(t, f.do(http.MethodPost, "/api/v1/users", "a-responder", map[string]any{"name": "x", "password": pw, "role": "admin"}), http.StatusForbidden, "")

	// Invalid input.
	for _, body := range []map[string]any{
		{"name": "una", "role": "reader"},                      // a new user needs a password
		{"name": "una", "password": "short", "role": "reader"}, // too short
		{"name": "u n a", "password": pw, "role": "reader"},    // not a user name
		{"name": "una", "password": pw, "role": "root"},        // not a role
	} {
		if w := f.do(http.MethodPost, "/api/v1/users", "a-admin", body); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("POST users %v: %d, want 422; %s", body, w.Code, w.Body)
		}
	}

	var u WorkspaceUser
	want(t, f.do(http.MethodPost, "/api/v1/users", "a-admin", map[string]any{"name": "una", "password": pw, "role": "reader"}), http.StatusCreated, &u)
	if u.Name != "una" || u.Role != tenant.RoleReader || u.Created.IsZero() {
		t.Errorf("created: %+v", u)
	}
	var list usersPage
	want(t, f.do(http.MethodGet, "/api/v1/users", "a-admin", nil), http.StatusOK, &list)
	if list.role("una") != tenant.RoleReader {
		t.Errorf("list after create: %+v", list.Users)
	}
	// Taken: a second create with a password, or of a member here.
	wantProblem(t, f.do(http.MethodPost, "/api/v1/users", "a-admin", map[string]any{"name": "una", "role": "admin"}), http.StatusConflict, "PATCH")

	una, w := signIn(t, f, "una", pw, "a")
	if una == nil {
		t.Fatalf("una signs in: %d %s", w.Code, w.Body)
	}
	want(t, f.do(http.MethodPatch, "/api/v1/users/una", "a-admin", map[string]any{"role": "responder"}), http.StatusOK, &u)
	if u.Role != tenant.RoleResponder {
		t.Errorf("after PATCH: %+v", u)
	}
	// The session granted for reader has ended.
	if w := una.do(http.MethodGet, "/api/v1/session", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("una's session after her role changed: %d, want 401", w.Code)
	}
	una, _ = signIn(t, f, "una", pw, "a")
	var who SessionView
	want(t, una.do(http.MethodGet, "/api/v1/session", nil, nil), http.StatusOK, &who)
	if who.Role != tenant.RoleResponder {
		t.Errorf("una signed in again: %+v", who)
	}

	want(t, f.do(http.MethodDelete, "/api/v1/users/una", "a-admin", nil), http.StatusNoContent, nil)
	if w := una.do(http.MethodGet, "/api/v1/session", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("una's session after removal: %d, want 401", w.Code)
	}
	want(t, f.do(http.MethodGet, "/api/v1/users", "a-admin", nil), http.StatusOK, &list)
	if list.role("una") != "" {
		t.Errorf("una still listed after removal: %+v", list.Users)
	}
	wantProblem(t, f.do(http.MethodDelete, "/api/v1/users/una", "a-admin", nil), http.StatusNotFound, "")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/users/una", "a-admin", map[string]any{"role": "admin"}), http.StatusNotFound, "")

	got := auditActionsOn(t, db, "a", "user:una")
	wantAudit := []string{"user.created role reader", "user.role reader -> responder", "user.removed was responder"}
	if !slices.Equal(got, wantAudit) {
		t.Errorf("audit of una:\n got %q\nwant %q", got, wantAudit)
	}
	entries, _, _ := db.AuditLog(ctx, "a", store.AuditQuery{Limit: 10})
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "user.") && e.Actor != "key:"+f.keyIDs["a-admin"] {
			t.Errorf("audit %s by %q, want the admin key", e.Action, e.Actor)
		}
	}

	// A user of workspace b: a's admin may give it a role in a, never a
	// password; b's role and the password stay.
	h, err := tenant.HashPassword("bea's own password")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "bea", PasswordHash: h, Roles: []tenant.Membership{{Workspace: "b", Role: tenant.RoleAdmin}}}); err != nil {
		t.Fatal(err)
	}
	want(t, f.do(http.MethodGet, "/api/v1/users", "a-admin", nil), http.StatusOK, &list)
	if list.role("bea") != "" {
		t.Errorf("a's admin sees b's user: %+v", list.Users)
	}
	wantProblem(t, f.do(http.MethodPost, "/api/v1/users", "a-admin", map[string]any{"name": "bea", "password": "a password of a's admin", "role": "reader"}), http.StatusConflict, "own password")
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/users/bea", "a-admin", map[string]any{"role": "reader"}), http.StatusNotFound, "")
	wantProblem(t, f.do(http.MethodDelete, "/api/v1/users/bea", "a-admin", nil), http.StatusNotFound, "")
	want(t, f.do(http.MethodPost, "/api/v1/users", "a-admin", map[string]any{"name": "bea", "role": "reader"}), http.StatusCreated, &u)
	if u.Role != tenant.RoleReader {
		t.Errorf("bea added to a: %+v", u)
	}
	bea, err := db.User(ctx, "bea")
	if err != nil || bea.RoleIn("a") != tenant.RoleReader || bea.RoleIn("b") != tenant.RoleAdmin || !tenant.CheckPassword(bea.PasswordHash, "bea's own password") {
		t.Errorf("bea after a's admin added her: %+v, %v", bea, err)
	}
	// Removing her from a leaves her b.
	want(t, f.do(http.MethodDelete, "/api/v1/users/bea", "a-admin", nil), http.StatusNoContent, nil)
	if bea, err := db.User(ctx, "bea"); err != nil || bea.RoleIn("a") != "" || bea.RoleIn("b") != tenant.RoleAdmin {
		t.Errorf("bea after removal from a: %+v, %v", bea, err)
	}
	if c, w := signIn(t, f, "bea", "bea's own password", "b"); c == nil {
		t.Errorf("bea signs in to b: %d %s", w.Code, w.Body)
	}

	// The last admin user stays admin.
	want(t, f.do(http.MethodPost, "/api/v1/users", "a-admin", map[string]any{"name": "ada", "password": pw, "role": "admin"}), http.StatusCreated, nil)
	wantProblem(t, f.do(http.MethodPatch, "/api/v1/users/ada", "a-admin", map[string]any{"role": "reader"}), http.StatusConflict, "last admin")
	wantProblem(t, f.do(http.MethodDelete, "/api/v1/users/ada", "a-admin", nil), http.StatusConflict, "last admin")
	if err := db.SetRole(ctx, "bea", "a", tenant.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	want(t, f.do(http.MethodPatch, "/api/v1/users/ada", "a-admin", map[string]any{"role": "reader"}), http.StatusOK, nil)
}

// TestUsersWithoutUserStore: a store that keeps no users answers 503.
func TestUsersWithoutUserStore(t *testing.T) {
	f := newFixture(t, newFakeStore())
	wantProblem(t, f.do(http.MethodGet, "/api/v1/users", "a-admin", nil), http.StatusServiceUnavailable, "no users")
}
