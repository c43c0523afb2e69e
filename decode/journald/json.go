package journald

import (
	"strconv"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Decoder decodes `journalctl -o json` records.
type Decoder struct {
	router
	sc  jsonscan.Scanner
	bin []byte
}

// New returns a journald JSON decoder.
func New() decode.Decoder { return &Decoder{} }

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	d.fields = d.fields[:0]
	sc := &d.sc
	sc.Reset(rec)
	if !sc.Object() {
		return d.syntax()
	}
	for {
		key, v, ok := sc.Member()
		if !ok {
			break
		}
		k := view.String(key)
		switch v.Kind {
		case jsonscan.String, jsonscan.Number, jsonscan.True, jsonscan.False:
			d.fields = append(d.fields, field{k, view.String(sc.Text(v))})
		case jsonscan.Array:
			if err := d.array(k, v); err != nil {
				return err
			}
		case jsonscan.Object:
			return fail(Format, v.Start, k, "an object: journal fields are strings, byte arrays or arrays of them")
		}
	}
	if err := sc.Err(); err != nil {
		return d.syntax()
	}
	if err := sc.End(); err != nil {
		return d.syntax()
	}
	if len(d.fields) == 0 {
		return fail(Format, 0, "", "empty journal record")
	}
	return d.fill(Format, ev)
}

// array reads a field written as an array: the bytes of a binary value
// ([104,105]), or the values of a field the entry holds several times
// (["a","b"], each a string or a byte array).
func (d *Decoder) array(k string, v jsonscan.Value) error {
	sc := &d.sc
	sc.Seek(v.Start)
	sc.Array()
	d.bin = d.bin[:0]
	bytes := false
	for sc.More() {
		e, text := sc.Read()
		switch e.Kind {
		case jsonscan.Number:
			n, err := strconv.ParseUint(view.String(text), 10, 8)
			if err != nil {
				return fail(Format, e.Start, k, "a byte array holds "+strconv.Quote(string(text))+", not a byte")
			}
			d.bin = append(d.bin, byte(n))
			bytes = true
		case jsonscan.String:
			d.fields = append(d.fields, field{k, view.String(text)})
		case jsonscan.Array:
			back := sc.Offset()
			if err := d.array(k, e); err != nil {
				return err
			}
			sc.Seek(back)
		case jsonscan.Null:
		default:
			return fail(Format, e.Start, k, "an array of "+e.Kind.String()+": want strings or bytes")
		}
	}
	if bytes {
		d.fields = append(d.fields, field{k, string(d.bin)})
	}
	return nil
}

func (d *Decoder) syntax() error {
	if se, ok := d.sc.Err().(*jsonscan.SyntaxError); ok {
		return fail(Format, se.Offset, "", "invalid JSON: "+se.Msg)
	}
	return fail(Format, 0, "", "not a JSON object")
}
