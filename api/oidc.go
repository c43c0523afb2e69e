package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/oauth2"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Single sign-on with OpenID Connect: GET /api/v1/session/oidc sends the
// browser to the provider with a state, a nonce and a PKCE challenge,
// which it keeps in the store's sign-in state under a secret the browser
// holds in a short-lived cookie; the provider sends it back to GET
// /api/v1/session/oidc/callback — on whichever API process of the store —
// which takes the flow (once) and checks the state against it, exchanges the code, verifies the ID
// token and its nonce, maps the user's groups to roles per workspace,
// makes or updates the user and opens a session as a password sign-in
// does (openSession).
const (
	oidcStartPattern    = "GET /api/v1/session/oidc"
	oidcCallbackPattern = "GET /api/v1/session/oidc/callback"
	oidcCookie          = "vigil_oidc"
	// oidcFlowTTL is how long a sign-in may stay at the provider.
	oidcFlowTTL = 10 * time.Minute
	// oidcTimeout bounds each call to the provider (discovery, token).
	oidcTimeout = 15 * time.Second
	// oidcActor writes the audit lines of the changes single sign-on
	// makes to users, as "cli" does for `vigil users`.
	oidcActor = "oidc"
)

// OIDCConfig configures single sign-on (docs/dashboard-auth.md).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, where its discovery document
	// is (ISSUER/.well-known/openid-configuration).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback as the provider knows it:
	// https://vigil.example/api/v1/session/oidc/callback.
	RedirectURL string
	// Scopes asked for; openid is added when missing.
	Scopes []string
	// GroupsClaim names the ID token claim that lists the user's groups
	// (default "groups"); UserClaim the one that names the user
	// (default "preferred_username").
	GroupsClaim string
	UserClaim   string
	// Roles map the provider's groups to roles in workspaces; a user in
	// no mapped group is not signed in.
	Roles []OIDCRole
	// AdoptLocalUsers lets a provider's user sign in as the local user
	// (made with `vigil users create`) of the same name, who then loses
	// its password; off, such a sign-in is refused.
	AdoptLocalUsers bool
	// Name is the provider's name on the sign-in page and in the audit
	// log.
	Name string
	// HTTPClient calls the provider; one with a timeout when nil.
	HTTPClient *http.Client
}

// OIDCRole gives the members of a provider's group a role in a workspace.
type OIDCRole struct {
	Group, Workspace, Role string
}

// ParseOIDCRoles reads GROUP=WORKSPACE:ROLE items (the oidc-roles
// setting). A group may be mapped to several workspaces.
func ParseOIDCRoles(items []string) ([]OIDCRole, error) {
	var out []OIDCRole
	for _, it := range items {
		group, rest, ok1 := strings.Cut(strings.TrimSpace(it), "=")
		ws, role, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || group == "" || ws == "" {
			return nil, fmt.Errorf("oidc role %q: want GROUP=WORKSPACE:ROLE", it)
		}
		if !tenant.ValidRole(role) {
			return nil, fmt.Errorf("oidc role %q: role %q is not reader, responder or admin", it, role)
		}
		out = append(out, OIDCRole{Group: group, Workspace: ws, Role: role})
	}
	return out, nil
}

// oidcLogin is the configured single sign-on: the provider is discovered
// on first use (and again after a failure), so that vigil starts while
// the provider is down.
type oidcLogin struct {
	cfg    OIDCConfig
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

func newOIDCLogin(cfg OIDCConfig) (*oidcLogin, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("api: single sign-on needs an issuer, a client id and a redirect URL")
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("api: single sign-on redirect URL %q is not an absolute http(s) URL", cfg.RedirectURL)
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("api: single sign-on needs roles (GROUP=WORKSPACE:ROLE): without them nobody could sign in")
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.UserClaim == "" {
		cfg.UserClaim = "preferred_username"
	}
	if cfg.Name == "" {
		cfg.Name = "SSO"
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	o := &oidcLogin{cfg: cfg, client: cfg.HTTPClient}
	if o.client == nil {
		o.client = &http.Client{Timeout: oidcTimeout}
	}
	return o, nil
}

// discover finds the provider's endpoints and keys, once it answers.
func (o *oidcLogin) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.oauth, o.verifier, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client), oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover single sign-on provider %s: %w", o.cfg.Issuer, err)
	}
	o.provider = p
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: o.cfg.Scopes}
	return o.oauth, o.verifier, nil
}

