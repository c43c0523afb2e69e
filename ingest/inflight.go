package ingest

import "sync"

// inflight bounds the body bytes held across requests, read but not yet
// acknowledged: the memory ingest may use while the bus is slow. Each
// workspace, and each API key within it, has its own share of the whole,
// so that one sender holding bodies open cannot take the budget of the
// others. It never waits — a request that does not fit is told to come
// back (429), which keeps a slow bus from turning into a pile of blocked
// connections.
type inflight struct {
	max, wsMax, keyMax int64

	mu   sync.Mutex
	n    int64
	ws   map[string]int64 // by workspace; absent is 0
	keys map[string]int64 // by workspace "\x00" key
}

// holder is whose share a reservation is taken from.
type holder struct {
	ws, key string // key "": no per-key share
}

func (h holder) keyID() string { return h.ws + "\x00" + h.key }

// over names the limit a reservation did not fit under.
type over uint8

const (
	fits over = iota
	overTotal
	overWorkspace
	overKey
)

// tryAcquire reserves n bytes for h if they fit under every limit.
func (l *inflight) tryAcquire(h holder, n int64) over {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.n+n > l.max:
		return overTotal
	case l.ws[h.ws]+n > l.wsMax:
		return overWorkspace
	case h.key != "" && l.keys[h.keyID()]+n > l.keyMax:
		return overKey
	}
	if l.ws == nil {
		l.ws, l.keys = map[string]int64{}, map[string]int64{}
	}
	l.n += n
	l.ws[h.ws] += n
	if h.key != "" {
		l.keys[h.keyID()] += n
	}
	return fits
}

func (l *inflight) release(h holder, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n -= n
	// Entries at zero go, so the maps hold only the senders in flight.
	if l.ws[h.ws] -= n; l.ws[h.ws] == 0 {
		delete(l.ws, h.ws)
	}
	if h.key != "" {
		k := h.keyID()
		if l.keys[k] -= n; l.keys[k] == 0 {
			delete(l.keys, k)
		}
	}
}

func (l *inflight) bytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}
