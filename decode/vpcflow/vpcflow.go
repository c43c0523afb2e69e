// Package vpcflow decodes AWS VPC flow log records: the text lines flow
// logs write to S3 or CloudWatch Logs, in the default format or a custom
// one, and flow records already turned into JSON (by a log shipper or a
// SIEM export). Fields keep AWS's names (srcaddr, dstport, log-status).
//
// A custom format's field list comes from the header line S3 delivery
// writes at the top of each file ("version account-id interface-id …"):
// the decoder remembers it for the lines that follow. A source whose
// records carry no header names its fields in its configuration
// (decode.Options.Fields); without either, the default format applies.
package vpcflow

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/decode/internal/headerline"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "vpcflow"

func init() {
	decode.Register(Format, New)
	decode.RegisterSniffer(Format, Sniff)
}

// Decoder decodes flow log records. It is an Expander so that a header
// line yields no event: it only sets the field list. The values it stores
// alias the record or its parse buffers and are valid until the next one.
type Decoder struct {
	names []string // the field list in force: the last header, else the configured one
	roles []int
	// Dict ids of names, for the Dict they were looked up in.
	dict *event.Dict
	ids  []int32
	has  []bool
	toks []token
	rec  *jsonrecord.Record[captured]
	key  []byte // scratch: a JSON key respelled
	// explicit: the field list came from a header line or the source's
	// configuration, and is not to be guessed from a line's length.
	explicit bool
}

type token struct {
	s   string
	off int
}

// New returns a VPC flow log decoder using the default format.
func New() decode.Decoder {
	d := &Decoder{key: make([]byte, 0, 32), toks: make([]token, 0, 32)}
	d.rec = jsonrecord.NewRecord(Format, jsonrecord.Hooks[captured]{Slot: (*captured).jsonSlot, Key: d.canonical})
	d.setFields(DefaultFields)
	return d
}

// Configure implements decode.Configurable: Options.Fields names the
// fields of the source's custom format, as AWS's format string writes them
// ("${version} ${srcaddr} …") or bare.
func (d *Decoder) Configure(o decode.Options) error {
	if len(o.Fields) == 0 {
		return nil
	}
	names := make([]string, 0, len(o.Fields))
	for _, f := range o.Fields {
		for _, s := range strings.Fields(f) {
			n, _ := canonicalName(s)
			if !nameLike(n) {
				return fmt.Errorf("vpcflow: field %q is not a flow log field name", s)
			}
			names = append(names, n)
		}
	}
	d.setFields(names)
	d.explicit = true
	return nil
}

func (d *Decoder) setFields(names []string) {
	d.names = names
	d.roles = make([]int, len(names))
	for i, n := range names {
		d.roles[i] = knownFields[n]
	}
	d.dict = nil // ids must be looked up again
}

// bindDict looks up the ids of the field list in the event's Dict, once a
// Dict and field list.
func (d *Decoder) bindDict(dict *event.Dict) {
	if dict == d.dict && len(d.ids) == len(d.names) {
		return
	}
	d.dict = dict
	d.ids = make([]int32, len(d.names))
	d.has = make([]bool, len(d.names))
	if dict == nil {
		return
	}
	for i, n := range d.names {
		d.ids[i], d.has[i] = dict.ID(n)
	}
}

// Expand implements decode.Expander: a data line or JSON record gives one
// event, a header line none.
func (d *Decoder) Expand(rec []byte, ev *event.Event, emit func(*event.Event)) error {
	return headerline.Expand(d.decode, rec, ev, emit)
}

// Decode implements decode.Decoder. A header line sets the field list and
// is refused as an event, since it holds none; callers that take headers
// use Expand.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	return headerline.Decode(d.decode, rec, ev, Format, "header line: names the fields of the lines that follow, holds no event")
}

func (d *Decoder) decode(rec []byte, ev *event.Event) (header bool, err error) {
	i := 0
	for i < len(rec) && (rec[i] == ' ' || rec[i] == '\t') {
		i++
	}
	if i < len(rec) && rec[i] == '{' {
		return false, d.decodeJSON(rec, ev)
	}
	d.split(rec)
	if len(d.toks) == 0 {
		return false, &decode.Error{Format: Format, Offset: 0, Reason: "empty record"}
	}
	if d.isHeader() {
		names := make([]string, len(d.toks))
		for i, t := range d.toks {
			names[i], _ = canonicalName(t.s)
		}
		d.setFields(names)
		d.explicit = true
		return true, nil
	}
	return false, d.decodeLine(rec, ev)
}

// split cuts a line into tokens at runs of spaces or tabs; a trailing
// carriage return is dropped.
func (d *Decoder) split(rec []byte) {
	d.toks = d.toks[:0]
	n := len(rec)
	if n > 0 && rec[n-1] == '\r' {
		n--
	}
	start := -1
	for i := 0; i <= n; i++ {
		if i < n && rec[i] != ' ' && rec[i] != '\t' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			d.toks = append(d.toks, token{view.String(rec[start:i]), start})
			start = -1
		}
	}
}

func (d *Decoder) isHeader() bool {
	if _, ok := canonicalName(d.toks[0].s); !ok {
		return false
	}
	for _, t := range d.toks {
		n, _ := canonicalName(t.s)
		if !nameLike(n) {
			return false
		}
	}
	return true
}

func (d *Decoder) decodeLine(rec []byte, ev *event.Event) error {
	if len(d.toks) != len(d.names) && !d.explicit {
		// No header and no configured list: a line that holds every
		// field of its version, in AWS's documented order (the console's
		// "all fields" custom format), names its own fields.
		if names := versionFields(d.toks[0].s, len(d.toks)); names != nil {
			d.setFields(names)
		}
	}
	if len(d.toks) != len(d.names) {
		off := len(rec)
		if len(d.toks) > len(d.names) {
			off = d.toks[len(d.names)].off
		}
		return &decode.Error{Format: Format, Offset: off, Reason: "has " + strconv.Itoa(len(d.toks)) + " fields, the field list names " +
			strconv.Itoa(len(d.names)) + " (send the header line or configure the source's fields)"}
	}
	d.bindDict(ev.Fields.Dict())
	c := captured{}
	for i, t := range d.toks {
		if t.s == "-" { // AWS writes "-" for no value
			continue
		}
		if !validValue(d.roles[i], t.s) {
			return &decode.Error{Format: Format, Offset: t.off, Field: d.names[i], Reason: "bad value " + decode.QuoteValue(t.s)}
		}
		if d.has[i] {
			ev.Fields.Set(d.ids[i], t.s)
		}
		c.set(d.roles[i], t.s)
	}
	return c.apply(ev)
}

// validValue checks the fields the mapping reads; a value that fails
// makes the line unreadable rather than a wrong event.
func validValue(role int, s string) bool {
	switch role {
	case roleSrcAddr, roleDstAddr:
		return addr.IP(s) != ""
	case roleSrcPort, roleDstPort:
		n, ok := number(s)
		return ok && n <= 65535
	case roleProtocol:
		n, ok := number(s)
		return ok && n <= 255
	case roleVersion, roleCount, roleStart, roleEnd:
		_, ok := number(s)
		return ok
	case roleAction:
		return s == "ACCEPT" || s == "REJECT"
	case roleLogStatus:
		return s == "OK" || s == "NODATA" || s == "SKIPDATA"
	}
	return true
}

func number(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}
