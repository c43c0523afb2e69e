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

// applyMemoryLimit makes the memory-limit setting the Go runtime's soft
// memory limit, so that the collector works harder as the heap nears it
// instead of letting garbage double the resident set. GOMEMLIMIT in the
// environment wins: the runtime applied it at start. It returns the limit
// in force (math.MaxInt64: none).
func applyMemoryLimit(cfg *Config, log *slog.Logger) int64 {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		if cfg.memoryLimit > 0 {
			log.Info("GOMEMLIMIT is set in the environment: it wins over memory-limit", "GOMEMLIMIT", env, "memory_limit", cfg.MemoryLimit)
		}
		return debug.SetMemoryLimit(-1)
	}
	if cfg.memoryLimit > 0 {
		debug.SetMemoryLimit(cfg.memoryLimit)
		if cfg.inflight > cfg.memoryLimit/2 {
			log.Warn("ingest-max-inflight is more than half of memory-limit: ingest alone may push the process to its limit",
				"ingest_max_inflight", cfg.IngestMaxInflight, "memory_limit", cfg.MemoryLimit)
		}
	}
	return debug.SetMemoryLimit(-1)
}

// decompressions is how many gzip bodies ingest inflates at once: one a CPU
// (at least 2), as inflating is CPU work; under a memory limit, no more
// than a quarter of it holds in largest bodies, but at least one.
func decompressions(cfg *Config, limit int64) int {
	n := max(2, runtime.GOMAXPROCS(0))
	if limit > 0 && limit < math.MaxInt64 && cfg.ingestMaxBody > 0 {
		n = min(n, max(1, int(limit/4/cfg.ingestMaxBody)))
	}
	return n
}

// releaseEvery is how often, at most, a drained backlog returns memory to
// the system: FreeOSMemory runs a full collection.
const releaseEvery = time.Minute

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

func newOSRelease() *osRelease { return &osRelease{every: releaseEvery, free: debug.FreeOSMemory} }

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
		r.free()
		r.mu.Lock()
		r.last, r.pending = time.Now(), false
		r.mu.Unlock()
	})
}
