package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/vigil-sec/vigil/tenant"
)

// Session is the signed-in visitor as the API describes them
// (GET /api/v1/session).
type Session struct {
	User      string `json:"user"`
	Workspace string `json:"workspace"`
	Role      string `json:"role"`
	Scope     string `json:"scope"`
	CSRFToken string `json:"csrf_token"`
}

// CanRespond reports whether the visitor may change alerts, incidents,
// decisions and suppressions: pages offer those controls only then (and
// the API refuses them otherwise).
func (s Session) CanRespond() bool {
	return s.Scope == tenant.ScopeResponder || s.Scope == tenant.ScopeAdmin
}

// CanAdmin reports whether the visitor may manage the workspace: users,
// keys, sources, rules, feeds, assets, tier.
func (s Session) CanAdmin() bool { return s.Scope == tenant.ScopeAdmin }

// session asks the API who the visitor is. A visitor without a live
// session gets ok false.
func (h *Handler) session(r *http.Request) (Session, bool, error) {
	if _, err := r.Cookie("vigil_session"); err != nil {
		return Session{}, false, nil
	}
	var s Session
	err := h.get(r, "/api/v1/session", nil, &s)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	return s, true, nil
}

// pageFunc is a page's handler: it runs for a signed-in visitor.
type pageFunc func(w http.ResponseWriter, r *http.Request, s Session)

// page registers pattern for a page that needs a signed-in visitor;
// others are sent to the sign-in page, and back here after it.
func (h *Handler) page(pattern string, f pageFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s, ok, err := h.session(r)
		if err != nil {
			h.fail(w, r, Session{}, err)
			return
		}
		if !ok {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet || next == "/" {
				next = ""
			}
			to := "/signin"
			if next != "" {
				to += "?next=" + url.QueryEscape(next)
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		f(w, r, s)
	})
}
