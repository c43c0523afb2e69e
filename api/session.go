package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Sessions: people sign in with a user name and password
// (POST /api/v1/session) and get a session cookie; requests that carry it
// instead of an API key act with the scope of the user's role in the
// session's workspace. A state-changing request with the cookie must echo
// the session's CSRF token in X-CSRF-Token, and is refused when the browser
// says it comes from another site.
const (
	sessionPattern = "POST /api/v1/session"
	// SessionCookie holds the session's secret.
	SessionCookie = "vigil_session"
	// CSRFHeader carries the session's CSRF token on state-changing
	// requests.
	CSRFHeader = "X-CSRF-Token"
	// SessionIdle ends a session unused this long; SessionMax ends any
	// session this long after sign-in.
	SessionIdle = 12 * time.Hour
	SessionMax  = 7 * 24 * time.Hour
	// LoginFailLimit failed sign-ins of one user name, or
	// LoginFailAddressLimit from one address (an office behind one NAT
	// address has many people), within LoginFailWindow are answered 429
	// until it ends.
	LoginFailLimit        = 5
	LoginFailAddressLimit = 20
	LoginFailWindow       = 15 * time.Minute
	refusedCSRF           = "csrf"
	refusedSession        = "session"
)

type sessionKey struct{}

func sessionFrom(ctx context.Context) (tenant.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(tenant.Session)
	return s, ok
}

func (a *API) users() (store.Users, bool) {
	u, ok := a.store.(store.Users)
	return u, ok
}

