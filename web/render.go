package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Page is what every page's template gets: the layout's parts and the
// page's own data in Data.
type Page struct {
	Title string
	// Nav is the navigation entry to mark as current ("overview",
	// "alerts", "incidents", "threats", "databases", "sources", "rules",
	// "intel", "assets", "settings").
	Nav     string
	Session Session
	Version string
	SSO     string
	// Error is shown above the content (a refusal the API gave).
	Error string
	// Scripts are page scripts under /static/ to load after app.js.
	Scripts []string
	// Live asks app.js to follow the live stream and refresh the page's
	// parts marked data-live on new alerts and incident changes.
	Live bool
	Data any
}

// parseTemplates makes one template set a page: layout.html with the
// page's templates/<name>.html, which defines "content" (and may define
// "head"). Partials under templates/partials are in every set.
func (h *Handler) parseTemplates() error {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return err
	}
	partials, err := fs.Glob(files, "templates/partials/*.html")
	if err != nil {
		return err
	}
	base := template.New("layout.html").Funcs(funcs())
	base, err = base.ParseFS(files, append([]string{"templates/layout.html"}, partials...)...)
	if err != nil {
		return fmt.Errorf("web: parse layout: %w", err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(files, n); err != nil {
			return fmt.Errorf("web: parse %s: %w", n, err)
		}
		h.pages[name] = t
	}
	return nil
}

// render writes page name (templates/<name>.html inside the layout) with
// status. It renders into a buffer first, so that a template error is a
// clean 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	t, ok := h.pages[name]
	if !ok {
		h.log.ErrorContext(r.Context(), "web: no template", "page", name)
		http.Error(w, "no such page template: "+name, http.StatusInternalServerError)
		return
	}
	p.Version, p.SSO = h.version, h.sso
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.ErrorContext(r.Context(), "web: render", "page", name, "err", err)
		http.Error(w, "the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders the error page for err: the API's refusal with its status
// (404 for a missing alert, 403 for a reader's forbidden page…), else 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s Session, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong drawing this page."
	var ae *APIError
	if errors.As(err, &ae) {
		status, msg = ae.Status, ae.Detail
	} else {
		h.log.ErrorContext(r.Context(), "web: page", "path", r.URL.Path, "err", err)
	}
	h.render(w, r, status, "error", Page{Title: http.StatusText(status), Session: s, Error: msg,
		Data: map[string]any{"Status": status}})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	s, _, _ := h.session(r)
	h.render(w, r, http.StatusNotFound, "error", Page{Title: "Not found", Session: s,
		Error: "There is no page at " + r.URL.Path + ".", Data: map[string]any{"Status": http.StatusNotFound}})
}

// placeholder is a page not built yet (to be replaced page by page).
func (h *Handler) placeholder(title, nav string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s Session) {
		h.render(w, r, http.StatusOK, "placeholder", Page{Title: title, Nav: nav, Session: s})
	}
}
