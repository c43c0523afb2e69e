// Package dectest holds what the decoders' tests and benchmarks share. On
// a shared machine a benchmark's wall clock counts time spent waiting for a
// core; records per CPU second (CPUTime) does not.
package dectest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// BenchDecode decodes recs round and round with d into an event bound to
// dict, and reports records/s, records per CPU second, bytes and
// allocations.
func BenchDecode(b *testing.B, d decode.Decoder, dict *event.Dict, recs [][]byte) {
	b.Helper()
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := CPUTime()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		if err := d.Decode(recs[i%len(recs)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "records/cpu-s")
	}
}

// Fixtures reads the files of testdata matching pattern (e.g. "*.json"),
// one record a file, sorted by name.
func Fixtures(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures testdata/%s (%v)", pattern, err)
	}
	var recs [][]byte
	for _, f := range files {
		r, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}
