package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// redeem posts a ticket as the sign-in page's /welcome does.
func redeem(t *testing.T, f *fixture, ticket string) (*sessionClient, int) {
	t.Helper()
	c := &sessionClient{t: t, f: f}
	w := c.do(http.MethodPost, "/api/v1/session", map[string]string{"ticket": ticket}, nil)
	if w.Code != http.StatusOK {
		return nil, w.Code
	}
	for _, ck := range w.Result().Cookies() {
		if ck.Name == SessionCookie {
			c.cookie = ck
		}
	}
	var v SessionView
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || c.cookie == nil || v.CSRFToken == "" {
		t.Fatalf("ticket sign-in answer %s (cookie %v): %v", w.Body, c.cookie, err)
	}
	c.csrf = v.CSRFToken
	return c, w.Code
}

// auditActions lists the workspace's audit lines as "action target detail".
func auditActions(t *testing.T, st store.Store, ws string) []string {
	t.Helper()
	es, _, err := st.AuditLog(context.Background(), ws, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" "+e.Target+" "+e.Detail)
	}
	return out
}

func hasLine(lines []string, parts ...string) bool {
next:
	for _, l := range lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return true
	}
	return false
}

// TestSignInTickets: a ticket signs its user in once, with the role the
// user holds when it is used, until it expires; it is made only for a
// user with a role in the workspace; every use and failure is audited.
func TestSignInTickets(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	h, err := tenant.HashPassword("a long password here")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "dora", PasswordHash: h, Roles: []tenant.Membership{{Workspace: "a", Role: tenant.RoleReader}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.api.IssueSignInTicket("dora", "b", time.Hour); err == nil {
		t.Error("a ticket for a workspace the user has no role in was issued")
	}
	if _, err := f.api.IssueSignInTicket("nobody", "a", time.Hour); err == nil {
		t.Error("a ticket for an unknown user was issued")
	}
	if _, err := f.api.IssueSignInTicket("dora", "a", 0); err == nil {
		t.Error("a ticket without a lifetime was issued")
	}

	tk, err := f.api.IssueSignInTicket("dora", "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The role is the one the user holds when the ticket is used.
	if err := db.SetRole(ctx, "dora", "a", tenant.RoleResponder); err != nil {
		t.Fatal(err)
	}
	c, code := redeem(t, f, tk)
	if c == nil {
		t.Fatalf("first use: %d", code)
	}
	var who SessionView
	want(t, c.do(http.MethodGet, "/api/v1/session", nil, nil), http.StatusOK, &who)
	if who.User != "dora" || who.Workspace != "a" || who.Role != tenant.RoleResponder {
		t.Errorf("signed in by link as %+v", who)
	}
	if _, code := redeem(t, f, tk); code != http.StatusUnauthorized {
		t.Errorf("second use: %d, want 401", code)
	}
	if _, code := redeem(t, f, "vgt_made-up"); code != http.StatusUnauthorized {
		t.Errorf("unknown ticket: %d, want 401", code)
	}

	old, err := f.api.IssueSignInTicket("dora", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if _, code := redeem(t, f, old); code != http.StatusUnauthorized {
		t.Errorf("expired ticket: %d, want 401", code)
	}

	// A user disabled after the ticket was made is not signed in.
	late, err := f.api.IssueSignInTicket("dora", "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserDisabled(ctx, "dora", true); err != nil {
		t.Fatal(err)
	}
	if _, code := redeem(t, f, late); code != http.StatusUnauthorized {
		t.Errorf("ticket of a disabled user: %d, want 401", code)
	}

	lines := auditActions(t, db, "a")
	if !hasLine(lines, "auth.login", "session:", "role responder", "by link") {
		t.Errorf("no audited sign-in by link in %q", lines)
	}
	if !hasLine(lines, "auth.login_failed", "user:dora", "expired ticket") || !hasLine(lines, "auth.login_failed", "user:dora", "disabled user") {
		t.Errorf("expired or disabled ticket not audited in %q", lines)
	}
	unknown := auditActions(t, db, "")
	if !hasLine(unknown, "auth.login_failed", "ticket", "unknown or used") {
		t.Errorf("unknown ticket not audited: %q", unknown)
	}
}
