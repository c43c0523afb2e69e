// Package web is vigil's dashboard: pages rendered on the server with
// html/template, charts and the world map drawn as SVG on the server, and a
// small script of our own for actions and live updates.
//
// The dashboard reads through the API, in process: every page asks the API
// handler for what it shows, with the visitor's own session cookie, so that
// authentication, roles, workspace isolation, filters and paging have one
// implementation. Changes go from the browser to the API directly (fetch
// with the session's CSRF token, app.js), so they are audited and checked
// exactly as an API client's are.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates static
var files embed.FS

// Config is what the dashboard needs.
type Config struct {
	// API is vigil's API handler: the dashboard reads through it and
	// hands it every request that is not a page (/api/, /healthz…).
	API http.Handler
	// Version is shown in the footer.
	Version string
	// SSO, when set, names the single sign-on provider the sign-in page
	// offers (a button to /api/v1/session/oidc).
	SSO string
	// Logger gets the dashboard's errors; none when nil.
	Logger *slog.Logger
	// Now gives the time; time.Now when nil.
	Now func() time.Time
}

// Handler serves the dashboard's pages and hands every other request to
// the API.
type Handler struct {
	api     http.Handler
	version string
	sso     string
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	pages   map[string]*template.Template
}

// New builds the dashboard.
func New(cfg Config) (*Handler, error) {
	if cfg.API == nil {
		return nil, errors.New("web: Config.API is nil")
	}
	h := &Handler{api: cfg.API, version: cfg.Version, sso: cfg.SSO, log: cfg.Logger, now: cfg.Now,
		mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.version == "" {
		h.version = "dev"
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	h.register()
	return h, nil
}

// register adds the pages, one concept a file.
func (h *Handler) register() {
	h.registerSignIn()
	h.registerOverview()
	h.registerAlerts()
	h.registerIncidents()
	h.registerThreats()
	h.registerDatabases()
	h.registerSources()
	h.registerRules()
	h.registerIntel()
	h.registerAssets()
	h.registerSettings()
	h.registerLive()
	h.mux.HandleFunc("/", h.notFound)
}

// apiPath reports whether a request is the API's rather than a page.
func apiPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics" ||
		strings.HasPrefix(p, "/debug/")
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if apiPath(r.URL.Path) {
		h.api.ServeHTTP(w, r)
		return
	}
	setPageHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

// pageCSP lets the dashboard load its own script, style and images and
// nothing else: no inline script, no framing, forms only to itself.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setPageHeaders sets the security headers of every page (over any a
// wrapper set for the API's JSON).
func setPageHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
}

// staticFiles serves the embedded script and style; they change only with
// the binary, whose version is in their URL (?v=), so they may be cached.
func staticFiles(f fs.FS) http.Handler {
	fsrv := http.FileServerFS(f)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}
