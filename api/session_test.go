package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/alert"
	"github.com/vigil-sec/vigil/tenant"
)

// sessionClient drives the API as a browser does: a cookie jar of one
// cookie and the CSRF token from the sign-in.
type sessionClient struct {
	t      *testing.T
	f      *fixture
	cookie *http.Cookie
	csrf   string
}

func (c *sessionClient) do(method, path string, body any, hdr map[string]string) *httptest.ResponseRecorder {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	c.f.api.ServeHTTP(w, r)
	return w
}

func signIn(t *testing.T, f *fixture, user, password, ws string) (*sessionClient, *httptest.ResponseRecorder) {
	t.Helper()
	c := &sessionClient{t: t, f: f}
	w := c.do(http.MethodPost, "/api/v1/session", map[string]string{"user": user, "password": password, "workspace": ws}, nil)
	if w.Code != http.StatusOK {
		return nil, w
	}
	for _, ck := range w.Result().Cookies() {
		if ck.Name == SessionCookie {
			c.cookie = ck
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Errorf("session cookie %+v: want HttpOnly and SameSite=Strict", ck)
			}
		}
	}
	var v SessionView
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || c.cookie == nil || v.CSRFToken == "" {
		t.Fatalf("sign-in answer %s (cookie %v): %v", w.Body, c.cookie, err)
	}
	c.csrf = v.CSRFToken
	return c, w
}

// TestSessions: a user signs in with its password and works with its role's
// scope through the cookie; state-changing requests need the CSRF token
// and are refused cross-site; a reader changes nothing; failures are
// audited and throttled; signing out (here and everywhere) ends sessions.
func TestSessions(t *testing.T) {
	db := openSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	for _, u := range []struct{ name, role string }{{"rita", tenant.RoleResponder}, {"rob", tenant.RoleReader}} {
		h, err := tenant.HashPassword("a long password here")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, tenant.User{Name: u.name, PasswordHash: h, Roles: []tenant.Membership{{Workspace: "a", Role: u.role}}}); err != nil {
			t.Fatal(err)
		}
	}
	al := f.seeds["a"].alertIDs[0]

	rita, w := signIn(t, f, "rita", "a long password here", "")
	if rita == nil {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	var who SessionView
	want(t, rita.do(http.MethodGet, "/api/v1/session", nil, nil), http.StatusOK, &who)
	if who.User != "rita" || who.Workspace != "a" || who.Role != tenant.RoleResponder || who.Scope != tenant.ScopeResponder {
		t.Errorf("who am I: %+v", who)
	}
	want(t, rita.do(http.MethodGet, "/api/v1/alerts", nil, nil), http.StatusOK, nil)

	// A change needs the token, from this site.
	patch := map[string]string{"status": "active"}
	wantProblem(t, rita.do(http.MethodPatch, "/api/v1/alerts/"+al, patch, nil), http.StatusForbidden, CSRFHeader)
	wantProblem(t, rita.do(http.MethodPatch, "/api/v1/alerts/"+al, patch, map[string]string{CSRFHeader: "forged"}), http.StatusForbidden, CSRFHeader)
	wantProblem(t, rita.do(http.MethodPatch, "/api/v1/alerts/"+al, patch,
		map[string]string{CSRFHeader: rita.csrf, "Sec-Fetch-Site": "cross-site"}), http.StatusForbidden, "cross-site")
	wantProblem(t, rita.do(http.MethodPatch, "/api/v1/alerts/"+al, patch,
		map[string]string{CSRFHeader: rita.csrf, "Origin": "https://evil.example"}), http.StatusForbidden, "cross-site")
	if a, _ := db.Alert(ctx, "a", al); a.Status != alert.StatusNew {
		t.Fatalf("a refused request changed the alert to %s", a.Status)
	}
	want(t, rita.do(http.MethodPatch, "/api/v1/alerts/"+al, patch, map[string]string{CSRFHeader: rita.csrf, "Origin": "http://example.com"}), http.StatusOK, nil)
	if a, _ := db.Alert(ctx, "a", al); a.Status != alert.StatusActive {
		t.Fatalf("rita's change: alert %s", a.Status)
	}
	// A responder mints no keys.
	wantProblem(t, rita.do(http.MethodPost, "/api/v1/keys", map[string]string{"scope": "admin"}, map[string]string{CSRFHeader: rita.csrf}), http.StatusForbidden, "responder")

	// A reader changes nothing, even with its token.
	rob, _ := signIn(t, f, "rob", "a long password here", "a")
	wantProblem(t, rob.do(http.MethodPatch, "/api/v1/alerts/"+al, map[string]string{"status": "resolved"}, map[string]string{CSRFHeader: rob.csrf}), http.StatusForbidden, "reader")

	// Failures: one answer for an unknown user and a wrong password; the
	// sixth try of a name is throttled; every failure is audited.
	for _, c := range []struct{ user, pw, ws string }{{"nobody", "a long password here", ""}, {"rita", "wrong password!!", ""}, {"rita", "a long password here", "b"}} {
		if c2, w := signIn(t, f, c.user, c.pw, c.ws); c2 != nil || w.Code != http.StatusUnauthorized {
			t.Errorf("sign-in %+v: %d, want 401", c, w.Code)
		}
	}
	for range LoginFailLimit {
		signIn(t, f, "rob", "not the password", "")
	}
	if _, w := signIn(t, f, "rob", "a long password here", ""); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("sign-in after %d failures: %d, want 429 with Retry-After", LoginFailLimit, w.Code)
	}
	var log struct {
		Entries []struct{ Action, Actor, Target, Detail string } `json:"entries"`
	}
	want(t, f.do(http.MethodGet, "/api/v1/audit?limit=1000", "a-admin", nil), http.StatusOK, &log)
	seen := map[string]int{}
	for _, e := range log.Entries {
		seen[e.Action]++
		if e.Action == "alert.status" && e.Actor != "user:rita" {
			t.Errorf("rita's change audited as %q", e.Actor)
		}
	}
	if seen["auth.login"] != 2 || seen["auth.login_failed"] == 0 {
		t.Errorf("audit actions %v: want 2 auth.login and the failures", seen)
	}

	// Signing out ends this session; everywhere ends the others.
	second, _ := signIn(t, f, "rita", "a long password here", "a")
	w = rita.do(http.MethodDelete, "/api/v1/session", nil, map[string]string{CSRFHeader: rita.csrf})
	if w.Code != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", w.Code, w.Body)
	}
	wantProblem(t, rita.do(http.MethodGet, "/api/v1/alerts", nil, nil), http.StatusUnauthorized, "")
	want(t, second.do(http.MethodGet, "/api/v1/alerts", nil, nil), http.StatusOK, nil)
	third, _ := signIn(t, f, "rita", "a long password here", "a")
	if w := second.do(http.MethodDelete, "/api/v1/sessions", nil, map[string]string{CSRFHeader: second.csrf}); w.Code != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %s", w.Code, w.Body)
	}
	for _, c := range []*sessionClient{second, third} {
		if w := c.do(http.MethodGet, "/api/v1/alerts", nil, nil); w.Code != http.StatusUnauthorized {
			t.Errorf("a session after signing out everywhere: %d", w.Code)
		}
	}
	// A disabled user's session ends at once.
	fourth, _ := signIn(t, f, "rita", "a long password here", "a")
	if err := db.SetUserDisabled(ctx, "rita", true); err != nil {
		t.Fatal(err)
	}
	if w := fourth.do(http.MethodGet, "/api/v1/alerts", nil, nil); w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("Set-Cookie"), SessionCookie+"=;") {
		t.Errorf("a disabled user's session: %d, cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
}
