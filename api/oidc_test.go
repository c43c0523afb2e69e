package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/vigil-sec/vigil/tenant"
)

const ssoRedirect = "http://vigil.test/api/v1/session/oidc/callback"

// ssoFixture is the API with single sign-on against a local mock
// provider, over a SQLite store (users live there).
func ssoFixture(t *testing.T, adopt bool) (*fixture, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	db := openSQLite(t)
	f := newFixtureWith(t, db, func(c *Config) {
		c.OIDC = &OIDCConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, RedirectURL: ssoRedirect,
			Scopes: []string{"profile", "email", "groups"}, Name: "Mock", AdoptLocalUsers: adopt,
			Roles: []OIDCRole{{"soc", "a", tenant.RoleResponder}, {"soc-leads", "a", tenant.RoleAdmin}, {"viewers", "b", tenant.RoleReader},
				{"ghosts", "nowhere", tenant.RoleAdmin}}}
	})
	return f, m
}

// ssoBrowser plays the browser of a single sign-on: it keeps cookies and
// lets the test change the provider's URL or the callback on the way.
type ssoBrowser struct {
	t       *testing.T
	f       *fixture
	cookies map[string]*http.Cookie
}

func (b *ssoBrowser) get(path string) *httptest.ResponseRecorder {
	b.t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.f.api.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

// start asks vigil to sign in and returns the provider's authorization
// URL it was sent to.
func (b *ssoBrowser) start(next string) *url.URL {
	b.t.Helper()
	w := b.get("/api/v1/session/oidc?next=" + url.QueryEscape(next))
	if w.Code != http.StatusFound {
		b.t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	fc := b.cookies[oidcCookie]
	if fc == nil || !fc.HttpOnly || fc.SameSite != http.SameSiteLaxMode {
		b.t.Fatalf("flow cookie %+v: want HttpOnly, SameSite=Lax", fc)
	}
	q := u.Query()
	if q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		b.t.Fatalf("authorization URL lacks state, nonce or a S256 PKCE challenge: %s", u)
	}
	return u
}

// authorize visits the provider, which signs the queued user in and
// sends the browser back: it returns the callback URL.
func (b *ssoBrowser) authorize(u *url.URL) *url.URL {
	b.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u.String())
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(back.String(), ssoRedirect) {
		b.t.Fatalf("provider answered %s, to %s", resp.Status, back)
	}
	return back
}

// callback delivers the provider's redirect to vigil.
func (b *ssoBrowser) callback(back *url.URL) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.get(back.RequestURI())
}

func newSSOBrowser(t *testing.T, f *fixture) *ssoBrowser {
	return &ssoBrowser{t: t, f: f, cookies: map[string]*http.Cookie{}}
}

// ssoSignIn runs the whole flow for user and returns the browser and the
// callback's answer.
func ssoSignIn(t *testing.T, f *fixture, m *mockoidc.MockOIDC, user *mockoidc.MockUser, next string) (*ssoBrowser, *httptest.ResponseRecorder) {
	t.Helper()
	b := newSSOBrowser(t, f)
	m.QueueUser(user)
	return b, b.callback(b.authorize(b.start(next)))
}

