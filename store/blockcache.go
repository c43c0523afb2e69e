package store

import (
	"bytes"
	"container/list"
	"sync"

	"github.com/vigil-sec/vigil/event"
)

// BlockCache keeps decompressed event blocks, the most recently used up
// to a number of bytes. Reading an event is mostly decompressing the
// block of a thousand that holds it, and what reads events one incident
// at a time — the assessment, the timeline — asks for the events of the
// same recent blocks again and again: each new alert of a busy incident,
// and each incident whose evidence shares a block. Blocks never change
// once committed (a purge removes them whole, and a purged block is no
// longer asked for), so entries need no invalidation; the cache only
// bounds memory. Safe for concurrent use.
type BlockCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *CachedBlock, most recently used first
	byKey map[string]*list.Element
}

// EventBlockCacheSize is the decompressed event blocks a store keeps, in
// bytes: the blocks of the last minutes of a busy deployment, where the
// evidence of the incidents being assessed is.
const EventBlockCacheSize = 32 << 20

// CachedBlock is a decompressed block and what its row says of it.
type CachedBlock struct {
	Raw            []byte // decompressed; never changed once cached
	Source, Format string
	key            string
}

// NewBlockCache returns a cache of at most maxBytes of blocks; 0 or less
// keeps none.
func NewBlockCache(maxBytes int) *BlockCache {
	return &BlockCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the block of key, if kept.
func (c *BlockCache) Get(key string) (CachedBlock, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return CachedBlock{}, false
	}
	c.order.MoveToFront(e)
	return *e.Value.(*CachedBlock), true
}

// Put keeps b under key, letting the least recently used blocks go past
// the cache's size. A block larger than the whole cache is not kept.
func (c *BlockCache) Put(key string, b CachedBlock) {
	n := blockCost(key, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.max {
		return
	}
	if e, ok := c.byKey[key]; ok {
		c.size -= blockCost(key, *e.Value.(*CachedBlock))
		c.order.Remove(e)
		delete(c.byKey, key)
	}
	b.key = key
	c.byKey[key] = c.order.PushFront(&b)
	c.size += n
	for c.size > c.max {
		last := c.order.Back()
		old := last.Value.(*CachedBlock)
		c.size -= blockCost(old.key, *old)
		c.order.Remove(last)
		delete(c.byKey, old.key)
	}
}

// Len is the number of blocks kept.
func (c *BlockCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}

func blockCost(key string, b CachedBlock) int {
	return len(key) + len(b.Raw) + len(b.Source) + len(b.Format) + 64
}

// Events decodes the block's events of workspace ws (only those of want,
// when given), filling in the source and format its row names. The few
// events of want get their own copy of their record: one that kept the
// block's would keep the whole block, cached or not, as long as it lives.
func (b CachedBlock) Events(ws string, want map[event.ID]bool) ([]StoredEvent, error) {
	evs, err := decodeEventBlock(b.Raw, ws, want)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if want != nil {
			evs[i].Raw = bytes.Clone(evs[i].Raw)
		}
		if evs[i].Source == "" {
			evs[i].Source = b.Source
		}
		if evs[i].Format == "" {
			evs[i].Format = b.Format
		}
	}
	return evs, nil
}
