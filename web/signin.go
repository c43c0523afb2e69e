package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/tenant"
)

// signInData is the sign-in page's data.
type signInData struct {
	User      string
	Workspace string
	Next      string
}

func (h *Handler) registerSignIn() {
	h.mux.HandleFunc("GET /signin", h.signInPage)
	h.mux.HandleFunc("POST /signin", h.signIn)
	h.mux.HandleFunc("GET /welcome", h.welcome)
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	if s, ok, _ := h.session(r); ok {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		_ = s
		return
	}
	h.render(w, r, http.StatusOK, "signin", Page{Title: "Sign in", Error: ssoFailure(r.URL.Query().Get("sso")),
		Data: signInData{Next: localNext(r.URL.Query().Get("next"))}})
}

// ssoFailure says why single sign-on sent the visitor back
// (/signin?sso=CODE, api/oidc.go), in words of ours: the link can be
// forged, so the page shows nothing it carries. The audit log has the
// details.
func ssoFailure(code string) string {
	switch code {
	case "":
		return ""
	case "no-role":
		return "Single sign-on worked, but none of your groups gives you a role in vigil. Ask an administrator to map one of your groups to a workspace."
	case "expired":
		return "The single sign-on took too long or did not start in this browser. Try again."
	case "cancelled":
		return "The single sign-on provider did not sign you in."
	case "unavailable":
		return "The single sign-on provider cannot be reached just now. Try again later, or sign in with a password."
	case "throttled":
		return "Too many failed sign-ins from your address. Wait a few minutes and try again."
	}
	return "Single sign-on did not sign you in. An administrator can see why in the audit log."
}

// signIn takes the sign-in form and signs in through the API
// (POST /api/v1/session), passing its cookie on. A form posted from
// another site is refused: nobody may sign a visitor in to an account of
// theirs (login CSRF).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	data := signInData{User: r.PostFormValue("user"), Workspace: r.PostFormValue("workspace"),
		Next: localNext(r.PostFormValue("next"))}
	if !tenant.SameOrigin(r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin"), r.Host) {
		h.render(w, r, http.StatusForbidden, "signin", Page{Title: "Sign in",
			Error: "This sign-in came from another site and is refused.", Data: data})
		return
	}
	body := map[string]string{"user": data.User, "password": r.PostFormValue("password"), "workspace": data.Workspace}
	hdr, err := h.call(r, http.MethodPost, "/api/v1/session", nil, body, nil)
	var ae *APIError
	if errors.As(err, &ae) {
		h.render(w, r, ae.Status, "signin", Page{Title: "Sign in", Error: ae.Detail, Data: data})
		return
	}
	if err != nil {
		h.fail(w, r, Session{}, err)
		return
	}
	for _, c := range hdr.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// welcome redeems a sign-in link (GET /welcome?ticket=…, which `vigil
// demo` prints): the API checks the one-time ticket and makes a session.
func (h *Handler) welcome(w http.ResponseWriter, r *http.Request) {
	hdr, err := h.call(r, http.MethodPost, "/api/v1/session", nil, map[string]string{"ticket": r.URL.Query().Get("ticket")}, nil)
	if err != nil {
		var ae *APIError
		msg := "This sign-in link does not work."
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
			msg = "This sign-in link was used already, has expired or is not known: a link signs in once. Sign in with your user name and password."
		case errors.As(err, &ae):
			msg = "This sign-in link does not work (" + ae.Detail + "); sign in with your user name and password."
		}
		h.render(w, r, http.StatusUnauthorized, "signin", Page{Title: "Sign in", Error: msg, Data: signInData{Next: "/"}})
		return
	}
	for _, c := range hdr.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// localNext keeps a post-sign-in destination on this site: a path, not
// "//host" or a URL.
func localNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