// oidcFlow is what the store keeps of a flow between the start and the
// callback.
type oidcFlow struct {
	State     string    `json:"s"`
	Nonce     string    `json:"n"`
	Verifier  string    `json:"v"`
	Next      string    `json:"x,omitempty"`
	Workspace string    `json:"w,omitempty"`
	Expires   time.Time `json:"e"`
}

// maxOIDCFlows bounds the single sign-on flows waiting for the
// provider's callback: anyone may start one, and each stays in the store
// for oidcFlowTTL unless its callback comes.
const maxOIDCFlows = 10000

// putFlow keeps f in the store's sign-in state and returns the flow's
// secret, which the flow cookie carries.
func (a *API) putFlow(ctx context.Context, f oidcFlow) (string, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	secret := randomToken()
	err = a.signIns().PutSignInState(ctx, store.SignInState{Kind: store.SignInOIDC, Hash: secretHash(secret), Data: data,
		Expires: f.Expires}, maxOIDCFlows, a.now())
	return secret, err
}

// takeFlow takes the flow of the cookie's secret from the store: once,
// whichever API process the callback reaches.
func (a *API) takeFlow(ctx context.Context, secret string, now time.Time) (oidcFlow, error) {
	var f oidcFlow
	st, err := a.signIns().TakeSignInState(ctx, store.SignInOIDC, secretHash(secret))
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(st.Data, &f); err != nil {
		return f, fmt.Errorf("flow: %w", err)
	}
	if !now.Before(st.Expires) {
		return f, fmt.Errorf("the sign-in took longer than %s: %w", oidcFlowTTL, errFlowExpired)
	}
	return f, nil
}

// errFlowExpired: the flow was found, too late.
var errFlowExpired = errors.New("flow expired")

func (o *oidcLogin) cookie(value string, maxAge int) *http.Cookie {
	// Lax, not Strict: the provider's redirect back is a navigation from
	// another site, which must carry it.
	return &http.Cookie{Name: oidcCookie, Value: value, Path: "/api/v1/session/oidc", MaxAge: maxAge, HttpOnly: true,
		Secure: strings.HasPrefix(o.cfg.RedirectURL, "https://"), SameSite: http.SameSiteLaxMode}
}

// signInFailed sends the browser back to the sign-in page, which says
// why in words of its own for each code (web/signin.go): nothing the
// request carried is shown.
func signInFailed(w http.ResponseWriter, r *http.Request, code string) {
	http.Redirect(w, r, "/signin?sso="+code, http.StatusSeeOther)
}

