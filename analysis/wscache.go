package analysis

import (
	"sync"
	"time"
)

// workspaceCache keeps one value a workspace for a while: what the stage
// reads from the store for every batch (the tier, the suppressions, the
// rules turned off) is read again only when older than the stage's
// LookupTTL, or after forget.
type workspaceCache[T any] struct {
	mu sync.Mutex
	m  map[string]cachedValue[T]
}

type cachedValue[T any] struct {
	v  T
	at time.Time
}

// get returns ws's value, loading it when missing or older than ttl. A
// failed load caches nothing and returns the last value known (the zero
// value when none) with the load's error, for the caller to judge.
func (c *workspaceCache[T]) get(ws string, ttl time.Duration, load func() (T, error)) (T, error) {
	c.mu.Lock()
	v, ok := c.m[ws]
	c.mu.Unlock()
	if ok && time.Since(v.at) < ttl {
		return v.v, nil
	}
	fresh, err := load()
	if err != nil {
		return v.v, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedValue[T]{}
	}
	c.m[ws] = cachedValue[T]{v: fresh, at: time.Now()}
	c.mu.Unlock()
	return fresh, nil
}

// forget drops ws's value: the next get loads it again.
func (c *workspaceCache[T]) forget(ws string) {
	c.mu.Lock()
	delete(c.m, ws)
	c.mu.Unlock()
}
