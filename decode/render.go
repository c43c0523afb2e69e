package decode

import (
	"bytes"
	"encoding/json"

	"github.com/vigil-sec/vigil/event"
)

// Renderer decodes stored records again into whole events: the store keeps
// an event's place, time, logsource and common fields beside the raw
// record, and the source's own fields are decoded from the record when the
// event is read. The API, investigation search and the assessment share it
// so that an event reads the same everywhere.
//
// A Renderer keeps one decoder per format and one event, reused from
// record to record: it is not safe for concurrent use.
type Renderer struct {
	decoders map[string]Decoder
	errs     map[string]error // formats with no decoder
	ev       event.Event
}

// NewRenderer returns a Renderer that keeps every field a decoder offers.
func NewRenderer() *Renderer {
	r := &Renderer{decoders: map[string]Decoder{}, errs: map[string]error{}}
	// An open Dict keeps every field the decoder offers: a reader sees
	// the event whole, not only what rules read.
	r.ev.Fields.Bind(event.NewOpenDict())
	return r
}

func (r *Renderer) decoder(format string) (Decoder, error) {
	if d, ok := r.decoders[format]; ok {
		return d, nil
	}
	if err, ok := r.errs[format]; ok {
		return nil, err
	}
	d, err := New(format)
	if err != nil {
		r.errs[format] = err
		return nil, err
	}
	r.decoders[format] = d
	return d, nil
}

// Render decodes stored.Raw by stored.Format. stored carries what the
// store kept: ID, Workspace, Source, Format, Logsource, Time, Received,
// Common and Raw. Those are what detection saw, so they win over what
// decoding gives today; the source's own fields come from decoding. When
// the record no longer decodes, the event holds the stored parts without
// own fields (a half-decoded record would mislead) and err says why.
//
// The event is the Renderer's, valid until the next Render; its values
// may alias stored.Raw.
func (r *Renderer) Render(stored *event.Event) (ev *event.Event, err error) {
	ev = &r.ev
	ev.Reset()
	ev.ID, ev.Workspace, ev.Source, ev.Format = stored.ID, stored.Workspace, stored.Source, stored.Format
	ev.Received, ev.Raw = stored.Received, stored.Raw
	d, err := r.decoder(stored.Format)
	if err == nil {
		err = d.Decode(stored.Raw, ev)
	}
	ev.ID, ev.Workspace, ev.Source, ev.Format = stored.ID, stored.Workspace, stored.Source, stored.Format
	ev.Logsource, ev.Time, ev.Received, ev.Common = stored.Logsource, stored.Time, stored.Received, stored.Common
	ev.Raw = stored.Raw
	if err != nil {
		ev.Fields.Reset()
	}
	return ev, err
}

// AppendJSON appends the JSON form of an event Render returned, as `vigil
// decode` shows it. When decodeErr is set, the object also holds the
// record under "raw" and the reason under "decode_error", so that a
// record that no longer decodes is still shown.
func AppendJSON(b []byte, ev *event.Event, decodeErr error) []byte {
	b = ev.AppendJSON(b)
	if decodeErr == nil {
		return b
	}
	b = b[:len(b)-1] // reopen the object
	b = append(b, `,"raw":`...)
	b = appendJSONString(b, string(ev.Raw))
	b = append(b, `,"decode_error":`...)
	b = appendJSONString(b, decodeErr.Error())
	return append(b, '}')
}

// appendJSONString appends s as a JSON string without HTML escaping: a
// command line "a > b & c" must read as it was.
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
