// Package auto is the pseudo-format "auto", for sources that name no
// format: each record is sniffed (decode.Sniff) and decoded by the format
// that scores it highest. The event's Format is the detected format, so a
// stored event says what it was decoded as.
//
// Sniffing runs per record, so one stream may mix formats (sshd lines,
// CEF lines, Windows JSON, CloudTrail records). It costs every sniffer a
// record: a source of one known format should name it. Records that span
// several lines (decode.Joiner) cannot be joined, since the format is not
// known before the record is whole; name the format for those sources.
package auto

import (
	"fmt"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the pseudo-format is registered under.
const Format = "auto"

func init() {
	// No sniffer: auto is never a guess.
	decode.Register(Format, New)
}

// Decoder dispatches each record to the decoder of its sniffed format,
// one instance a format, made when first needed and configured with the
// options the source gave auto. Like every Decoder it is not safe for
// concurrent use.
type Decoder struct {
	decs       map[string]decode.Decoder
	opts       decode.Options
	configured bool
}

// New returns an auto decoder.
func New() decode.Decoder { return &Decoder{decs: map[string]decode.Decoder{}} }

// Configure implements decode.Configurable: the options are passed to
// every format's decoder that takes options (a time zone for syslog-like
// formats, a mapping for json, a field list for vpcflow). They are checked
// now, against every such format, so that a bad option fails when the
// source is configured rather than at its first record.
func (d *Decoder) Configure(o decode.Options) error {
	d.opts, d.configured = o, true
	d.decs = map[string]decode.Decoder{}
	if o.Location == nil && len(o.Mapping) == 0 && len(o.Fields) == 0 && o.Layout == "" {
		return nil
	}
	for _, name := range decode.Formats() {
		if name == Format {
			continue
		}
		dec, err := decode.New(name)
		if err != nil {
			return err
		}
		if c, ok := dec.(decode.Configurable); ok {
			if err := c.Configure(o); err != nil {
				return fmt.Errorf("auto: format %s: %w", name, err)
			}
		}
		d.decs[name] = dec
	}
	return nil
}

// pick sniffs rec and returns its format and that format's decoder.
func (d *Decoder) pick(rec []byte) (string, decode.Decoder, error) {
	name, _ := decode.Sniff(rec)
	if name == "" || name == Format {
		return "", nil, &decode.Error{Format: Format, Offset: -1, Reason: "no format recognizes this record"}
	}
	if dec, ok := d.decs[name]; ok {
		return name, dec, nil
	}
	dec, err := decode.New(name)
	if err != nil {
		return "", nil, &decode.Error{Format: Format, Offset: -1, Reason: err.Error()}
	}
	if c, ok := dec.(decode.Configurable); ok && d.configured {
		if err := c.Configure(d.opts); err != nil {
			return "", nil, &decode.Error{Format: Format, Offset: -1, Reason: "format " + name + ": " + err.Error()}
		}
	}
	d.decs[name] = dec
	return name, dec, nil
}

// Decode implements decode.Decoder: the record's format decodes it, and
// ev.Format names that format. For a format whose records hold several
// events (decode.Expander) it gives the first, as that format's Decode
// does.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	name, dec, err := d.pick(rec)
	if err != nil {
		return err
	}
	ev.Format = name
	return dec.Decode(rec, ev)
}

// Expand implements decode.Expander: a record of a format that expands
// (flow logs, headers of vpcflow and s3access) is expanded by it; any
// other is decoded and emitted as one event. Every event's Format is the
// detected format.
func (d *Decoder) Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error {
	name, dec, err := d.pick(rec)
	if err != nil {
		return err
	}
	ev.Format = name // ResetFor keeps it for the sub-events
	if x, ok := dec.(decode.Expander); ok {
		return x.Expand(rec, ev, emit)
	}
	if err := dec.Decode(rec, ev); err != nil {
		return err
	}
	emit(ev)
	return nil
}
