// Package dectest holds what the decoders' tests and benchmarks share: the
// fixtures and how they are read, decoded and checked. On a shared machine
// a benchmark's wall clock counts time spent waiting for a core; records
// per CPU second (CPUTime) does not.
package dectest

import (
	"os"
	"path/filepath"
	"testing"
)

// Fixtures reads the files of testdata matching pattern (e.g. "*.json"),
// one record a file, sorted by name.
func Fixtures(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	var recs [][]byte
	for _, f := range files(tb, pattern) {
		r, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// files returns the testdata files matching pattern, sorted by name; none
// fails the test.
func files(tb testing.TB, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures testdata/%s (%v)", pattern, err)
	}
	return files
}
