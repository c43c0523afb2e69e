// Package leef decodes IBM QRadar's Log Event Extended Format, with or
// without a syslog header in front:
//
//	LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…
//	LEEF:2.0|Vendor|Product|Version|EventID|^|key=value^key=value…
//
// LEEF 2.0 names its attribute delimiter in the sixth header field, as a
// character or in hex (x09, 0x5E); 1.0 uses a tab. Attributes become
// fields under their own names and the standard ones (src, dstPort,
// usrName, devTime …) fill the ECS common fields.
package leef

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/kv"
	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "leef"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes LEEF records. It is not safe for concurrent use.
type Decoder struct {
	loc *time.Location
	kv  []kv.Pair // the current record's attributes, reused
}

// New returns a LEEF decoder reading zone-less time stamps as UTC.
func New() decode.Decoder { return &Decoder{kv: make([]kv.Pair, 0, 64)} }

// Configure implements decode.Configurable: the zone of devTime stamps and
// syslog headers written without one.
func (d *Decoder) Configure(o decode.Options) error {
	d.loc = o.Location
	return nil
}

var marker = []byte("LEEF:")

var headerNames = [5][]byte{
	[]byte("leefVersion"), []byte("deviceVendor"), []byte("deviceProduct"), []byte("deviceVersion"), []byte("eventId"),
}

// Decode implements decode.Decoder. Values alias rec and are valid as long
// as rec is.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	line, start, ok := sysloghdr.Payload(rec, marker)
	if !ok {
		return &decode.Error{Format: Format, Offset: 0, Reason: "no \"LEEF:\" marker"}
	}
	var head [5]string
	ext, delim, err := header(line, start+len(marker), &head)
	if err != nil {
		return err
	}
	d.attributes(line[ext:], delim)

	kv.SetFields(&ev.Fields, headerNames[:], head[:], d.kv)
	ev.Common[event.EventCode] = head[4]
	d.common(ev, sysloghdr.Prefix(line, start, ev.Received, d.loc))
	return nil
}
