package api

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Defaults of the failed-authentication throttle, for a Config that sets
// none.
const (
	DefaultAuthFailLimit  = 20
	DefaultAuthFailWindow = time.Minute
)

// maxThrottled bounds the addresses the throttle tracks; past it, those
// whose window is over are dropped, then any that is not throttled.
const maxThrottled = 65536

// throttledFlush spaces the writes of the count of requests refused while
// an address is throttled.
const throttledFlush = time.Second

// client is where a request comes from: the peer, or behind a trusted
// proxy the address it forwarded for.
type client struct {
	addr  string // the client's address: the audit log's actor
	proxy string // the trusted proxy it came through, if any
	key   string // what the throttle counts by: the address, an IPv6 /64
}

// clientOf finds the client of r. X-Forwarded-For is read only when the
// peer is a trusted proxy: its right-most address that is not a trusted
// proxy is the client (addresses further left are the client's to forge).
func (a *API) clientOf(r *http.Request) client {
	peer := remoteHost(r.RemoteAddr)
	c := client{addr: peer}
	ip, err := netip.ParseAddr(peer)
	if err != nil {
		c.key = peer
		return c
	}
	ip = ip.Unmap()
	if a.trusted(ip) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h := strings.TrimSpace(hops[i])
			if h == "" {
				continue
			}
			hop, err := netip.ParseAddr(h)
			if err != nil {
				break // garbage: the last trusted hop is all that is known
			}
			hop = hop.Unmap()
			c.proxy, ip = peer, hop
			if !a.trusted(hop) {
				break
			}
		}
	}
	c.addr = ip.String()
	c.key = c.addr
	if ip.Is6() {
		// One host holds a /64: counting by address would let it rotate.
		p, _ := ip.Prefix(64)
		c.key = p.String()
	}
	return c
}

func (a *API) trusted(ip netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// failThrottle counts failed authentications per client in fixed windows;
// a client at the limit is refused (429) until its window ends.
type failThrottle struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	byKey map[string]*failCount
}

type failCount struct {
	start     time.Time // of the window
	fails     int
	throttled int       // requests refused for it, not yet in the audit log
	flushed   time.Time // when the throttled count was last written
}

func newFailThrottle(limit int, window time.Duration) *failThrottle {
	return &failThrottle{limit: limit, window: window, byKey: map[string]*failCount{}}
}

// blocked reports whether key is throttled at now, and for how long; if so
// it counts the request and says whether the count is due to be written
// (with the count, which it then clears).
func (t *failThrottle) blocked(key string, now time.Time) (retry time.Duration, flush int, windowStart time.Time, ok bool) {
	if t == nil {
		return 0, 0, time.Time{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byKey[key]
	if c == nil || c.fails < t.limit || now.Sub(c.start) >= t.window || now.Before(c.start) {
		return 0, 0, time.Time{}, false
	}
	c.throttled++
	if now.Sub(c.flushed) >= throttledFlush {
		flush, c.throttled, c.flushed = c.throttled, 0, now
	}
	return c.start.Add(t.window).Sub(now), flush, c.start, true
}

// fail counts a failed authentication of key at now, and returns the start
// of its window.
func (t *failThrottle) fail(key string, now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.byKey[key]
	if c == nil || now.Sub(c.start) >= t.window || now.Before(c.start) {
		if c == nil && len(t.byKey) >= maxThrottled {
			t.evict(now)
		}
		c = &failCount{start: now}
		t.byKey[key] = c
	}
	c.fails++
	return c.start
}

func (t *failThrottle) evict(now time.Time) {
	for k, c := range t.byKey {
		if now.Sub(c.start) >= t.window {
			delete(t.byKey, k)
		}
	}
	for k, c := range t.byKey {
		if len(t.byKey) < maxThrottled {
			return
		}
		if c.fails < t.limit {
			delete(t.byKey, k)
		}
	}
}

// throttle answers a request from a client over its limit: 429 with
// Retry-After, counted, and in the audit log as one line per client and
// window whose count grows (written at most once a second).
func (a *API) throttle(w http.ResponseWriter, r *http.Request, route string, c client, retry time.Duration, flush int, since time.Time) {
	a.metrics.refused.WithLabelValues(refusedThrottled).Inc()
	if flush > 0 {
		a.auditRepeat(r.Context(), store.AuditEntry{
			Actor:  c.addr,
			Action: "auth.throttled",
			Target: route,
			Detail: "too many failed authentications" + via(c),
			Count:  flush,
		}, since)
	}
	secs := int((retry + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "too many failed authentications from "+c.addr+"; retry after "+strconv.Itoa(max(secs, 1))+" s")
}

func (a *API) auditRepeat(ctx context.Context, e store.AuditEntry, since time.Time) {
	e.Time = a.now().UTC()
	if err := a.store.AuditRepeat(ctx, e, since); err != nil {
		a.log.ErrorContext(ctx, "api: audit refused authentication", "action", e.Action, "route", e.Target, "err", err)
	}
}

// via says which trusted proxy a request came through.
func via(c client) string {
	if c.proxy == "" {
		return ""
	}
	return " via proxy " + c.proxy
}

// ParseCIDRs reads a list of trusted proxies or allowed addresses: CIDRs
// or single addresses.
func ParseCIDRs(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &net.ParseError{Type: "CIDR or IP address", Text: s}
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}
