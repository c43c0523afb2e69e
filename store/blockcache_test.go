package store

import (
	"bytes"
	"fmt"
	"testing"
)

func TestBlockCacheKeepsTheRecentWithinItsSize(t *testing.T) {
	block := func(i int) CachedBlock {
		return CachedBlock{Raw: bytes.Repeat([]byte{byte(i)}, 1000), Source: "s", Format: "json"}
	}
	c := NewBlockCache(5 * (1000 + 80))
	for i := range 5 {
		c.Put(fmt.Sprint(i), block(i))
	}
	if c.Len() != 5 {
		t.Fatalf("%d blocks kept, want 5", c.Len())
	}
	if _, ok := c.Get("0"); !ok { // 0 is now the most recently used
		t.Fatal("block 0 not kept")
	}
	c.Put("5", block(5)) // 1 goes, the least recently used
	if _, ok := c.Get("1"); ok {
		t.Fatal("block 1 kept past the size")
	}
	for _, k := range []string{"0", "2", "3", "4", "5"} {
		b, ok := c.Get(k)
		if !ok || b.Raw[0] != k[0]-'0' || b.Source != "s" || b.Format != "json" {
			t.Fatalf("block %s: %v %+v", k, ok, b.Source)
		}
	}
	c.Put("3", block(33)) // replaced, not counted twice
	if b, _ := c.Get("3"); b.Raw[0] != 33 || c.Len() != 5 {
		t.Fatalf("replaced block: %d, %d blocks", b.Raw[0], c.Len())
	}
	c.Put("big", CachedBlock{Raw: make([]byte, 10_000)})
	if _, ok := c.Get("big"); ok || c.Len() != 5 {
		t.Fatal("a block larger than the cache was kept")
	}
	none := NewBlockCache(0)
	none.Put("x", block(1))
	if none.Len() != 0 {
		t.Fatal("a cache of size 0 kept a block")
	}
}
