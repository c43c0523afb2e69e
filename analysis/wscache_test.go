package analysis

import (
	"errors"
	"testing"
	"time"
)

// TestWorkspaceCache: a value is loaded once within the TTL and again
// after forget; a failed load keeps the last value known and caches
// nothing, so the next get tries again.
func TestWorkspaceCache(t *testing.T) {
	var c workspaceCache[int]
	loads, fail := 0, false
	load := func() (int, error) {
		loads++
		if fail {
			return 0, errors.New("store busy")
		}
		return loads, nil
	}
	if v, err := c.get("a", time.Hour, load); v != 1 || err != nil {
		t.Fatalf("first get: %d, %v", v, err)
	}
	if v, _ := c.get("a", time.Hour, load); v != 1 || loads != 1 {
		t.Errorf("within the TTL: %d after %d loads, want the cached 1", v, loads)
	}
	if v, _ := c.get("b", time.Hour, load); v != 2 {
		t.Errorf("another workspace: %d, want its own load", v)
	}
	c.forget("a")
	fail = true
	if v, err := c.get("a", time.Hour, load); v != 0 || err == nil {
		t.Errorf("failed load after forget: %d, %v; want no value and the error", v, err)
	}
	if v, err := c.get("b", 0, load); v != 2 || err == nil {
		t.Errorf("failed reload: %d, %v; want the last value known (2) and the error", v, err)
	}
	fail = false
	if v, err := c.get("b", 0, load); v != 5 || err != nil {
		t.Errorf("reload after a failure: %d, %v; want a fresh load", v, err)
	}
}
