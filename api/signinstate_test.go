package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/tenant"
)

// twoProcesses is the API of f and a second API over the same store, as
// two processes behind a load balancer are: they share nothing but the
// store.
func twoProcesses(t *testing.T, f *fixture, cfg Config) *fixture {
	t.Helper()
	cfg.Registry = prometheus.NewRegistry()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: f.t, api: b, st: f.st, clock: f.clock, secrets: f.secrets, keyIDs: f.keyIDs, seeds: f.seeds}
}

// A sign-in link made by one API process signs in at another, once: used
// again at either, it is refused, and of many uses at the same moment
// across both, exactly one signs in.
func TestSignInTicketAcrossProcesses(t *testing.T) {
	db := openSQLite(t)
	var cfg Config
	f := newFixtureWith(t, db, func(c *Config) { cfg = *c })
	g := twoProcesses(t, f, cfg)
	ctx := context.Background()
	h, err := tenant.HashPassword("a long password here")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, tenant.User{Name: "dora", PasswordHash: h, Roles: []tenant.Membership{{Workspace: "a", Role: tenant.RoleReader}}}); err != nil {
		t.Fatal(err)
	}
	tk, err := f.api.IssueSignInTicket("dora", "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, code := redeem(t, g, tk); c == nil {
		t.Fatalf("ticket of process 1 at process 2: %d, want 200", code)
	}
	for _, p := range []*fixture{f, g} {
		if _, code := redeem(t, p, tk); code != http.StatusUnauthorized {
			t.Errorf("second use: %d, want 401", code)
		}
	}

	// Expiry holds across processes too.
	old, err := f.api.IssueSignInTicket("dora", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	if _, code := redeem(t, g, old); code != http.StatusUnauthorized {
		t.Errorf("expired ticket at process 2: %d, want 401", code)
	}

	tk, err = g.api.IssueSignInTicket("dora", "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		signins int
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := f
			if i%2 == 1 {
				p = g
			}
			w := (&sessionClient{t: t, f: p}).do(http.MethodPost, "/api/v1/session", map[string]string{"ticket": tk}, nil)
			if w.Code == http.StatusOK {
				mu.Lock()
				signins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if signins != 1 {
		t.Errorf("16 uses at once of one ticket signed in %d times, want 1", signins)
	}
}

// A single sign-on started at one API process completes at another (the
// provider's redirect back reaches whichever the load balancer picks),
// and the flow is used once: its callback replayed, at either process,
// is refused.
func TestOIDCAcrossProcesses(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	db := openSQLite(t)
	var cfg Config
	f := newFixtureWith(t, db, func(c *Config) {
		c.OIDC = &OIDCConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, RedirectURL: ssoRedirect,
			Scopes: []string{"profile", "email", "groups"}, Name: "Mock",
			Roles: []OIDCRole{{"soc", "a", tenant.RoleResponder}}}
		cfg = *c
	})
	g := twoProcesses(t, f, cfg)

	b := newSSOBrowser(t, f)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-olga", PreferredUsername: "olga", Groups: []string{"soc"}})
	back := b.authorize(b.start("/alerts"))
	flow := b.cookies[oidcCookie]
	b.f = g
	if w := b.callback(back); w.Code != http.StatusOK {
		t.Fatalf("callback at process 2: %d %s", w.Code, w.Body)
	}
	var who SessionView
	want(t, b.get("/api/v1/session"), http.StatusOK, &who)
	if who.User != "olga" || who.Role != tenant.RoleResponder {
		t.Errorf("signed in at process 2 as %+v", who)
	}
	// The same redirect again, with the flow cookie put back.
	for _, p := range []*fixture{f, g} {
		r := newSSOBrowser(t, p)
		r.cookies[oidcCookie] = flow
		wantRefused(t, "replayed callback", r.callback(back), "expired")
	}
}
