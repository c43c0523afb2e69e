package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// sigmaDir is SigmaHQ's rule set in the shared data.
var sigmaDir = filepath.Join("..", "..", "..", "shared", "data", "sigma")

func needSigma(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(sigmaDir); err != nil {
		tb.Skipf("SigmaHQ rules not found at %s: %v", sigmaDir, err)
	}
}

// BenchmarkLoadSigmaHQ is scan's start: every SigmaHQ rule file read,
// parsed and compiled into an engine.
func BenchmarkLoadSigmaHQ(b *testing.B) {
	needSigma(b)
	for b.Loop() {
		rl := newRuleLoader(&Config{Rules: []string{sigmaDir}, NoBuiltin: true}, slog.New(slog.DiscardHandler), 0)
		rl.refresh()
		rs, rep := rl.build()
		if rs.Engine.Len() == 0 || rep.loaded != 3755 {
			b.Fatalf("%d rules loaded", rep.loaded)
		}
	}
}

// BenchmarkParseSigmaHQ is the parsing part of BenchmarkLoadSigmaHQ.
func BenchmarkParseSigmaHQ(b *testing.B) {
	needSigma(b)
	for b.Loop() {
		rl := newRuleLoader(&Config{Rules: []string{sigmaDir}, NoBuiltin: true}, slog.New(slog.DiscardHandler), 0)
		rl.refresh()
	}
}

// BenchmarkLoadSigmaHQCached is BenchmarkLoadSigmaHQ with the rules from
// a warm rule cache, as a second scan finds them.
func BenchmarkLoadSigmaHQCached(b *testing.B) {
	needSigma(b)
	cache := b.TempDir()
	load := func() {
		rl := newRuleLoader(&Config{Rules: []string{sigmaDir}, NoBuiltin: true}, slog.New(slog.DiscardHandler), 0)
		rl.cache = openRuleCache(cache, rl.paths, rl.opts)
		rl.refresh()
		if err := rl.cache.save(); err != nil {
			b.Fatal(err)
		}
		rs, rep := rl.build()
		if rs.Engine.Len() == 0 || rep.loaded != 3755 {
			b.Fatalf("%d rules loaded", rep.loaded)
		}
	}
	load()
	for b.Loop() {
		load()
	}
}

// BenchmarkScanWindowsCorpus is `vigil scan` over the Windows corpus with
// every SigmaHQ rule, in-process (rule cache on).
func BenchmarkScanWindowsCorpus(b *testing.B) {
	needSigma(b)
	corpus := filepath.Join("..", "..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	if _, err := os.Stat(corpus); err != nil {
		b.Skipf("corpus not found: %v", err)
	}
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	for b.Loop() {
		root := newRoot()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"scan", "--no-builtin-rules", "--rules", sigmaDir, "-o", "ndjson", corpus})
		if err := root.Execute(); err != nil {
			b.Fatal(err)
		}
	}
}
