package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// fromAddr sends GET path from peer (host:port) with the secret and the
// X-Forwarded-For values given.
func fromAddr(f *fixture, peer, secret string, xff ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/alerts", nil)
	r.RemoteAddr = peer
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

func throttled(cfg *Config) {
	cfg.AuthFailLimit = 20
	cfg.AuthFailWindow = time.Minute
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
}

// A flood of unknown keys from one address is throttled after the limit,
// leaves a bounded number of audit lines whose counts say how many, and
// does not stop another address with a good key.
func TestFailedAuthFloodIsThrottled(t *testing.T) {
	db := openStore[store.Store](t)
	f := newFixtureWith(t, db, throttled)
	const flood = 5000
	var unauthorized, tooMany int
	for i := range flood {
		secret, _, err := NewKey("a", tenant.ScopeAdmin, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		w := fromAddr(f, "192.0.2.7:40000", secret)
		switch w.Code {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			tooMany++
			wantProblem(t, w, http.StatusTooManyRequests, "too many failed authentications from 192.0.2.7")
			if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
				t.Fatalf("Retry-After %q, want 1..60 seconds", w.Header().Get("Retry-After"))
			}
		default:
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		if i%100 == 0 {
			if w := fromAddr(f, "192.0.2.8:40000", f.secrets["a-read"]); w.Code != http.StatusOK {
				t.Fatalf("another address with a good key during the flood: %d %s", w.Code, w.Body)
			}
		}
		f.clock.Advance(10 * time.Millisecond) // 50 s: one window
	}
	if unauthorized != 20 || tooMany != flood-20 {
		t.Errorf("%d answered 401 and %d 429, want 20 and %d", unauthorized, tooMany, flood-20)
	}
	// A good key from the throttled address waits too: each try would
	// tell it something.
	if w := fromAddr(f, "192.0.2.7:40001", f.secrets["a-read"]); w.Code != http.StatusTooManyRequests {
		t.Errorf("good key from the throttled address: %d, want 429", w.Code)
	}

	entries, _, err := db.AuditLog(context.Background(), "", store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		if e.Actor != "192.0.2.7" {
			t.Errorf("audit line of actor %q, want only 192.0.2.7: %+v", e.Actor, e)
		}
		counts[e.Action] += e.Count
	}
	if len(entries) != 2 {
		t.Errorf("%d audit lines for the flood, want 2 (one refused, one throttled): %+v", len(entries), entries)
	}
	if counts["auth.refused"] != 20 {
		t.Errorf("refused lines count %d, want 20", counts["auth.refused"])
	}
	// The throttled count is written at most a second late.
	if n := counts["auth.throttled"]; n < flood-20-100 || n > flood-20+1 {
		t.Errorf("throttled line counts %d, want about %d", n, flood-20)
	}

	// The window over, the address is heard again.
	f.clock.Advance(time.Minute)
	if w := fromAddr(f, "192.0.2.7:40000", f.secrets["a-read"]); w.Code != http.StatusOK {
		t.Errorf("after the window: %d %s, want 200", w.Code, w.Body)
	}
}

// Behind a trusted proxy the client is the right-most forwarded address
// that is not a trusted proxy; from anyone else X-Forwarded-For is ignored.
func TestTrustedProxyForwardedFor(t *testing.T) {
	st := newFakeStore()
	f := newFixtureWith(t, st, throttled)
	unknown, _, _ := NewKey("a", tenant.ScopeAdmin, "", t0)
	cases := []struct {
		name, peer string
		xff        []string
		actor      string
		via        string
	}{
		{"through the proxy", "10.0.0.5:1", []string{"198.51.100.1, 203.0.113.9, 10.0.0.6"}, "203.0.113.9", "via proxy 10.0.0.5"},
		{"two headers", "10.0.0.5:1", []string{"198.51.100.1", "203.0.113.10"}, "203.0.113.10", "via proxy 10.0.0.5"},
		{"untrusted peer", "192.0.2.50:1", []string{"203.0.113.11"}, "192.0.2.50", ""},
		{"garbage forwarded", "10.0.0.5:1", []string{"not-an-address"}, "10.0.0.5", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if w := fromAddr(f, c.peer, unknown, c.xff...); w.Code != http.StatusUnauthorized {
				t.Fatalf("%d %s, want 401", w.Code, w.Body)
			}
			es := st.auditOf("auth.refused")
			e := es[len(es)-1]
			if e.Actor != c.actor || (c.via == "") != !strings.Contains(e.Detail, "via proxy") || !strings.Contains(e.Detail, c.via) {
				t.Errorf("audit actor %q detail %q, want actor %s and %q", e.Actor, e.Detail, c.actor, c.via)
			}
		})
	}

	// Two clients behind the proxy: one's flood does not throttle the other.
	for range 25 {
		fromAddr(f, "10.0.0.5:1", unknown, "203.0.113.20")
	}
	if w := fromAddr(f, "10.0.0.5:1", unknown, "203.0.113.20"); w.Code != http.StatusTooManyRequests {
		t.Errorf("flooding client behind the proxy: %d, want 429", w.Code)
	}
	if w := fromAddr(f, "10.0.0.5:1", f.secrets["a-read"], "203.0.113.21"); w.Code != http.StatusOK {
		t.Errorf("other client behind the proxy: %d %s, want 200", w.Code, w.Body)
	}
}