// oidcStart serves GET /api/v1/session/oidc?next=PATH&workspace=NAME.
func (a *API) oidcStart(w http.ResponseWriter, r *http.Request) {
	o := a.oidc
	if o == nil {
		writeError(w, http.StatusNotFound, "single sign-on is not configured (oidc-issuer)")
		return
	}
	oc, _, err := o.discover(r.Context())
	if err != nil {
		a.log.ErrorContext(r.Context(), "api: single sign-on", "err", err)
		signInFailed(w, r, "unavailable")
		return
	}
	q := r.URL.Query()
	f := oidcFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(q.Get("next")), Workspace: q.Get("workspace"), Expires: a.now().Add(oidcFlowTTL)}
	secret, err := a.putFlow(r.Context(), f)
	if err != nil {
		a.log.ErrorContext(r.Context(), "api: single sign-on: keep the flow", "err", err)
		signInFailed(w, r, "unavailable")
		return
	}
	http.SetCookie(w, o.cookie(secret, int(oidcFlowTTL/time.Second)))
	http.Redirect(w, r, oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// localPath keeps a destination on this site: a path, not "//host" or
// a URL.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// oidcIdentity is what the callback learned from the ID token.
type oidcIdentity struct {
	subject, name string
	groups        []string
}

// oidcCallback serves GET /api/v1/session/oidc/callback.
func (a *API) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := a.oidc
	if o == nil {
		writeError(w, http.StatusNotFound, "single sign-on is not configured (oidc-issuer)")
		return
	}
	c := a.clientOf(r)
	now := a.now()
	target := "sso"
	ws := ""
	fail := func(code, why string) {
		since := a.loginAddrs.fail(c.key, now)
		a.metrics.refused.WithLabelValues(refusedSession).Inc()
		a.auditRepeat(r.Context(), store.AuditEntry{Workspace: ws, Actor: c.addr, Action: "auth.login_failed",
			Target: target, Detail: "single sign-on (" + o.cfg.Name + "): " + why + via(c)}, since)
		signInFailed(w, r, code)
	}
	if retry, _, _, blocked := a.loginAddrs.blocked(c.key, now); blocked {
		a.metrics.refused.WithLabelValues(refusedThrottled).Inc()
		a.log.WarnContext(r.Context(), "api: single sign-on throttled", "client", c.addr, "retry", retry)
		signInFailed(w, r, "throttled")
		return
	}
	http.SetCookie(w, o.cookie("", -1)) // one use, whatever happens
	q := r.URL.Query()
	ck, err := r.Cookie(oidcCookie)
	if err != nil {
		fail("expired", "no flow cookie: the sign-in did not start in this browser, or took too long")
		return
	}
	f, err := a.takeFlow(r.Context(), ck.Value, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail("expired", "no such sign-in flow: its callback came already, it expired, or it was started against another store")
		return
	case errors.Is(err, errFlowExpired):
		fail("expired", err.Error())
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "api: single sign-on: take the flow", "err", err)
		signInFailed(w, r, "unavailable")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		fail("refused", "state does not match the flow cookie")
		return
	}
	if e := q.Get("error"); e != "" {
		fail("cancelled", "the provider answered "+e+": "+q.Get("error_description"))
		return
	}
	id, err := o.identify(r.Context(), q.Get("code"), f)
	if err != nil {
		fail("refused", err.Error())
		return
	}
	target = "user:" + id.name
	us, ok := a.users()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "this store keeps no users")
		return
	}
	roles, from := o.roles(id.groups)
	u, created, err := a.ssoUser(r.Context(), us, id, len(roles) > 0)
	var refused *ssoRefusal
	switch {
	case errors.As(err, &refused):
		fail("refused", refused.why)
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "api: single sign-on", "err", err)
		signInFailed(w, r, "unavailable")
		return
	case u.Disabled:
		ws = firstWorkspace(u)
		fail("refused", "disabled user")
		return
	}
	if u.External() {
		// Also with no role left: losing a group at the provider ends
		// the user's sessions here at its next sign-in.
		if u, err = a.syncRoles(r.Context(), us, u, roles, from, created); err != nil {
			a.log.ErrorContext(r.Context(), "api: single sign-on: roles", "err", err)
			signInFailed(w, r, "unavailable")
			return
		}
	}
	if len(roles) == 0 || len(u.Roles) == 0 {
		fail("no-role", "groups "+quoteList(id.groups)+" map to no role in a workspace that exists")
		return
	}
	ws = f.Workspace
	if u.RoleIn(ws) == "" {
		ws = u.Roles[0].Workspace // the store lists them by name
	}
	if _, err := a.openSession(w, r, us, u.Name, ws, u.RoleIn(ws), " by single sign-on ("+o.cfg.Name+")"); err != nil {
		a.log.ErrorContext(r.Context(), "api: single sign-on", "err", err)
		signInFailed(w, r, "unavailable")
		return
	}
	continuePage(w, f.Next)
}

