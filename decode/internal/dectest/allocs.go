package dectest

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// ZeroAllocs fails t for each record that d allocates for in steady state,
// decoding into an event bound to dict: with Expand when d is an
// Expander, else with Decode.
func ZeroAllocs(t *testing.T, d decode.Decoder, dict *event.Dict, recs [][]byte) {
	t.Helper()
	ZeroAllocsAt(t, d, dict, recs, time.Time{})
}

// ZeroAllocsAt is ZeroAllocs with the events received at received (see
// BenchDecodeAt).
func ZeroAllocsAt(t *testing.T, d decode.Decoder, dict *event.Dict, recs [][]byte, received time.Time) {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(dict)
	if x, ok := d.(decode.Expander); ok {
		d = expandWith(x)
	}
	for _, rec := range recs {
		if a := testing.AllocsPerRun(100, func() {
			ev.Reset()
			ev.Received = received
			if err := d.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%.60q: %.1f allocs per record, want 0", rec, a)
		}
	}
}

// ZeroAllocsStream is ZeroAllocs for decoders that carry state from record
// to record (a session's user, a CSV header): recs are decoded in order, as
// a source's are, once to warm the buffers and then measured, and t fails
// when they cost an allocation a record or more on average (AllocsPerRun
// rounds down: the state a record leaves may be copied now and then).
func ZeroAllocsStream(t *testing.T, d decode.Decoder, dict *event.Dict, recs [][]byte) {
	t.Helper()
	var ev event.Event
	ev.Fields.Bind(dict)
	for _, r := range recs {
		ev.Reset()
		d.Decode(r, &ev) // warming up: the measured run checks the errors
	}
	i := 0
	if a := testing.AllocsPerRun(len(recs), func() {
		ev.Reset()
		if err := d.Decode(recs[i%len(recs)], &ev); err != nil {
			t.Fatal(err)
		}
		i++
	}); a != 0 {
		t.Errorf("%.2f allocs per record, want 0", a)
	}
}
