package main

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// keepMemoryLimit restores the runtime's memory limit when the test ends.
func keepMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
}

// TestMemoryLimitSetting: memory-limit becomes the Go runtime's soft memory
// limit, and sizes the concurrent gzip decompressions.
func TestMemoryLimitSetting(t *testing.T) {
	keepMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "")
	cfg := testServeConfig(t, "--memory-limit", "512MiB")
	if cfg.memoryLimit != 512<<20 {
		t.Fatalf("memory-limit parsed as %d", cfg.memoryLimit)
	}
	if got := applyMemoryLimit(cfg, slog.New(slog.DiscardHandler)); got != 512<<20 {
		t.Errorf("budget in force %d, want %d", got, 512<<20)
	}
	// Nine tenths go to the Go runtime; the rest is for what it does not
	// count (code pages, SQLite's memory), which the resident set includes.
	if got, want := debug.SetMemoryLimit(-1), int64(512<<20)*9/10; got < want-1 || got > want+1 {
		t.Errorf("runtime memory limit %d, want %d", got, want)
	}
	// 64 MiB bodies: one inflates at a time in 512 MiB, two in 1 GiB.
	if got := decompressions(cfg, 512<<20); got != 1 {
		t.Errorf("decompressions under 512MiB: %d, want 1", got)
	}
	if got, want := decompressions(cfg, 1<<30), min(2, max(2, runtime.GOMAXPROCS(0))); got != want {
		t.Errorf("decompressions under 1GiB: %d, want %d", got, want)
	}
	if got, want := decompressions(cfg, math.MaxInt64), max(2, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("decompressions without a limit: %d, want %d", got, want)
	}
	if got := decompressions(testServeConfig(t, "--ingest-max-body", "1GiB", "--ingest-max-inflight", "2GiB"), 512<<20); got != 1 {
		t.Errorf("decompressions of 1 GiB bodies under 512MiB: %d, want 1", got)
	}
	// The in-flight budget takes at most a quarter of the limit.
	if got := inflightUnder(cfg, 512<<20); got != 128<<20 {
		t.Errorf("in-flight budget under 512MiB: %d, want %d", got, 128<<20)
	}
	if got := inflightUnder(cfg, math.MaxInt64); got != 256<<20 {
		t.Errorf("in-flight budget without a limit: %d, want the setting's %d", got, 256<<20)
	}
	if got := inflightUnder(testServeConfig(t, "--ingest-max-inflight", "64MiB"), 512<<20); got != 64<<20 {
		t.Errorf("a smaller in-flight setting under 512MiB: %d, want it kept", got)
	}
	if _, err := loadConfigArgs(t, "--memory-limit", "lots"); err == nil {
		t.Error("memory-limit lots accepted")
	}
}

// TestMemoryLimitEnvironmentWins: GOMEMLIMIT, which the runtime read at
// start, is left alone.
func TestMemoryLimitEnvironmentWins(t *testing.T) {
	keepMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30) // as the runtime would have at start
	cfg := testServeConfig(t, "--memory-limit", "512MiB")
	if got := applyMemoryLimit(cfg, slog.New(slog.DiscardHandler)); got != 1<<30 {
		t.Errorf("limit in force %d, want GOMEMLIMIT's %d", got, 1<<30)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("runtime memory limit %d, want %d", got, 1<<30)
	}
}

// TestOSReleaseRateLimited: a drained backlog gives memory back at once;
// more drains within the interval give it back once more, when the
// interval is over — never more often.
func TestOSReleaseRateLimited(t *testing.T) {
	var freed atomic.Int32
	r := &osRelease{every: 200 * time.Millisecond, free: func() { freed.Add(1) }}
	r.drained()
	waitFor := func(n int32) bool {
		deadline := time.Now().Add(5 * time.Second)
		for freed.Load() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		return freed.Load() >= n
	}
	if !waitFor(1) {
		t.Fatal("the first drain freed nothing")
	}
	r.drained()
	r.drained()
	r.drained()
	if got := freed.Load(); got != 1 {
		t.Errorf("freed %d times within the interval, want 1", got)
	}
	if !waitFor(2) {
		t.Fatal("drains within the interval were not freed after it")
	}
	time.Sleep(300 * time.Millisecond)
	if got := freed.Load(); got != 2 {
		t.Errorf("freed %d times, want 2", got)
	}
}

func loadConfigArgs(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	cmd := newServeCmd()
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(cmd.Flags())
}

// TestRuleLimitSettings: rule-max-values and rule-max-file reach rule
// loading; a rule over them is reported with its file, line and the limit,
// and the other rules load.
func TestRuleLimitSettings(t *testing.T) {
	dir := t.TempDir()
	three := "title: Three\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User:\n            - a\n            - b\n            - c\n    condition: sel\n"
	two := strings.Replace(strings.Replace(three, "            - c\n", "", 1), "Three", "Two", 1)
	os.WriteFile(filepath.Join(dir, "three.yml"), []byte(three), 0o600)
	os.WriteFile(filepath.Join(dir, "two.yml"), []byte(two), 0o600)
	cfg := testServeConfig(t, "--rules", dir, "--no-builtin-rules", "--rule-max-values", "2")
	l := newRuleLoader(cfg, slog.New(slog.DiscardHandler), 0)
	l.refresh()
	_, rep := l.build()
	want := filepath.Join(dir, "three.yml") + ":6:9: the rule has more than 2 values (the limit; rule-max-values raises it)"
	if len(rep.errs) != 1 || rep.errs[0].Error() != want || rep.loaded != 1 {
		t.Errorf("loaded %d, errors %v; want 1 and %q", rep.loaded, rep.errs, want)
	}
	cfg = testServeConfig(t, "--rules", dir, "--no-builtin-rules", "--rule-max-file", "100")
	l = newRuleLoader(cfg, slog.New(slog.DiscardHandler), 0)
	l.refresh()
	_, rep = l.build()
	if len(rep.errs) != 2 || !strings.Contains(rep.errs[0].Error(), "more than the limit of 100 (rule-max-file raises it)") {
		t.Errorf("errors %v", rep.errs)
	}
}