// identify exchanges the code (with the PKCE verifier) and verifies the
// ID token: signature, issuer, audience, expiry and the flow's nonce.
func (o *oidcLogin) identify(ctx context.Context, code string, f oidcFlow) (oidcIdentity, error) {
	var id oidcIdentity
	if code == "" {
		return id, errors.New("the provider sent no code")
	}
	oc, verifier, err := o.discover(ctx)
	if err != nil {
		return id, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client), oidcTimeout)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return id, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return id, errors.New("the token answer holds no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return id, fmt.Errorf("ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return id, errors.New("ID token: nonce does not match this sign-in's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return id, fmt.Errorf("ID token claims: %w", err)
	}
	id.subject = idt.Subject
	id.name, _ = claims[o.cfg.UserClaim].(string)
	if id.name == "" {
		return id, fmt.Errorf("ID token of subject %s has no %s claim", idt.Subject, o.cfg.UserClaim)
	}
	// An address the provider has not verified names nobody.
	if v, ok := claims["email_verified"].(bool); ok && !v && o.cfg.UserClaim == "email" {
		return id, fmt.Errorf("ID token of %s: email not verified", id.name)
	}
	if err := tenant.ValidUserName(id.name); err != nil {
		return id, fmt.Errorf("ID token's %s claim: %w", o.cfg.UserClaim, err)
	}
	switch g := claims[o.cfg.GroupsClaim].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				id.groups = append(id.groups, s)
			}
		}
	case string:
		id.groups = []string{g}
	}
	return id, nil
}

// roles maps groups to the best role in each workspace, and says which
// groups gave each.
func (o *oidcLogin) roles(groups []string) (map[string]string, map[string][]string) {
	rank := map[string]int{tenant.RoleReader: 1, tenant.RoleResponder: 2, tenant.RoleAdmin: 3}
	roles, from := map[string]string{}, map[string][]string{}
	for _, m := range o.cfg.Roles {
		if !slices.Contains(groups, m.Group) {
			continue
		}
		if rank[m.Role] > rank[roles[m.Workspace]] {
			roles[m.Workspace] = m.Role
		}
		from[m.Workspace] = append(from[m.Workspace], m.Group)
	}
	return roles, from
}

// ssoRefusal is a sign-in single sign-on must refuse, with the reason for
// the audit log.
type ssoRefusal struct{ why string }

func (e *ssoRefusal) Error() string { return e.why }

// ssoUser finds the user the identity signs in as, making it when it is
// new (and has roles to get). A local user of that name is adopted only
// when configured; a user made by another identity never is.
func (a *API) ssoUser(ctx context.Context, us store.Users, id oidcIdentity, hasRoles bool) (u tenant.User, created bool, err error) {
	o := a.oidc
	mark := tenant.ExternalPassword(o.cfg.Issuer, id.subject)
	u, err = us.User(ctx, id.name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !hasRoles {
			return tenant.User{Name: id.name}, false, nil // made only once it gets a role
		}
		u = tenant.User{Name: id.name, PasswordHash: mark, Created: a.now().UTC()}
		if err := us.CreateUser(ctx, u); err != nil {
			return u, false, fmt.Errorf("create single sign-on user %s: %w", id.name, err)
		}
		return u, true, nil
	case err != nil:
		return u, false, fmt.Errorf("read user %s: %w", id.name, err)
	case u.PasswordHash == mark:
		return u, false, nil
	case u.External():
		return u, false, &ssoRefusal{"user " + id.name + " belongs to another single sign-on identity (subject " + id.subject + " is not it)"}
	case !o.cfg.AdoptLocalUsers:
		return u, false, &ssoRefusal{"user " + id.name + " is a local user with a password (oidc-adopt-local-users is off)"}
	case !hasRoles || u.Disabled:
		return u, false, nil // adopted only with roles to give, and when enabled
	}
	if err := us.SetPassword(ctx, u.Name, mark); err != nil {
		return u, false, fmt.Errorf("adopt local user %s: %w", u.Name, err)
	}
	u.PasswordHash = mark
	for _, m := range u.Roles {
		a.auditUser(ctx, m.Workspace, "user.adopt", u.Name, "the local user now signs in by single sign-on ("+o.cfg.Name+", subject "+id.subject+"); its password is gone")
	}
	return u, false, nil
}

