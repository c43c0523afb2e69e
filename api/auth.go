package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vigil-sec/vigil/store"
	"github.com/vigil-sec/vigil/tenant"
)

// Reasons an authentication is refused: the label of
// vigil_auth_refused_total and the start of the audit entry's detail.
const (
	refusedMissing   = "missing"
	refusedMalformed = "malformed"
	refusedUnknown   = "unknown"
	refusedRevoked   = "revoked"
	refusedScope     = "scope"
	refusedThrottled = "throttled"
	refusedExpired   = "expired"
	refusedAddress   = "address"
)

var refusedReasons = []string{refusedMissing, refusedMalformed, refusedUnknown, refusedRevoked, refusedScope, refusedThrottled,
	refusedExpired, refusedAddress, refusedCSRF, refusedSession}

// keyCacheTTL bounds how long a key found in the store is trusted without
// asking again: a revoke from another process (the CLI) takes at most this
// long; a revoke through this API takes effect at once.
const keyCacheTTL = 10 * time.Second

// touchEvery spaces the last_used updates of one key.
const touchEvery = time.Minute

type principalKey struct{}

// WorkspaceFrom returns the workspace of the API key that authenticated r.
// Handlers mounted behind the API's authentication (the ingest handler) use
// it; ok is false for a request that did not pass through it.
func WorkspaceFrom(r *http.Request) (string, bool) {
	k, ok := keyFrom(r.Context())
	return k.Workspace, ok
}

// KeyIDFrom returns the id of the API key the request was authenticated
// with ("" if none), for what is shared out by key (ingest's in-flight
// budget).
func KeyIDFrom(r *http.Request) string {
	k, _ := keyFrom(r.Context())
	return k.ID
}

func keyFrom(ctx context.Context) (tenant.APIKey, bool) {
	k, ok := ctx.Value(principalKey{}).(tenant.APIKey)
	return k, ok
}

// authenticate admits requests that carry a live key of one of the scopes
// in need, and puts the key in the request's context.
func (a *API) authenticate(route string, need []string, next http.Handler) http.Handler {
	needText := need[len(need)-1]
	if len(need) > 1 {
		needText = strings.Join(need[:len(need)-1], ", ") + " or " + needText
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c := a.clientOf(r)
		// A client over its failure limit is not heard at all, valid key
		// or not: every try would tell it something.
		if retry, flush, since, ok := a.fails.blocked(c.key, a.now()); ok {
			a.throttle(w, r, route, c, retry, flush, since)
			return
		}
		secret, reason := bearerSecret(r.Header.Values("Authorization"))
		if reason == refusedMissing {
			if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
				a.sessionAuth(w, r, route, c, need, needText, ck.Value, next)
				return
			}
		}
		if reason != "" {
			a.refuse(w, r, route, c, reason, nil, "")
			return
		}
		key, err := a.keys.lookup(ctx, a.store, secret)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.refuse(w, r, route, c, refusedUnknown, nil, "")
			return
		case err != nil:
			a.log.ErrorContext(ctx, "api: look up API key", "route", route, "err", err)
			writeError(w, http.StatusServiceUnavailable, "cannot check the API key now; retry later")
			return
		case key.Revoked != nil:
			a.refuse(w, r, route, c, refusedRevoked, &key, "")
			return
		case key.Expired(a.now()):
			a.refuse(w, r, route, c, refusedExpired, &key,
				"API key "+key.Prefix+"… expired at "+key.Expires.UTC().Format(time.RFC3339)+"; use its successor or create a new key")
			return
		case !keyAllows(key, c.addr):
			a.refuse(w, r, route, c, refusedAddress, &key,
				"API key "+key.Prefix+"… may not be used from "+c.addr)
			return
		case !slices.Contains(need, key.Scope):
			a.refuse(w, r, route, c, refusedScope, &key,
				fmt.Sprintf("%s needs a key of scope %s; this key has scope %s", route, needText, key.Scope))
			return
		}
		if a.keys.dueTouch(key.ID) {
			if err := a.store.TouchKey(ctx, key.ID, a.now()); err != nil {
				a.log.WarnContext(ctx, "api: update key last_used", "key", key.ID, "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, principalKey{}, key)))
	})
}

