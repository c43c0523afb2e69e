// Package windows decodes Windows event log records exported as JSON, in the
// common shapes (flat Sigma names, evtx_dump, Winlogbeat, NXLog), into the
// field names Sigma rules use: EventID, Channel, Provider_Name, Computer and
// the EventData fields by their own names (Image, CommandLine, …).
package windows

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "windows"

func init() { decode.Register(Format, New) }

// Decoder decodes Windows events. The values it stores alias the record
// and the decoder's buffers, and are valid until the next Decode.
type Decoder struct {
	rec jsonscan.Scanner // the record
	// text reads EventData written as a JSON string (Log Analytics'
	// WindowsEvent table).
	text jsonscan.Scanner
	sc   *jsonscan.Scanner // the one values are read from: rec or text

	ev *event.Event
	c  captured

	name    []byte   // scratch for composed names
	path    []byte   // dotted names while flattening
	members []member // the members of the objects being walked, a stack

	keys     keyCache
	services serviceMemo
}

// New returns a Windows event decoder.
func New() decode.Decoder {
	return &Decoder{name: make([]byte, 0, 64), path: make([]byte, 0, 256)}
}

type shape int

const (
	shapeFlat shape = iota
	shapeNXLog
	shapeEvtxDump
	shapeWinlogbeat
)

// Decode implements decode.Decoder.
//
// Most records are flat, and are read in one pass that stores fields as it
// goes. A top-level key that may mean another shape (shapeKey) stops that
// pass: the record is then read again, into its top-level members first,
// and the members tell the shape.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	d.sc = &d.rec
	d.rec.Reset(rec)
	if d.rec.Peek() != jsonscan.Object {
		return d.notObject()
	}
	d.ev, d.c = ev, captured{}
	defer func() { d.ev, d.members = nil, d.members[:0] }()
	d.keys.bind(ev.Fields.Dict())
	if d.flat() {
		if err := d.rec.End(); err != nil {
			return syntaxError(err)
		}
		return d.c.finish(ev, &d.services)
	}

	// Decode's caller hands over a Reset event: what the flat pass stored
	// goes, and the record is read again.
	ev.Fields.Reset()
	d.c = captured{}
	if d.soleEvent(rec) {
		if err := d.rec.End(); err != nil {
			return syntaxError(err)
		}
		return d.c.finish(ev, &d.services)
	}
	ev.Fields.Reset()
	d.c = captured{}
	d.rec.Reset(rec)
	top := d.index(d.members[:0], jsonscan.Value{})
	if err := d.rec.End(); err != nil {
		return syntaxError(err)
	}
	d.members = top
	switch shapeOf(top) {
	case shapeEvtxDump:
		if e, ok := get(top, "Event"); ok && e.Kind == jsonscan.Object {
			d.evtxDump(e)
		}
	case shapeWinlogbeat:
		d.winlogbeat(top)
	case shapeNXLog:
		d.nxlog(top)
	default:
		d.flatMembers(top)
	}
	return d.c.finish(ev, &d.services)
}

// soleEvent reads a record whose only member is an "Event" object, as an
// evtx_dump record is, in one pass: the Event is walked where it stands
// rather than the record indexed first to learn its shape. It returns
// false, having stored part of the record, if another member follows.
func (d *Decoder) soleEvent(rec []byte) bool {
	sc := &d.rec
	sc.Reset(rec)
	sc.Object()
	if _, ok := sc.KeyIf([]byte("Event")); !ok || sc.Peek() != jsonscan.Object {
		return false
	}
	d.evtxDumpAt()
	_, more := sc.Key()
	return !more
}

// notObject is the error for a record that is not a JSON object: a syntax
// error if it is not JSON either.
func (d *Decoder) notObject() error {
	v := d.rec.Value()
	if err := d.rec.End(); err != nil {
		return syntaxError(err)
	}
	return &decode.Error{Format: Format, Offset: v.Start, Reason: "record is a JSON " + v.Kind.String() + ", want an object"}
}

func syntaxError(err error) error {
	var se *jsonscan.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", Format, err)
	}
	return &decode.Error{Format: Format, Offset: se.Offset, Reason: "invalid JSON: " + se.Msg}
}

// shapeKey reports whether a top-level key may make a record another shape
// than flat (see shapeOf).
func shapeKey(k []byte) bool {
	switch string(k) {
	case "Event", "winlog", "SourceModuleType", "EventReceivedTime", "Hostname", "SourceName":
		return true
	}
	return false
}

// shapeOf tells the shapes apart by the top-level keys. A Winlogbeat or
// evtx_dump object wins over NXLog's keys, and the last of them wins.
func shapeOf(top []member) shape {
	s, host, source := shapeFlat, false, false
	for i := range top {
		m := &top[i]
		switch string(m.key) {
		case "Event":
			if m.val.Kind == jsonscan.Object {
				s = shapeEvtxDump
			}
		case "winlog":
			if m.val.Kind == jsonscan.Object {
				s = shapeWinlogbeat
			}
		case "SourceModuleType", "EventReceivedTime":
			if s == shapeFlat {
				s = shapeNXLog
			}
		case "Hostname":
			host = true
		case "SourceName":
			source = true
		}
	}
	if s == shapeFlat && host && source {
		s = shapeNXLog
	}
	return s
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
