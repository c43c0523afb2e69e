package ingest

import "sync/atomic"

// inflight bounds the body bytes held across requests, read but not yet
// acknowledged: the memory ingest may use while the bus is slow. It never
// waits — a request that does not fit is told to come back (429), which
// keeps a slow bus from turning into a pile of blocked connections.
type inflight struct {
	max int64
	n   atomic.Int64
}

// tryAcquire reserves n bytes if they fit under the limit.
func (l *inflight) tryAcquire(n int64) bool {
	for {
		cur := l.n.Load()
		if cur+n > l.max {
			return false
		}
		if l.n.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (l *inflight) release(n int64) { l.n.Add(-n) }

func (l *inflight) bytes() int64 { return l.n.Load() }
