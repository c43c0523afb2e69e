// Package text decodes one line of free text: the whole line is the
// message, with no time, no logsource and no fields of its own. It is the
// fallback for sources no other decoder understands, searched by Sigma
// keyword rules.
package text

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "text"

func init() { decode.Register(Format, New) }

// Decoder decodes free text lines. Every line decodes.
type Decoder struct{}

// New returns a text decoder.
func New() decode.Decoder { return Decoder{} }

// Decode implements decode.Decoder. The message aliases rec.
func (Decoder) Decode(rec []byte, ev *event.Event) error {
	// Framing strips the \n; a file written on Windows leaves the \r.
	if n := len(rec); n > 0 && rec[n-1] == '\n' {
		rec = rec[:n-1]
	}
	if n := len(rec); n > 0 && rec[n-1] == '\r' {
		rec = rec[:n-1]
	}
	if len(rec) > 0 {
		ev.Common[event.Message] = view.String(rec)
	}
	return nil
}
