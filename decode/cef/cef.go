// Package cef decodes ArcSight Common Event Format records, with or
// without the syslog header a relay puts in front:
//
//	[<PRI>Mmm dd hh:mm:ss host [tag] ]CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|key=value key=value …
//
// Header fields and extension keys become fields under their own names,
// custom fields (cs1 … with cs1Label) also under their label, and the
// standard keys (src, dpt, suser, act, rt …) fill the ECS common fields.
package cef

import (
	"strings"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/kv"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "cef"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes CEF records. It is not safe for concurrent use.
type Decoder struct {
	loc *time.Location
	// kv holds the extension's pairs of the current record; buf holds the
	// unescaped copies of values (and header fields) that had escapes.
	// Both are reused from record to record.
	kv  []kv.Pair
	buf []byte
}

// New returns a CEF decoder reading zone-less time stamps as UTC.
func New() decode.Decoder { return &Decoder{kv: make([]kv.Pair, 0, 64)} }

// Configure implements decode.Configurable: the zone of time stamps
// written without one (rt=Sep 19 2012 13:53:33, the syslog header).
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

const markerText = "CEF:"

var marker = []byte(markerText)

// headerNames are the field names of the seven header fields, as
// ArcSight names them.
var headerNames = [7][]byte{
	[]byte("cefVersion"), []byte("deviceVendor"), []byte("deviceProduct"), []byte("deviceVersion"),
	[]byte("deviceEventClassId"), []byte("name"), []byte("severity"),
}

// Decode implements decode.Decoder. Values alias rec or the decoder's
// buffer and are valid until the next Decode.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	line, start, ok := sysloghdr.Payload(rec, marker)
	if !ok {
		return &decode.Error{Format: Format, Offset: 0, Reason: "no \"CEF:\" marker"}
	}
	// "CEF:CEF:0|…" (F5 BIG-IP): the payload starts at the last marker.
	for strings.HasPrefix(line[start+4:], markerText) {
		start += 4
	}
	if cap(d.buf) < len(line) {
		d.buf = make([]byte, 0, 2*len(line))
	}
	// The unescaped copies never outgrow the line, so buf is not
	// reallocated while values point into it.
	d.buf = d.buf[:0]

	var head [7]string
	ext, err := d.header(line, start+4, &head)
	if err != nil {
		return err
	}
	d.extension(line, ext)

	kv.SetFields(&ev.Fields, headerNames[:], head[:], d.kv)
	d.labels(&ev.Fields)
	ev.Common[event.EventCode] = head[4]
	d.common(ev, sysloghdr.Prefix(line, start, ev.Received, d.loc))
	return nil
}
