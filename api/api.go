// Package api serves vigil's REST API under /api/v1: alerts, events,
// sources, the quarantine, keys, the audit log and the workspace, each
// scoped to the workspace of the caller's API key, with an OpenAPI 3.1
// document; the ingest handler it is given, behind the same keys; and the
// operations endpoints /healthz, /readyz and /metrics.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Paths the API serves outside the huma operations.
const (
	ingestPattern  = "POST /api/v1/ingest"
	auditPattern   = "GET /api/v1/audit"
	openAPIPattern = "GET /api/v1/openapi.json"
	metricsPattern = "GET /metrics"
)

// Check is one readiness check, run by /readyz.
type Check struct {
	Name string
	Fn   func(context.Context) error
	// Detail, when set instead of Fn, also says what the check saw when
	// it passes ("lag 3s: 12 batches, 4.1 MB waiting"), shown instead of
	// "ok".
	Detail func(context.Context) (string, error)
}

func (c Check) run(ctx context.Context) (string, error) {
	if c.Detail != nil {
		return c.Detail(ctx)
	}
	return "ok", c.Fn(ctx)
}

// Config wires the API to the rest of vigil.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// Registry receives the API's own collectors and is served at /metrics.
	// A fresh registry is made when nil.
	Registry *prometheus.Registry
	// Ready are the checks /readyz runs (bus, store…).
	Ready []Check
	// Ingest, when set, is mounted at POST /api/v1/ingest behind
	// authentication with scope ingest or admin; it finds the caller's
	// workspace with WorkspaceFrom.
	Ingest http.Handler
	// IngestOperation describes Ingest in the OpenAPI document.
	IngestOperation *huma.Operation
	Version         string
	// SourceHealth, when set, gives the health of a workspace's sources by
	// name (rate, usual interval, silence) for the sources routes.
	SourceHealth func(workspace string) map[string]SourceHealth
	// Now gives the time stamps the API writes (keys, sources, audit);
	// time.Now when nil.
	Now func() time.Time
	// TierChanged, when set, is told the workspace whose tier an admin
	// just changed, so that the detect stage of this process applies it
	// at once rather than when its cached tier expires.
	TierChanged func(workspace string)
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (the throttle's key, the audit log's actor); none by default.
	TrustedProxies []netip.Prefix
	// AuthFailLimit failed authentications of one client address within
	// AuthFailWindow are answered 429 until the window ends; 0 turns the
	// throttle off (the settings default to DefaultAuthFailLimit a
	// DefaultAuthFailWindow). The window is also the interval in which
	// repeated refusals of an address share an audit line.
	AuthFailLimit  int
	AuthFailWindow time.Duration
	// MetricsKeyRequired puts /metrics behind a key of scope metrics;
	// otherwise it is open, like /healthz and /readyz.
	MetricsKeyRequired bool
	// Intel serves the /api/v1/intel routes (feeds, lookups, manual
	// indicators); they answer 503 when it is nil.
	Intel Intel
	// GeoIP, when set, describes the GeoIP databases in use
	// (GET /api/v1/geoip).
	GeoIP func() []GeoIPDatabase
	// Assets keeps the workspaces' asset inventories (/api/v1/assets);
	// the routes answer 503 when it is nil.
	Assets store.Assets
	// AssetsChanged, when set, is told the workspace whose inventory an
	// admin just changed, so that its events are enriched with the new
	// one.
	AssetsChanged func(workspace string)
	// SuppressionsChanged, when set, is told the workspace whose
	// suppressions were just created, replaced or deleted, so that the
	// detect stage of this process applies them at once.
	SuppressionsChanged func(workspace string)
	// Rules, when set, lists the rules detection runs (GET
	// /api/v1/rules); nil: that list is empty and any rule id may be
	// turned off.
	Rules func() []RuleInfo
	// RulesChanged, when set, is told the workspace that just turned a
	// rule on or off, so that the detect stage of this process applies it
	// at once.
	RulesChanged func(workspace string)
	// TestRule, when set, runs one rule over sample records (POST
	// /api/v1/rules/{id}/test); errors wrap store.ErrNotFound for an
	// unknown rule and store.ErrInvalid for one that cannot be tested so.
	TestRule func(ctx context.Context, workspace, id, format string, records [][]byte) (RuleTestResult, error)
	// Automation, when set, is the response automation GET
	// /api/v1/automation shows (automation.go).
	Automation Automation
	// OIDC, when set, turns on single sign-on (oidc.go).
	OIDC *OIDCConfig
}

