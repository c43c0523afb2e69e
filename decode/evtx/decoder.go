package evtx

import (
	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/windows"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "evtx"

func init() { decode.Register(Format, New) }

// Decoder decodes a record read from an .evtx file (its JSON rendering,
// Record.JSON) as the windows decoder decodes evtx_dump's JSON: the same
// fields and the same logsource by channel.
type Decoder struct{ win decode.Decoder }

// New returns an evtx record decoder.
func New() decode.Decoder { return &Decoder{win: windows.New()} }

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error { return d.win.Decode(rec, ev) }
