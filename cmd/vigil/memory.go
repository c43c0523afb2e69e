package main

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// inflightUnder is the ingest in-flight budget under a memory limit: at
// most a quarter of it (and never less than the largest body), so that
// bodies in flight leave room for the bus, detection and the garbage the
// collector has yet to reclaim.
func inflightUnder(cfg *Config, limit int64) int64 {
	n := cfg.inflight
	if limit > 0 && limit < math.MaxInt64 {
		n = min(n, max(limit/4, cfg.ingestMaxBody+64<<10))
	}
	return n
}

// applyMemoryLimit makes the memory-limit setting the process's memory
// budget: the Go runtime's soft memory limit is set to nine tenths of it,
// so that the collector works harder as the heap nears it instead of
// letting garbage double the resident set, and the rest is left for what
// the runtime does not count (the program's code, SQLite's own memory).
// GOMEMLIMIT in the environment wins and is the budget: the runtime
// applied it at start. It returns the budget (math.MaxInt64: none).
func applyMemoryLimit(cfg *Config, log *slog.Logger) int64 {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		if cfg.memoryLimit > 0 {
			log.Info("GOMEMLIMIT is set in the environment: it wins over memory-limit", "GOMEMLIMIT", env, "memory_limit", cfg.MemoryLimit)
		}
		return debug.SetMemoryLimit(-1)
	}
	if cfg.memoryLimit <= 0 {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(runtimeLimit(cfg.memoryLimit))
	return cfg.memoryLimit
}

// runtimeLimit is the Go runtime's share of a memory budget.
func runtimeLimit(budget int64) int64 { return budget - budget/10 }

// decompressions is how many gzip bodies ingest inflates at once: one a CPU
// (at least 2), as inflating is CPU work; under a memory limit, no more
// than an eighth of it holds in largest bodies (but at least one): a body
// inflated to the limit has grown its buffer by doubling, and the smaller
// buffers it left behind are garbage until the next collection.
func decompressions(cfg *Config, limit int64) int {
	n := max(2, runtime.GOMAXPROCS(0))
	if limit > 0 && limit < math.MaxInt64 && cfg.ingestMaxBody > 0 {
		n = min(n, max(1, int(limit/8/cfg.ingestMaxBody)))
	}
	return n
}

// releaseEvery is how often, at most, a drained backlog returns memory to
// the system: FreeOSMemory runs a full collection (tens of milliseconds of
// CPU for a heap of a hundred megabytes).
const releaseEvery = 10 * time.Second

// osRelease gives memory back to the system after the detect stage worked
// off a backlog: the heap it grew to would otherwise stay resident for
// minutes. A drain within every of the last release is released once
// every is over.
type osRelease struct {
	every time.Duration
	free  func()

	mu      sync.Mutex
	last    time.Time
	pending bool
}

func newOSRelease(log *slog.Logger) *osRelease {
	return &osRelease{every: releaseEvery, free: func() {
		// Two collections: the first moves sync.Pool contents (request
		// and codec buffers) to the pools' victim caches, the second
		// frees them; FreeOSMemory then returns the pages.
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		log.Debug("backlog drained: memory returned to the system", "heap_inuse", ms.HeapInuse, "heap_released", ms.HeapReleased)
	}}
}

// drained is analysis.StageConfig.Drained; it does not block.
func (r *osRelease) drained() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending {
		return
	}
	r.pending = true
	wait := r.every - time.Since(r.last)
	if r.last.IsZero() || wait < 0 {
		wait = 0
	}
	time.AfterFunc(wait, func() {
		r.mu.Lock()
		r.last, r.pending = time.Now(), false
		r.mu.Unlock()
		r.free()
	})
}