// API is vigil's HTTP API. It is an http.Handler.
type API struct {
	store   store.Store
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	metrics *metrics
	keys    *keyCache
	ready   []Check
	// readyTimeout bounds /readyz; a field so that tests wait less.
	readyTimeout time.Duration
	version      string
	health       func(workspace string) map[string]SourceHealth
	tierChanged  func(workspace string)
	proxies      []netip.Prefix
	fails        *failThrottle // nil: no throttle
	logins       *failThrottle // failed sign-ins by user name
	loginAddrs   *failThrottle // failed sign-ins by address
	failWindow   time.Duration
	spec         []byte // the OpenAPI document, marshalled once all routes are known
	intel        Intel
	geoIP        func() []GeoIPDatabase
	assets       store.Assets
	onAssets     func(workspace string)
	supChanged   func(workspace string)
	rules        func() []RuleInfo
	rulesChanged func(workspace string)
	testRule     func(ctx context.Context, workspace, id, format string, records [][]byte) (RuleTestResult, error)
	automation   Automation
	streamState             // the live streams (stream.go)
	memSignIns   memSignIns // sign-in state when the store keeps none (signinstate.go)
	oidc         *oidcLogin // single sign-on, when configured (oidc.go)
}

// New builds the API from cfg.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: Config.Store is nil")
	}
	if cfg.Ingest != nil && cfg.IngestOperation == nil {
		return nil, errors.New("api: Config.Ingest is set but Config.IngestOperation, its OpenAPI description, is nil")
	}
	a := &API{
		store:        cfg.Store,
		log:          cfg.Logger,
		now:          cfg.Now,
		mux:          http.NewServeMux(),
		ready:        cfg.Ready,
		readyTimeout: readyTimeout,
		version:      cfg.Version,
		health:       cfg.SourceHealth,
		tierChanged:  cfg.TierChanged,
		proxies:      cfg.TrustedProxies,
		failWindow:   cfg.AuthFailWindow,
		intel:        cfg.Intel,
		geoIP:        cfg.GeoIP,
		assets:       cfg.Assets,
		onAssets:     cfg.AssetsChanged,
		supChanged:   cfg.SuppressionsChanged,
		rules:        cfg.Rules,
		rulesChanged: cfg.RulesChanged,
		testRule:     cfg.TestRule,
		automation:   cfg.Automation,
	}
	if cfg.OIDC != nil {
		o, err := newOIDCLogin(*cfg.OIDC)
		if err != nil {
			return nil, err
		}
		a.oidc = o
	}
	if a.failWindow <= 0 {
		a.failWindow = DefaultAuthFailWindow
	}
	if cfg.AuthFailLimit > 0 {
		a.fails = newFailThrottle(cfg.AuthFailLimit, a.failWindow)
	}
	a.logins = newFailThrottle(LoginFailLimit, LoginFailWindow)
	a.loginAddrs = newFailThrottle(LoginFailAddressLimit, LoginFailWindow)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.version == "" {
		a.version = "dev"
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	a.keys = newKeyCache(keyCacheTTL, a.now)
	a.streamState = streamState{streamPoll: streamPoll, streamBeat: streamHeartbeat, streamLife: streamLife, streamsDone: make(chan struct{})}

	h := humago.New(routeMux{a.mux, a}, humaConfig(a.version))
	h.UseMiddleware(rejectUnknownQuery(h))
	a.register(h)

	if cfg.Ingest != nil {
		op, err := ingestOperation(cfg.IngestOperation)
		if err != nil {
			return nil, err
		}
		h.OpenAPI().AddOperation(op)
		a.mux.Handle(ingestPattern, a.route(ingestPattern, rejectUnknownQueryHTTP(queryParams(op), cfg.Ingest)))
	}
	loginOp := loginOperation(h.OpenAPI())
	h.OpenAPI().AddOperation(loginOp)
	a.mux.Handle(sessionPattern, a.instrument(sessionPattern, rejectUnknownQueryHTTP(queryParams(loginOp), http.HandlerFunc(a.login))))
	// The callback takes what the provider adds to the query (iss,
	// session_state…): no check of unknown parameters there.
	oidcOps := oidcOperations()
	h.OpenAPI().AddOperation(oidcOps[0])
	h.OpenAPI().AddOperation(oidcOps[1])
	a.mux.Handle(oidcStartPattern, a.instrument(oidcStartPattern, rejectUnknownQueryHTTP(queryParams(oidcOps[0]), http.HandlerFunc(a.oidcStart))))
	a.mux.Handle(oidcCallbackPattern, a.instrument(oidcCallbackPattern, http.HandlerFunc(a.oidcCallback)))

	describeScopes(h.OpenAPI())
	spec, err := marshalSpec(h.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("api: marshal OpenAPI document: %w", err)
	}
	a.spec = spec
	a.mux.Handle(openAPIPattern, a.instrument(openAPIPattern, http.HandlerFunc(a.serveOpenAPI)))

	a.mux.Handle("GET /healthz", a.instrument("GET /healthz", http.HandlerFunc(a.healthz)))
	a.mux.Handle("GET /readyz", a.instrument("GET /readyz", http.HandlerFunc(a.readyz)))
	if cfg.MetricsKeyRequired {
		a.mux.Handle(metricsPattern, a.route(metricsPattern, metricsHandler(reg)))
	} else {
		a.mux.Handle(metricsPattern, a.instrument(metricsPattern, metricsHandler(reg)))
	}
	// Anything else is a problem document, not the mux's plain text.
	a.mux.Handle("/", a.instrument("unmatched", http.HandlerFunc(a.unmatched)))
	return a, nil
}