// loginInput is the sign-in request.
type loginInput struct {
	User      string `json:"user,omitempty" doc:"With password; or ticket instead of both."`
	Password  string `json:"password,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	// Ticket, instead of user and password, redeems a one-time sign-in
	// link (IssueSignInTicket).
	Ticket string `json:"ticket,omitempty"`
}

// SessionView is a session as the API shows it: who, where, with which role,
// and the CSRF token state-changing requests echo.
type SessionView struct {
	User      string    `json:"user,omitempty"`
	Workspace string    `json:"workspace"`
	Role      string    `json:"role,omitempty"`
	Scope     string    `json:"scope"`
	KeyID     string    `json:"key_id,omitempty"`
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
}

// login serves POST /api/v1/session: it checks the password (argon2id),
// or redeems a sign-in ticket (ticket.go), makes a session in the chosen
// workspace and sets its cookie. Every sign-in and failure is audited;
// failures are throttled per user name and per address, and all say the
// same thing to the client.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	c := a.clientOf(r)
	now := a.now()
	var in loginInput
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send the sign-in as application/json: {\"user\", \"password\", \"workspace\"}")
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || (in.Ticket == "" && (in.User == "" || in.Password == "")) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "a sign-in is at most 64 KiB")
			return
		}
		writeError(w, http.StatusBadRequest, "the body must be a JSON object with user and password (and workspace when the user has several), or a sign-in ticket")
		return
	}
	us, ok := a.users()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "this store keeps no users")
		return
	}
	if in.Ticket != "" {
		if !a.loginBlocked(w, now, throttleKey{a.loginAddrs, c.key}) {
			a.loginByTicket(w, r, us, in.Ticket)
		}
		return
	}
	userKey := "user:" + strings.ToLower(in.User)
	if a.loginBlocked(w, now, throttleKey{a.logins, userKey}, throttleKey{a.loginAddrs, c.key}) {
		return
	}
	fail := func(ws, why string) {
		since := a.logins.fail(userKey, now)
		a.loginAddrs.fail(c.key, now)
		a.metrics.refused.WithLabelValues(refusedSession).Inc()
		a.auditRepeat(r.Context(), store.AuditEntry{Workspace: ws, Actor: c.addr, Action: "auth.login_failed",
			Target: "user:" + in.User, Detail: why + via(c)}, since)
		writeError(w, http.StatusUnauthorized, "wrong user name or password, or no access to that workspace")
	}
	u, err := us.User(r.Context(), in.User)
	switch {
	case errors.Is(err, store.ErrNotFound):
		tenant.CheckPassword(dummyHash(), in.Password) // the same time as a known user
		fail("", "unknown user")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "sign-in failed: the store did not answer")
		a.log.ErrorContext(r.Context(), "api: sign-in: read user", "err", err)
		return
	case !tenant.CheckPassword(u.PasswordHash, in.Password):
		fail(firstWorkspace(u), "wrong password")
		return
	case u.Disabled:
		fail(firstWorkspace(u), "disabled user")
		return
	}
	ws := in.Workspace
	if ws == "" && len(u.Roles) == 1 {
		ws = u.Roles[0].Workspace
	}
	role := u.RoleIn(ws)
	if role == "" {
		if ws == "" {
			names := make([]string, len(u.Roles))
			for i, m := range u.Roles {
				names[i] = m.Workspace
			}
			writeError(w, http.StatusBadRequest, "choose a workspace: "+strings.Join(names, ", "))
			return
		}
		fail(firstWorkspace(u), "no role in workspace "+ws)
		return
	}
	s, err := a.openSession(w, r, us, u.Name, ws, role, "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "sign-in failed: the session was not stored")
		a.log.ErrorContext(r.Context(), "api: sign-in", "err", err)
		return
	}
	writeSession(w, s)
}

// throttleKey is one count a sign-in is throttled by.
type throttleKey struct {
	th  *failThrottle
	key string
}

// loginBlocked answers 429 when one of the counts is over its limit.
func (a *API) loginBlocked(w http.ResponseWriter, now time.Time, keys ...throttleKey) bool {
	for _, t := range keys {
		if retry, _, _, blocked := t.th.blocked(t.key, now); blocked {
			a.metrics.refused.WithLabelValues(refusedThrottled).Inc()
			secs := int((retry + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, "too many failed sign-ins; retry after "+strconv.Itoa(max(secs, 1))+" s")
			return true
		}
	}
	return false
}

// openSession is what every way of signing in ends with, once it knows
// who (user) signs in where (ws) with which role: it stores a session,
// notes the sign-in, audits it (how says how the user proved who they
// are, after the password's default: " by link", " by single sign-on…")
// and sets the session cookie.
func (a *API) openSession(w http.ResponseWriter, r *http.Request, us store.Users, user, ws, role, how string) (tenant.Session, error) {
	c := a.clientOf(r)
	now := a.now()
	secret, hash := newSessionSecret()
	s := tenant.Session{ID: event.NewID().String(), Hash: hash, User: user, Workspace: ws, Role: role,
		CSRF: randomToken(), Created: now.UTC(), LastSeen: now.UTC(), Expires: now.Add(SessionIdle).UTC(), Address: c.addr}
	if err := us.CreateSession(r.Context(), s); err != nil {
		return s, fmt.Errorf("create session of %s: %w", user, err)
	}
	if err := us.RecordLogin(r.Context(), user, now.UTC()); err != nil {
		a.log.WarnContext(r.Context(), "api: sign-in: record login", "user", user, "err", err)
	}
	a.audit(r.Context(), tenant.APIKey{Workspace: ws, User: user}, "auth.login", "session:"+s.ID, "role "+role+" from "+c.addr+how+via(c))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, Expires: now.Add(SessionMax)})
	return s, nil
}

// writeSession answers a sign-in with the new session.
func writeSession(w http.ResponseWriter, s tenant.Session) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(SessionView{User: s.User, Workspace: s.Workspace, Role: s.Role, Scope: tenant.RoleScope(s.Role),
		CSRFToken: s.CSRF, Expires: s.Expires})
}

// dummyHash is checked against for unknown users, so that a sign-in does
// not tell by its time whether the user exists. Made on first use: an
// argon2id hash costs 64 MiB and a good part of a second, which no other
// command (scan, decode…) should pay at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := tenant.HashPassword("not a password of anybody's")
	return h
})

func firstWorkspace(u tenant.User) string {
	if len(u.Roles) > 0 {
		return u.Roles[0].Workspace
	}
	return ""
}

func newSessionSecret() (secret string, hash []byte) {
	secret = "vgs_" + randomToken()
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// sessionAuth authenticates a request by its session cookie: the
// session's user must still be enabled and hold a role in its workspace;
// a state-changing request must come from this site and echo the CSRF
// token.
func (a *API) sessionAuth(w http.ResponseWriter, r *http.Request, route string, c client, need []string, needText, secret string, next http.Handler) {
	us, ok := a.users()
	if !ok {
		a.refuse(w, r, route, c, refusedMissing, nil, "")
		return
	}
	h := sha256.Sum256([]byte(secret))
	now := a.now()
	s, err := us.SessionByHash(r.Context(), h[:], now)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.ErrorContext(r.Context(), "api: session lookup", "err", err)
			writeError(w, http.StatusServiceUnavailable, "session lookup failed; retry")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		a.refuse(w, r, route, c, refusedSession, nil, "")
		return
	}
	key := tenant.APIKey{ID: s.ID, Workspace: s.Workspace, Scope: tenant.RoleScope(s.Role), User: s.User, Name: "session"}
	if unsafeMethod(r.Method) {
		token := r.Header.Get(CSRFHeader)
		if !tenant.SameOrigin(r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin"), r.Host) || subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) != 1 {
			a.refuse(w, r, route, c, refusedCSRF, &key, route+" with a session needs this site's "+CSRFHeader+" header; cross-site requests are refused")
			return
		}
	}
	if !slices.Contains(need, key.Scope) {
		a.refuse(w, r, route, c, refusedScope, &key,
			route+" needs the role of a key of scope "+needText+"; user "+s.User+" is "+s.Role+" in "+s.Workspace)
		return
	}
	if now.Sub(s.LastSeen) > time.Minute {
		exp := now.Add(SessionIdle)
		if end := s.Created.Add(SessionMax); end.Before(exp) {
			exp = end
		}
		if err := us.TouchSession(r.Context(), s.ID, now, exp); err != nil {
			a.log.WarnContext(r.Context(), "api: touch session", "err", err)
		}
		s.LastSeen, s.Expires = now, exp
	}
	ctx := context.WithValue(context.WithValue(r.Context(), principalKey{}, key), sessionKey{}, s)
	next.ServeHTTP(w, r.WithContext(ctx))
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// loginOperation describes POST /api/v1/session in the OpenAPI document:
// served outside huma (it sets the cookie) and without a key.
func loginOperation(doc *huma.OpenAPI) *huma.Operation {
	reg := doc.Components.Schemas
	return &huma.Operation{
		OperationID: "create-session", Method: http.MethodPost, Path: "/api/v1/session",
		Summary: "Sign in: a user name and password, or a sign-in link's ticket, give a session cookie",
		Description: "Checks the password (or redeems the one-time ticket of a sign-in link instead: {\"ticket\"}), makes a session in the workspace (optional when the user has one) and sets the " +
			SessionCookie + " cookie (HttpOnly, SameSite=Strict, Secure over TLS). Requests with the cookie act with the role's scope; " +
			"state-changing ones must echo csrf_token in " + CSRFHeader + ". " + strconv.Itoa(LoginFailLimit) +
			" failures of a user name (" + strconv.Itoa(LoginFailAddressLimit) + " from an address) within " + LoginFailWindow.String() + " are answered 429 until the window ends.",
		Tags:     []string{"sessions"},
		Security: []map[string][]string{},
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: reg.Schema(reflect.TypeOf(loginInput{}), true, "LoginInput")}}},
		Responses: map[string]*huma.Response{
			"200": {Description: "signed in", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeOf(SessionView{}), true, "SessionView")}}},
			"400": {Description: "no user or password, or the user must choose a workspace"},
			"401": {Description: "wrong user name or password, disabled user, or no role in the workspace"},
			"415": {Description: "not JSON"},
			"429": {Description: "too many failed sign-ins"},
		},
	}
}

type sessionOutput struct{ Body SessionView }

type noInput struct{}

func (a *API) registerSessions(h huma.API) {
	huma.Register(h, huma.Operation{
		OperationID: "get-session", Method: http.MethodGet, Path: "/api/v1/session",
		Summary:     "Who the caller is: the signed-in user's session, or the API key",
		Description: "For a session: user, workspace, role, the scope it acts with, the CSRF token state-changing requests echo in X-CSRF-Token, and when it expires. For an API key: its id, workspace and scope.",
		Tags:        []string{"sessions"},
		Security:    bearer,
		Errors:      []int{http.StatusUnauthorized},
	}, func(ctx context.Context, _ *noInput) (*sessionOutput, error) {
		k, err := caller(ctx)
		if err != nil {
			return nil, err
		}
		if s, ok := sessionFrom(ctx); ok {
			return &sessionOutput{Body: SessionView{User: s.User, Workspace: s.Workspace, Role: s.Role, Scope: k.Scope, CSRFToken: s.CSRF, Expires: s.Expires}}, nil
		}
		return &sessionOutput{Body: SessionView{Workspace: k.Workspace, Scope: k.Scope, KeyID: k.ID}}, nil
	})
	huma.Register(h, huma.Operation{
		OperationID: "delete-session", Method: http.MethodDelete, Path: "/api/v1/session",
		Summary: "Sign out: end the caller's session", Tags: []string{"sessions"}, Security: bearer,
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
	}, func(ctx context.Context, _ *noInput) (*struct{}, error) {
		return nil, a.endSessions(ctx, false)
	})
	huma.Register(h, huma.Operation{
		OperationID: "delete-sessions", Method: http.MethodDelete, Path: "/api/v1/sessions",
		Summary: "Sign out everywhere: end every session of the caller's user", Tags: []string{"sessions"}, Security: bearer,
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
	}, func(ctx context.Context, _ *noInput) (*struct{}, error) {
		return nil, a.endSessions(ctx, true)
	})
}

func (a *API) endSessions(ctx context.Context, everywhere bool) error {
	k, err := caller(ctx)
	if err != nil {
		return err
	}
	s, ok := sessionFrom(ctx)
	us, hasUsers := a.users()
	if !ok || !hasUsers {
		return huma.Error400BadRequest("this request was not made with a session (an API key is revoked, not signed out)")
	}
	if everywhere {
		n, err := us.DeleteUserSessions(ctx, s.User)
		if err != nil {
			return a.storeError(ctx, "sessions of "+s.User, err)
		}
		a.audit(ctx, k, "auth.logout_all", "user:"+s.User, strconv.Itoa(n)+" sessions ended")
		return nil
	}
	if err := us.DeleteSession(ctx, s.ID); err != nil {
		return a.storeError(ctx, "session", err)
	}
	a.audit(ctx, k, "auth.logout", "session:"+s.ID, "")
	return nil
}