func wantRefused(t *testing.T, what string, w *httptest.ResponseRecorder, code string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?sso="+code {
		t.Errorf("%s: %d to %q, want 303 to /signin?sso=%s; body %s", what, w.Code, w.Header().Get("Location"), code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie && c.MaxAge >= 0 {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
}

// TestOIDC: the whole flow against a mock provider — groups give roles
// per workspace (the best one when several groups name a workspace), the
// user is made as an external user without a password, later sign-ins
// follow the groups, and every sign-in, failure and role change is
// audited. A user in no mapped group, a state or nonce that does not
// match, a flow that did not start in this browser, a local user and
// another identity's user are refused.
func TestOIDC(t *testing.T) {
	f, m := ssoFixture(t, false)
	ctx := context.Background()

	b, w := ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc", "viewers", "ghosts"}}, "/incidents?stage=assess")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `url=/incidents?stage=assess`) {
		t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	if _, flow := b.cookies[oidcCookie]; flow {
		t.Error("the flow cookie outlives the callback")
	}
	sc := b.cookies[SessionCookie]
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", sc)
	}
	var who SessionView
	want(t, b.get("/api/v1/session"), http.StatusOK, &who)
	if who.User != "olga" || who.Workspace != "a" || who.Role != tenant.RoleResponder {
		t.Errorf("signed in as %+v, want olga, responder in a", who)
	}
	u, err := f.st.(interface {
		User(context.Context, string) (tenant.User, error)
	}).User(ctx, "olga")
	if err != nil {
		t.Fatal(err)
	}
	if !u.External() || tenant.CheckPassword(u.PasswordHash, "") || u.RoleIn("a") != tenant.RoleResponder || u.RoleIn("b") != tenant.RoleReader {
		t.Errorf("user made by single sign-on: %+v", u)
	}
	a := auditActions(t, f.st, "a")
	if !hasLine(a, "user.create user:olga role responder from groups soc") || !hasLine(a, "auth.login", "role responder", "by single sign-on (Mock)") {
		t.Errorf("audit of a: %q", a)
	}
	if !hasLine(auditActions(t, f.st, "b"), "user.create user:olga role reader from groups viewers") {
		t.Errorf("audit of b: %q", auditActions(t, f.st, "b"))
	}

	// The next sign-in follows the groups: admin in a, nothing in b.
	b, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc", "soc-leads"}}, "/")
	if w.Code != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", w.Code, w.Body)
	}
	want(t, b.get("/api/v1/session"), http.StatusOK, &who)
	if who.Role != tenant.RoleAdmin {
		t.Errorf("after joining soc-leads: %+v", who)
	}
	if !hasLine(auditActions(t, f.st, "a"), "user.role user:olga role admin from groups soc, soc-leads (was responder)") ||
		!hasLine(auditActions(t, f.st, "b"), "user.role user:olga role none (was reader)") {
		t.Errorf("role changes not audited: %q %q", auditActions(t, f.st, "a"), auditActions(t, f.st, "b"))
	}

	// No mapped group: no session, no user.
	_, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-ugo", PreferredUsername: "ugo", Groups: []string{"marketing"}}, "/")
	wantRefused(t, "unmapped group", w, "no-role")
	if _, err := f.st.(interface {
		User(context.Context, string) (tenant.User, error)
	}).User(ctx, "ugo"); err == nil {
		t.Error("a user in no mapped group was made")
	}
	if !hasLine(auditActions(t, f.st, ""), "auth.login_failed user:ugo", "groups marketing map to no role") {
		t.Errorf("unmapped group not audited: %q", auditActions(t, f.st, ""))
	}

	// A state that is not the flow's.
	b = newSSOBrowser(t, f)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}})
	back := b.authorize(b.start("/"))
	q := back.Query()
	q.Set("state", "forged")
	back.RawQuery = q.Encode()
	wantRefused(t, "bad state", b.callback(back), "refused")

	// A callback in a browser the flow did not start in.
	b = newSSOBrowser(t, f)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}})
	back = b.authorize(b.start("/"))
	wantRefused(t, "no flow cookie", newSSOBrowser(t, f).callback(back), "expired")

	// An ID token made for another nonce.
	b = newSSOBrowser(t, f)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}})
	authz := b.start("/")
	q = authz.Query()
	q.Set("nonce", "someone-elses")
	authz.RawQuery = q.Encode()
	wantRefused(t, "nonce mismatch", b.callback(b.authorize(authz)), "refused")

	// A PKCE verifier that is not the flow's: the provider refuses the
	// code.
	b = newSSOBrowser(t, f)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}})
	authz = b.start("/")
	q = authz.Query()
	q.Set("code_challenge", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	authz.RawQuery = q.Encode()
	wantRefused(t, "PKCE mismatch", b.callback(b.authorize(authz)), "refused")

	// Another identity of the same name, and a local user.
	_, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-other", PreferredUsername: "olga", Groups: []string{"soc-leads"}}, "/")
	wantRefused(t, "another identity's user", w, "refused")
	h, err := tenant.HashPassword("a long password here")
	if err != nil {
		t.Fatal(err)
	}
	us := f.st.(interface {
		CreateUser(context.Context, tenant.User) error
	})
	if err := us.CreateUser(ctx, tenant.User{Name: "lena", PasswordHash: h, Roles: []tenant.Membership{{Workspace: "a", Role: tenant.RoleReader}}}); err != nil {
		t.Fatal(err)
	}
	_, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-lena", PreferredUsername: "lena", Groups: []string{"soc-leads"}}, "/")
	wantRefused(t, "local user", w, "refused")
	if _, w := signIn(t, f, "lena", "a long password here", ""); w.Code != http.StatusOK {
		t.Errorf("the local user's password stopped working: %d", w.Code)
	}

	lines := auditActions(t, f.st, "")
	for _, why := range []string{"state does not match", "no flow cookie", "nonce does not match", "code exchange",
		"belongs to another single sign-on identity", "is a local user with a password"} {
		if !hasLine(lines, "auth.login_failed", "single sign-on (Mock): ", why) {
			t.Errorf("refusal %q not audited: %q", why, lines)
		}
	}

	// Out of every mapped group: refused, and the roles (and so the
	// sessions) olga had are gone.
	olga, w := ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}}, "/")
	if w.Code != http.StatusOK {
		t.Fatalf("olga again: %d %s", w.Code, w.Body)
	}
	_, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"alumni"}}, "/")
	wantRefused(t, "user who left every mapped group", w, "no-role")
	if u, err := f.st.(interface {
		User(context.Context, string) (tenant.User, error)
	}).User(ctx, "olga"); err != nil || len(u.Roles) != 0 {
		t.Errorf("olga out of every group keeps %+v, %v", u.Roles, err)
	}
	if w := olga.get("/api/v1/session"); w.Code != http.StatusUnauthorized {
		t.Errorf("olga's session after she left every group: %d", w.Code)
	}

	// A next that leaves the site is dropped.
	_, w = ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}}, "//evil.example/x")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "evil") {
		t.Errorf("next //evil.example: %d %s", w.Code, w.Body)
	}
}

