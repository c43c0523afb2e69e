package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSignInSSOFailure: the sign-in page offers single sign-on when it is
// configured, and says why single sign-on sent the visitor back in its own
// words for each code — never what the link carries.
func TestSignInSSOFailure(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no API here", http.StatusTeapot) })
	h, err := New(Config{API: api, SSO: "Acme SSO"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return w.Body.String()
	}
	plain := get("/signin")
	if !strings.Contains(plain, "Sign in with Acme SSO") || strings.Contains(plain, `class="flash error"`) {
		t.Errorf("sign-in page without a failure:\n%s", plain)
	}
	if body := get("/signin?sso=no-role"); !strings.Contains(body, "none of your groups gives you a role") {
		t.Errorf("no-role:\n%s", body)
	}
	body := get("/signin?sso=Call+0800+to+unlock")
	if strings.Contains(body, "0800") || !strings.Contains(body, "audit log") {
		t.Errorf("an unknown code is shown, or no generic message:\n%s", body)
	}
}