// syncRoles makes a single sign-on user's roles those its groups give:
// the provider is where they are managed. Each change is audited.
func (a *API) syncRoles(ctx context.Context, us store.Users, u tenant.User, roles map[string]string, from map[string][]string, created bool) (tenant.User, error) {
	wss := make([]string, 0, len(roles))
	for ws := range roles {
		wss = append(wss, ws)
	}
	sort.Strings(wss)
	for _, ws := range wss {
		was := u.RoleIn(ws)
		if was == roles[ws] {
			continue
		}
		if err := us.SetRole(ctx, u.Name, ws, roles[ws]); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				a.log.WarnContext(ctx, "api: single sign-on maps a group to a workspace that does not exist", "workspace", ws, "groups", from[ws])
				continue
			}
			return u, err
		}
		detail := "role " + roles[ws] + " from groups " + quoteList(from[ws])
		if was != "" {
			detail += " (was " + was + ")"
		}
		action := "user.role"
		if created && was == "" {
			action = "user.create"
			detail += ", by single sign-on"
		}
		a.auditUser(ctx, ws, action, u.Name, detail)
	}
	for _, m := range u.Roles {
		if _, keep := roles[m.Workspace]; keep {
			continue
		}
		if err := us.SetRole(ctx, u.Name, m.Workspace, ""); err != nil {
			return u, err
		}
		a.auditUser(ctx, m.Workspace, "user.role", u.Name, "role none (was "+m.Role+"): no group of the user maps to this workspace")
	}
	return us.User(ctx, u.Name)
}

// auditUser writes an audit line of a change single sign-on made to a
// user.
func (a *API) auditUser(ctx context.Context, ws, action, name, detail string) {
	err := a.store.Audit(ctx, store.AuditEntry{Workspace: ws, Time: a.now().UTC(), Actor: oidcActor,
		Action: action, Target: "user:" + name, Detail: detail, Count: 1})
	if err != nil {
		a.log.ErrorContext(ctx, "api: write audit entry", "action", action, "user", name, "err", err)
	}
}

func quoteList(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return strings.Join(xs, ", ")
}

// continueTmpl moves on to next by a navigation of this site's own page:
// a redirect from the provider's callback would still be part of a
// navigation another site started, on which the browser sends no
// SameSite=Strict cookie — the session's.
var continueTmpl = template.Must(template.New("continue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}"><title>Signed in — vigil</title></head>
<body><p>Signed in. <a href="{{.}}">Continue to vigil</a>.</p></body></html>
`))

func continuePage(w http.ResponseWriter, next string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = continueTmpl.Execute(w, next)
}

// oidcOperations describe the single sign-on routes in the OpenAPI
// document: served outside huma (they redirect and set cookies) and
// without a key.
func oidcOperations() []*huma.Operation {
	return []*huma.Operation{{
		OperationID: "start-oidc-session", Method: http.MethodGet, Path: "/api/v1/session/oidc",
		Summary: "Single sign-on: go to the OpenID Connect provider",
		Description: "Redirects the browser to the provider with a state, a nonce and a PKCE challenge, kept in the store under a secret held in a cookie (" +
			oidcCookie + ", 10 minutes). next is the local path to open once signed in; workspace the workspace to sign in to, when the user has several. 404 when single sign-on is not configured.",
		Tags: []string{"sessions"}, Security: []map[string][]string{},
		Parameters: []*huma.Param{
			{Name: "next", In: "query", Schema: &huma.Schema{Type: "string"}, Description: "local path to open after signing in"},
			{Name: "workspace", In: "query", Schema: &huma.Schema{Type: "string"}, Description: "workspace to sign in to"},
		},
		Responses: map[string]*huma.Response{
			"302": {Description: "to the provider"},
			"303": {Description: "to /signin?sso=unavailable: the provider did not answer"},
			"404": {Description: "single sign-on is not configured"},
		},
	}, {
		OperationID: "finish-oidc-session", Method: http.MethodGet, Path: "/api/v1/session/oidc/callback",
		Summary: "Single sign-on: the provider's redirect back, which signs the user in",
		Description: "Checks the state against the flow cookie, exchanges the code, verifies the ID token and its nonce, maps the user's groups to roles, " +
			"makes or updates the user and sets the " + SessionCookie + " cookie, then opens next. Failures go to /signin?sso=CODE and are audited. " +
			"Takes the provider's parameters (code, state, or error and error_description, and whatever else the provider adds).",
		Tags: []string{"sessions"}, Security: []map[string][]string{},
		Responses: map[string]*huma.Response{
			"200": {Description: "signed in: a page that opens next", Content: map[string]*huma.MediaType{"text/html": {}}},
			"303": {Description: "not signed in: to /signin?sso=CODE"},
			"404": {Description: "single sign-on is not configured"},
		},
	}}
}
