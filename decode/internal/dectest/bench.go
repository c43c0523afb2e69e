package dectest

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// BenchDecode decodes recs round and round with d into an event bound to
// dict, and reports records/s, records per CPU second, bytes and
// allocations.
func BenchDecode(b *testing.B, d decode.Decoder, dict *event.Dict, recs [][]byte) {
	b.Helper()
	bench(b, d, nil, dict, recs, time.Time{}, "records", nil)
}

// BenchDecodeAt is BenchDecode with the events received at received: the
// decoders of year-less stamps date them by it, and by the clock when it
// is zero.
func BenchDecodeAt(b *testing.B, d decode.Decoder, dict *event.Dict, recs [][]byte, received time.Time) {
	b.Helper()
	bench(b, d, nil, dict, recs, received, "records", nil)
}

// BenchExpand is BenchDecode for an Expander. When unit is not empty it
// names what the expanded events are (nsgflow's "tuples"), and the rates
// are of those rather than of records.
func BenchExpand(b *testing.B, d decode.Expander, dict *event.Dict, recs [][]byte, unit string) {
	b.Helper()
	if unit == "" {
		bench(b, nil, d, dict, recs, time.Time{}, "records", nil)
		return
	}
	events := 0
	bench(b, nil, d, dict, recs, time.Time{}, unit, &events)
}

// bench decodes recs b.N times, with d or, when d is nil, expanding with
// x, and reports the rates of the events counted in *count, or of records
// when count is nil. Either way one call a record, as a pipeline makes.
func bench(b *testing.B, d decode.Decoder, x decode.Expander, dict *event.Dict, recs [][]byte, received time.Time, unit string, count *int) {
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	emit := func(*event.Event) {}
	if count != nil {
		emit = func(*event.Event) { *count++ }
	}
	var ev event.Event
	ev.Fields.Bind(dict)
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := CPUTime()
	for i := 0; i < b.N; i++ {
		ev.Reset()
		ev.Received = received
		var err error
		if d != nil {
			err = d.Decode(recs[i%len(recs)], &ev)
		} else {
			err = x.Expand(recs[i%len(recs)], &ev, emit)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	n := b.N
	if count != nil {
		n = *count
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit+"/s")
	if cpu := CPUTime() - cpu; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), unit+"/cpu-s")
	}
}

// expanding decodes with an Expander, for the tests that take either.
type expanding struct {
	x    decode.Expander
	emit func(*event.Event) // made once: a method value made per call would allocate
}

func expandWith(x decode.Expander) *expanding {
	return &expanding{x: x, emit: func(*event.Event) {}}
}

func (e *expanding) Decode(rec []byte, ev *event.Event) error { return e.x.Expand(rec, ev, e.emit) }