// unmatched answers a request no route takes: 405 with the methods the
// path does take, else 404. (The catch-all "/" keeps the mux from
// answering 405 itself, in plain text.)
func (a *API) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+"; it takes "+strings.Join(allow, ", "))
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// routeMux is the mux huma registers its operations on: it puts every
// operation behind authentication and metrics, named by its pattern.
type routeMux struct {
	*http.ServeMux
	a *API
}

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.Handle(pattern, m.a.route(pattern, http.HandlerFunc(h)))
}

// route puts an authenticated route behind its scope check and metrics.
func (a *API) route(pattern string, h http.Handler) http.Handler {
	return a.instrument(pattern, a.authenticate(pattern, scopesFor(pattern), h))
}

// responderPaths are the resources a responder works: changes to them
// take responder keys as well as admin ones.
var responderPaths = []string{"/api/v1/alerts", "/api/v1/incidents", "/api/v1/incident-task-templates",
	"/api/v1/decisions", "/api/v1/suppressions"}

// adminReadPaths are read by admins only: the audit log names who did
// what, and key metadata and the users are the workspace's access list.
var adminReadPaths = []string{"/api/v1/audit", "/api/v1/keys", "/api/v1/users"}

// scopesFor is the scope policy, in one place: the ingest route takes
// ingest keys; reads take read and responder keys (except the audit log and
// the keys); changes to alerts, incidents, decisions and suppressions take
// responder keys; admin keys may do everything.
func scopesFor(pattern string) []string {
	method, path, _ := strings.Cut(pattern, " ")
	switch {
	case pattern == ingestPattern:
		return []string{tenant.ScopeIngest, tenant.ScopeAdmin}
	case pattern == metricsPattern:
		// Every workspace's figures: not for a workspace's admin.
		return []string{tenant.ScopeMetrics}
	case path == "/api/v1/session" || path == "/api/v1/sessions":
		// Who am I and signing out: for every role.
		return []string{tenant.ScopeRead, tenant.ScopeResponder, tenant.ScopeAdmin}
	case method == http.MethodGet && (path == decisionsPath || strings.HasPrefix(path, decisionsPath+"/")):
		// What a firewall or proxy polls (decisions.go).
		return []string{tenant.ScopeRead, tenant.ScopeResponder, tenant.ScopeAdmin, tenant.ScopeBouncer}
	case underAny(path, adminReadPaths):
		return []string{tenant.ScopeAdmin}
	case method == http.MethodGet && strings.HasPrefix(path, "/api/"):
		return []string{tenant.ScopeRead, tenant.ScopeResponder, tenant.ScopeAdmin}
	case underAny(path, responderPaths):
		return []string{tenant.ScopeResponder, tenant.ScopeAdmin}
	default:
		return []string{tenant.ScopeAdmin}
	}
}

