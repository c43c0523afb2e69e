// Package headerline holds what the decoders of formats with header lines
// share (VPC flow logs' S3 header, a CSV export's header row): a line that
// names the fields of the lines after it, and holds no event.
package headerline

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Step reads a record into ev, or takes it as a header line.
type Step func(rec []byte, ev *event.Event) (header bool, err error)

// Expand is decode.Expander's Expand for a format with header lines: a
// record gives one event, a header line none.
func Expand(step Step, rec []byte, ev *event.Event, emit func(*event.Event)) error {
	header, err := step(rec, ev)
	if err != nil || header {
		return err
	}
	emit(ev)
	return nil
}

// Decode is decode.Decoder's Decode for a format with header lines: a
// header line is refused, for reason, since it holds no event; callers
// that take headers use Expand.
func Decode(step Step, rec []byte, ev *event.Event, format, reason string) error {
	header, err := step(rec, ev)
	if err == nil && header {
		return &decode.Error{Format: format, Offset: 0, Reason: reason}
	}
	return err
}
