package evtx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
	"github.com/vigil-sec/vigil/event"
)

// benchFiles are undamaged samples of the common channels.
var benchFiles = []string{"security.evtx", "system.evtx", "sysmon.evtx", "sample-with-irregular-bool-values.evtx"}

// BenchmarkRead reads whole files, rendering each record (the reader's
// work), and reports records/s and records per CPU second.
func BenchmarkRead(b *testing.B) {
	benchRead(b, false)
}

// BenchmarkReadDecode is BenchmarkRead with each record decoded into an
// event as scan does (the windows decoder, Sigma's field names).
func BenchmarkReadDecode(b *testing.B) {
	benchRead(b, true)
}

func benchRead(b *testing.B, decode bool) {
	var files [][]byte
	size := 0
	for _, f := range benchFiles {
		data, err := os.ReadFile(sample(b, f))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
		size += len(data)
	}
	dec := New()
	var ev event.Event
	ev.Fields.Bind(sigmaDict(b))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := dectest.CPUTime()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, data := range files {
			rd, err := NewReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			for {
				r, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					var p *Problem
					if errors.As(err, &p) {
						continue
					}
					b.Fatal(err)
				}
				n++
				if decode {
					ev.Reset()
					if err := dec.Decode(r.JSON, &ev); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if cpu := dectest.CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
}

// sigmaDict is the field set the windows decoder's tests bind: the
// fields SigmaHQ's Windows rules name.
func sigmaDict(t testing.TB) *event.Dict {
	b, err := os.ReadFile(filepath.Join("..", "windows", "testdata", "sigma_fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return event.NewDict(strings.Fields(string(b))...)
}
