package sqlite

import (
	"sync"

	"github.com/vigil-sec/vigil/store"
)

// blockCache keeps the last few blocks Event decoded: an incident's
// evidence, read one event at a time by the assessment and the timeline,
// mostly sits in a few blocks, and decompressing a block of a thousand
// events for each of them cost more than the rest of the detect stage.
// Blocks never change once written (a purge removes them whole, and a
// purged block's events are no longer asked for), so entries need no
// invalidation; the cache only bounds memory.
type blockCache struct {
	mu      sync.Mutex
	entries []cachedBlock // most recently used last
}

type cachedBlock struct {
	id  string
	evs []store.StoredEvent
}

// blockCacheSize blocks (1–2 MB each) are kept.
const blockCacheSize = 4

func (c *blockCache) get(id []byte) ([]store.StoredEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.id == string(id) {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			return e.evs, true
		}
	}
	return nil, false
}

func (c *blockCache) put(id []byte, evs []store.StoredEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= blockCacheSize {
		c.entries = append(c.entries[:0:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, cachedBlock{id: string(id), evs: evs})
}