// keyAllows reports whether key may be used from addr: any address when
// its allow-list is empty. An entry that does not parse allows nothing.
func keyAllows(key tenant.APIKey, addr string) bool {
	if len(key.Allow) == 0 {
		return true
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, a := range key.Allow {
		if ps, err := ParseCIDRs([]string{a}); err == nil && ps[0].Contains(ip) {
			return true
		}
	}
	return false
}

// bearerSecret takes the key out of the Authorization header, or says why
// it cannot.
func bearerSecret(values []string) (secret, reason string) {
	if len(values) == 0 || values[0] == "" {
		return "", refusedMissing
	}
	if len(values) > 1 {
		return "", refusedMalformed
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", refusedMalformed
	}
	token = strings.TrimSpace(token)
	if !wellFormedSecret(token) {
		return "", refusedMalformed
	}
	return token, ""
}

// refuse answers a refused authentication, counts it and writes it to the
// audit log (never with the secret): one line per client, reason and
// window, whose count grows. All but a wrong scope count against the
// client's failure limit.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, route string, c client, reason string, key *tenant.APIKey, msg string) {
	a.metrics.refused.WithLabelValues(reason).Inc()
	since := a.now().Truncate(a.failWindow)
	if reason != refusedScope && a.fails != nil {
		since = a.fails.fail(c.key, a.now())
	}
	entry := store.AuditEntry{
		Actor:  c.addr,
		Action: "auth.refused",
		Target: route,
		Detail: reason + " key on " + route + via(c),
	}
	if key != nil {
		entry.Workspace = key.Workspace
		entry.Target = "key:" + key.ID
		switch reason {
		case refusedScope:
			entry.Detail = "scope " + key.Scope + " key on " + route + via(c)
		case refusedAddress:
			entry.Detail = "address outside the key's allow-list on " + route + via(c)
		case refusedCSRF:
			entry.Target = "user:" + key.User
			entry.Detail = "session request without this site's CSRF token on " + route + via(c)
		}
	}
	a.auditRepeat(r.Context(), entry, since)
	if reason == refusedScope || reason == refusedAddress || reason == refusedCSRF {
		writeError(w, http.StatusForbidden, msg)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	switch reason {
	case refusedExpired:
		writeError(w, http.StatusUnauthorized, msg)
	case refusedMissing:
		writeError(w, http.StatusUnauthorized, `missing API key: send "Authorization: Bearer <key>"`)
	case refusedMalformed:
		writeError(w, http.StatusUnauthorized, `malformed Authorization header: want "Bearer vgl_…" with one vigil API key`)
	case refusedSession:
		writeError(w, http.StatusUnauthorized, "the session expired or was ended: sign in again")
	default:
		// Unknown and revoked look alike to the caller; the audit log tells
		// them apart.
		writeError(w, http.StatusUnauthorized, "API key unknown or revoked")
	}
}

// remoteHost is the actor of a refused request: the peer's address (a
// proxy's, behind one), never empty since the audit log needs an actor.
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	if addr == "" {
		return "unknown"
	}
	return addr
}

// keyCache remembers keys found in the store for a short while, and when
// each key's last_used was last written.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	byHash  map[[sha256.Size]byte]cachedKey
	touched map[string]time.Time
}

type cachedKey struct {
	key     tenant.APIKey
	expires time.Time
}

// maxCached bounds the maps; past it, stale entries are dropped.
const maxCached = 4096

func newKeyCache(ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{
		ttl:     ttl,
		now:     now,
		byHash:  map[[sha256.Size]byte]cachedKey{},
		touched: map[string]time.Time{},
	}
}

// lookup returns the key whose secret this is, revoked or not; unknown
// secrets are not cached, so a new key works at once.
func (c *keyCache) lookup(ctx context.Context, s store.Store, secret string) (tenant.APIKey, error) {
	h := sha256.Sum256([]byte(secret))
	now := c.now()
	c.mu.Lock()
	e, ok := c.byHash[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := s.KeyByHash(ctx, h[:])
	if err != nil {
		return tenant.APIKey{}, err // "key by hash: …", the store's
	}
	c.mu.Lock()
	if len(c.byHash) >= maxCached {
		for h, e := range c.byHash {
			if !now.Before(e.expires) {
				delete(c.byHash, h)
			}
		}
	}
	c.byHash[h] = cachedKey{key: k, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return k, nil
}

// forget drops key id from the cache, so that its revocation holds at once.
func (c *keyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.byHash {
		if e.key.ID == id {
			delete(c.byHash, h)
		}
	}
}

// dueTouch reports whether key id's last_used should be written now, and
// if so notes that it was.
func (c *keyCache) dueTouch(id string) bool {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.touched[id]; ok && now.Sub(last) < touchEvery && !now.Before(last) {
		return false
	}
	if len(c.touched) >= maxCached {
		for id, t := range c.touched {
			if now.Sub(t) >= touchEvery {
				delete(c.touched, id)
			}
		}
	}
	c.touched[id] = now
	return true
}

// caller returns the authenticated key. Every operation is behind
// authenticate, so a miss is a wiring fault; answer as unauthenticated.
func caller(ctx context.Context) (tenant.APIKey, error) {
	k, ok := keyFrom(ctx)
	if !ok {
		return tenant.APIKey{}, huma.Error401Unauthorized("no authenticated API key")
	}
	return k, nil
}
