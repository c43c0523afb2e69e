package main

import (
	"runtime/debug"
	"testing"
)

// holdGC stops collections (but at its limit) and its resume puts the
// collector back exactly as it found it.
func TestHoldGCResumesAsItWas(t *testing.T) {
	prevPercent := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prevPercent)
	limit := debug.SetMemoryLimit(-1)
	resume := holdGC(64 << 20)
	if got := debug.SetMemoryLimit(-1); got != min(limit, 64<<20) {
		t.Errorf("memory limit while held: %d, want %d", got, min(limit, 64<<20))
	}
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent while held: %d, want off (-1)", got)
	}
	resume()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GC percent after: %d, want 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit after: %d, want %d", got, limit)
	}
}
