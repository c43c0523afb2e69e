package dectest

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Fuzz runs the fuzz target of a decoder, its seeds added: each input is
// sniffed with sniff when it is not nil (for its panics), then decoded
// with d (expanded, when d is an Expander) into an event bound to an open
// Dict and received at received. A refusal must be a *decode.Error within
// the input (Refused); each event d gives is handed to check.
func Fuzz(f *testing.F, d decode.Decoder, sniff decode.Sniffer, received time.Time, check func(t *testing.T, ev *event.Event)) {
	dict := event.NewOpenDict()
	x, expands := d.(decode.Expander)
	f.Fuzz(func(t *testing.T, rec []byte) {
		if sniff != nil {
			sniff(rec)
		}
		var ev event.Event
		ev.Received = received
		ev.Fields.Bind(dict)
		if expands {
			Refused(t, rec, x.Expand(rec, &ev, func(e *event.Event) { check(t, e) }))
			return
		}
		if !Refused(t, rec, d.Decode(rec, &ev)) {
			check(t, &ev)
		}
	})
}