// TestOIDCAdoptsLocalUsers: with oidc-adopt-local-users, the provider's
// user of a local user's name signs in as it, its password stops
// working, and its roles follow the groups.
func TestOIDCAdoptsLocalUsers(t *testing.T) {
	f, m := ssoFixture(t, true)
	h, err := tenant.HashPassword("a long password here")
	if err != nil {
		t.Fatal(err)
	}
	us := f.st.(interface {
		CreateUser(context.Context, tenant.User) error
	})
	if err := us.CreateUser(context.Background(), tenant.User{Name: "lena", PasswordHash: h, Roles: []tenant.Membership{{Workspace: "a", Role: tenant.RoleReader}}}); err != nil {
		t.Fatal(err)
	}
	// Not without a mapped group.
	_, w := ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-lena", PreferredUsername: "lena", Groups: []string{"marketing"}}, "/")
	wantRefused(t, "local user in no mapped group", w, "no-role")
	if _, w := signIn(t, f, "lena", "a long password here", ""); w.Code != http.StatusOK {
		t.Fatalf("a refused sign-in took the password away: %d", w.Code)
	}
	b, w := ssoSignIn(t, f, m, &mockoidc.MockUser{Subject: "sub-lena", PreferredUsername: "lena", Groups: []string{"soc-leads"}}, "/")
	if w.Code != http.StatusOK {
		t.Fatalf("adoption: %d %s", w.Code, w.Body)
	}
	var who SessionView
	want(t, b.get("/api/v1/session"), http.StatusOK, &who)
	if who.User != "lena" || who.Role != tenant.RoleAdmin {
		t.Errorf("adopted user signed in as %+v", who)
	}
	if _, w := signIn(t, f, "lena", "a long password here", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("the adopted user's password still works: %d", w.Code)
	}
	if !hasLine(auditActions(t, f.st, "a"), "user.adopt user:lena") {
		t.Errorf("adoption not audited: %q", auditActions(t, f.st, "a"))
	}
}

func TestParseOIDCRoles(t *testing.T) {
	got, err := ParseOIDCRoles([]string{"soc=acme:responder", " leads=acme:admin"})
	if err != nil || len(got) != 2 || got[1] != (OIDCRole{"leads", "acme", "admin"}) {
		t.Errorf("parse: %+v, %v", got, err)
	}
	for _, bad := range []string{"soc", "soc=acme", "=acme:admin", "soc=:admin", "soc=acme:root"} {
		if _, err := ParseOIDCRoles([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