// describeScopes ends every operation's description with the scopes that
// may call it, as scopesFor decides: one policy, not a sentence kept by
// hand in each route.
func describeScopes(doc *huma.OpenAPI) {
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post,
			http.MethodPut: item.Put, http.MethodPatch: item.Patch, http.MethodDelete: item.Delete} {
			if op == nil || len(op.Security) == 0 {
				continue // public: the OpenAPI document, signing in
			}
			scopes := scopesFor(method + " " + path)
			sentence := "Scope " + scopes[0] + "."
			if len(scopes) > 1 {
				sentence = "Scopes " + strings.Join(scopes[:len(scopes)-1], ", ") + " or " + scopes[len(scopes)-1] + "."
			}
			op.Description = strings.TrimSpace(op.Description + " " + sentence)
		}
	}
}

// underAny reports whether path is one of prefixes or below one.
func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// register adds the operations, one concept a file.
func (a *API) register(h huma.API) {
	a.registerAlerts(h)
	a.registerDatabases(h)
	a.registerEvents(h)
	a.registerSources(h)
	a.registerKeys(h)
	a.registerAudit(h)
	a.registerQuarantine(h)
	a.registerWorkspace(h)
	a.registerIntel(h)
	a.registerThreats(h)
	a.registerGeoIP(h)
	a.registerAssets(h)
	a.registerSuppressions(h)
	a.registerRules(h)
	a.registerSessions(h)
	a.registerInvestigate(h)
	a.registerDecisions(h)
	a.registerAutomation(h)
	a.registerIncidents(h)
	a.registerStream(h)
	a.registerUsers(h)
}

func humaConfig(version string) huma.Config {
	c := huma.DefaultConfig("vigil API", version)
	// The OpenAPI document is served by serveOpenAPI, marshalled once; the
	// docs page would load JavaScript from a CDN; and the create hook adds
	// $schema fields to every response.
	c.OpenAPIPath = ""
	c.DocsPath = ""
	c.SchemasPath = ""
	c.CreateHooks = nil
	// Unknown query parameters are refused by rejectUnknownQuery, which
	// names their values and the parameter meant.
	c.RejectUnknownQueryParameters = false
	c.Info.Description = "vigil's REST API. Every route works inside the workspace of the API key " +
		"given as `Authorization: Bearer <key>`, or of a signed-in user's session cookie; a key's scope (ingest, read, responder, admin) " +
		"or the user's role (reader, responder, admin) bounds what it may do."
	c.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {
			Type:         "http",
			Scheme:       "bearer",
			BearerFormat: "vgl_<52 base32 characters>",
			Description:  "A workspace API key. Scope ingest: POST /api/v1/ingest only; read: GET routes; responder: GET routes and work on alerts, incidents, decisions and suppressions; admin: everything in the workspace; bouncer: the block decisions' GET routes only.",
		},
		cookieScheme: {
			Type:        "apiKey",
			In:          "cookie",
			Name:        SessionCookie,
			Description: "A signed-in user's session (POST /api/v1/session); state-changing requests also send the session's CSRF token in " + CSRFHeader + ".",
		},
	}
	return c
}

const securityScheme = "bearer"

const cookieScheme = "session"

// bearer: a key, or a session's cookie.
var bearer = []map[string][]string{{securityScheme: {}}, {cookieScheme: {}}}

// ingestOperation places the ingest handler's description at its route.
func ingestOperation(op *huma.Operation) (*huma.Operation, error) {
	o := *op
	method, path, _ := strings.Cut(ingestPattern, " ")
	if o.Method != "" && !strings.EqualFold(o.Method, method) || o.Path != "" && o.Path != path {
		return nil, fmt.Errorf("api: ingest operation is %s %s, want %s", o.Method, o.Path, ingestPattern)
	}
	o.Method, o.Path = method, path
	if o.Security == nil {
		o.Security = bearer
	}
	if o.OperationID == "" {
		o.OperationID = "ingest"
	}
	return &o, nil
}

// marshalSpec marshals the OpenAPI document without HTML escapes: huma
// marshals with json.Marshal, which writes "Bearer <key>" as
// "Bearer \u003ckey\u003e", so the document is decoded and written again.
func marshalSpec(doc *huma.OpenAPI) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := encoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/openapi+json")
	w.Write(a.spec)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
