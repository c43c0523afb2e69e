package main

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// TestBrowserAuthSSO: single sign-on in a real browser, against a mock
// OpenID Connect provider on another site (vigil is opened as localhost,
// the provider answers at 127.0.0.1) whose sign-in page the user clicks
// through: the sign-in page offers the provider's button; a user of a
// mapped group lands on the page it asked for, signed in with the group's
// role — though the session cookie is SameSite=Strict and the way back
// is a navigation the provider's page started; a user in no mapped group
// is sent back to the sign-in page, which says why.
func TestBrowserAuthSSO(t *testing.T) {
	m := consentingProvider(t)
	_, port, _ := strings.Cut(freePort(t), ":")
	base := "http://localhost:" + port
	dir := t.TempDir()
	cfg := fmt.Sprintf(`workspaces:
  - name: acme
oidc-issuer: %s
oidc-client-id: %s
oidc-client-secret: %s
oidc-redirect-url: %s/api/v1/session/oidc/callback
oidc-scopes: [openid, profile, email, groups]
oidc-roles: [soc=acme:responder, soc-leads=acme:admin]
oidc-name: Mock SSO
`, m.Issuer(), m.ClientID, m.ClientSecret, base)
	file := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	serveWith(t, base, "--config", file, "--listen", "127.0.0.1:"+port, "--data-dir", filepath.Join(dir, "data"))

	b := newBrowser(t)
	b.do(t, "open the sign-in page",
		chromedp.Navigate(base+"/signin?next=/incidents"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/api/v1/session/oidc"]`)),
	)
	if btn := b.text(t, `a[href^="/api/v1/session/oidc"]`); btn != "Sign in with Mock SSO" {
		t.Errorf("single sign-on button says %q", btn)
	}
	b.screenshot(t, "auth-signin-sso")
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-sam", PreferredUsername: "sam", Groups: []string{"soc"}})
	b.do(t, "sign in by single sign-on",
		chromedp.Click(chromedp.CSS(`a[href^="/api/v1/session/oidc"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#consent`)),
		chromedp.Click(chromedp.CSS(`#consent`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
	who := b.text(t, "header.top .who")
	if !strings.Contains(who, "acme") || !strings.Contains(who, "sam") || !strings.Contains(who, "responder") {
		t.Errorf("after single sign-on the header says %q, want acme, sam, responder", who)
	}
	if p := eval[string](t, b, "location.pathname"); p != "/incidents" {
		t.Errorf("single sign-on opened %q, want next (/incidents)", p)
	}

	// In no mapped group: back to the sign-in page, with the reason.
	b2 := newBrowser(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-una", PreferredUsername: "una", Groups: []string{"marketing"}})
	b2.do(t, "single sign-on of a user in no mapped group",
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/api/v1/session/oidc"]`)),
		chromedp.Click(chromedp.CSS(`a[href^="/api/v1/session/oidc"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#consent`)),
		chromedp.Click(chromedp.CSS(`#consent`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.error`)),
	)
	if msg := b2.text(t, ".flash.error"); !strings.Contains(msg, "none of your groups gives you a role") {
		t.Errorf("unmapped user is told %q", msg)
	}
	if n := b2.count(t, "header.top"); n != 0 {
		t.Error("a user in no mapped group was signed in")
	}
	b2.screenshot(t, "auth-sso-no-role")
}

// serveWith runs `vigil serve` with args (which set --listen to the
// address of base) and waits until base/readyz answers.
func serveWith(t *testing.T, base string, args ...string) {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(vigilBin, append([]string{"serve", "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("vigil serve exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve not ready in 90 s\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consentingProvider is a mock OpenID Connect provider whose authorization
// endpoint first shows a page with a link to go on, as a real provider
// shows its sign-in form: the way back to vigil then starts on the
// provider's site, not as redirects of vigil's own navigation.
func consentingProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.AuthorizationEndpoint || r.URL.Query().Get("consented") != "" {
				next.ServeHTTP(w, r)
				return
			}
			q := r.URL.Query()
			q.Set("consented", "1")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>Mock provider</title><link rel="icon" href="data:,"><a id="consent" href="%s?%s">Sign in and go back</a>`,
				mockoidc.AuthorizationEndpoint, html.EscapeString(q.Encode()))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}
