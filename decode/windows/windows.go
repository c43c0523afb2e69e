// Package windows decodes Windows event log records exported as JSON, in the
// common shapes (flat Sigma names, evtx_dump, Winlogbeat, NXLog), into the
// field names Sigma rules use: EventID, Channel, Provider_Name, Computer and
// the EventData fields by their own names (Image, CommandLine, …).
package windows

import (
	"strconv"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	jsondec "github.com/vigil-sec/vigil/decode/json"
	"github.com/vigil-sec/vigil/event"
)

// Format is the name the decoder is registered under.
const Format = "windows"

func init() { decode.Register(Format, New) }

// Decoder decodes Windows events. The values it stores alias its parse
// buffers and are valid until the next Decode.
type Decoder struct {
	p    fastjson.Parser
	flat *jsondec.Flattener
	ev   *event.Event
	c    captured

	name   []byte   // scratch for composed names
	pidBuf [20]byte // decimal form of a hex process id

	// EventData written as a string (Log Analytics' SecurityEvent and
	// WindowsEvent tables): read once the record's own keys are in.
	dataText []byte
	p2       fastjson.Parser

	keys keyCache
}

// New returns a Windows event decoder.
func New() decode.Decoder {
	d := &Decoder{name: make([]byte, 0, 64)}
	d.flat = jsondec.NewFlattener(d.emit)
	return d
}

type shape int

const (
	shapeFlat shape = iota
	shapeNXLog
	shapeEvtxDump
	shapeWinlogbeat
)

// Decode implements decode.Decoder.
func (d *Decoder) Decode(rec []byte, ev *event.Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return jsondec.SyntaxError(Format, rec, err)
	}
	o := v.GetObject()
	if o == nil {
		return jsondec.ObjectError(Format, rec, v)
	}
	d.ev, d.c = ev, captured{}
	d.flat.Reset()
	d.keys.bind(ev.Fields.Dict())
	switch detect(o) {
	case shapeEvtxDump:
		d.evtxDump(o.Get("Event"))
	case shapeWinlogbeat:
		d.winlogbeat(o)
	case shapeNXLog:
		d.nxlog(o)
	default:
		d.dataText = nil
		o.Visit(func(k []byte, v *fastjson.Value) {
			if string(k) == "EventData" && v.Type() == fastjson.TypeString {
				d.dataText = v.GetStringBytes()
			}
			d.emitValue(k, v)
		})
		if d.dataText != nil {
			d.eventDataText(d.dataText)
		}
	}
	d.ev = nil
	return d.finish(ev)
}

// detect tells the shapes apart by their keys, in one pass.
func detect(o *fastjson.Object) shape {
	s, host, source := shapeFlat, false, false
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "Event":
			if v.GetObject() != nil {
				s = shapeEvtxDump
			}
		case "winlog":
			if v.GetObject() != nil {
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
	})
	if s == shapeFlat && host && source {
		s = shapeNXLog
	}
	return s
}

// emit stores one field if the Dict wants it and captures it if the
// mapping needs it. Other values are never read, so their strings are never
// unescaped.
func (d *Decoder) emit(name []byte, v *fastjson.Value) {
	var id int32
	keep := false
	if dict := d.ev.Fields.Dict(); dict != nil {
		id, keep = d.keys.id(dict, name)
	}
	p := d.c.slot(name)
	if p != nil && *p != "" {
		p = nil // first value wins
	}
	if !keep && p == nil {
		return
	}
	s, ok := d.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		d.ev.Fields.Set(id, s)
	}
	if p != nil {
		*p = s
	}
}

// emitValue stores a value under name: a scalar as it is, an array as
// several values, an object flattened with dotted names below name.
func (d *Decoder) emitValue(name []byte, v *fastjson.Value) {
	if v.GetObject() == nil && v.GetArray() == nil {
		d.emit(name, v) // most values: skip the Flattener's path copy
		return
	}
	d.flat.Walk(name, v)
}

// finish derives Time, Logsource and Common from the captured values.
func (d *Decoder) finish(ev *event.Event) error {
	c := &d.c
	if c.eventID == "" {
		return &decode.Error{Format: Format, Offset: -1, Field: "EventID", Reason: "record has no EventID"}
	}
	id, err := strconv.Atoi(c.eventID)
	if err != nil || id < 0 {
		return &decode.Error{Format: Format, Offset: -1, Field: "EventID", Reason: "EventID " + strconv.Quote(c.eventID) + " is not a number"}
	}
	// The first stamp present decides: a present but unreadable one is an
	// error rather than a silent fall back to the receive time.
	for _, ts := range [...]struct{ name, text string }{{"TimeCreated", c.timeCreated}, {"@timestamp", c.timestamp}, {"EventTime", c.eventTime}, {"TimeGenerated", c.timeGenerated}} {
		if ts.text == "" {
			continue
		}
		t, ok := jsondec.ParseTime(ts.text)
		if !ok {
			return &decode.Error{Format: Format, Offset: -1, Field: ts.name, Reason: "unreadable time stamp " + strconv.Quote(ts.text)}
		}
		ev.Time = t
		break
	}

	service := serviceOf(c.channel)
	ev.Logsource = event.Logsource{Product: "windows", Service: service, Category: categoryOf(service, id, c.eventType)}

	// Security 4688 names the processes differently from Sysmon 1; give
	// process_creation rules written with Sysmon's names something to match.
	if service == "security" && id == 4688 {
		if c.image == "" && c.newProcessName != "" {
			ev.Fields.SetName([]byte("Image"), c.newProcessName)
		}
		if c.parentImage == "" && c.parentProcessName != "" {
			ev.Fields.SetName([]byte("ParentImage"), c.parentProcessName)
		}
	}
	d.mapCommon(ev, id, service)
	return nil
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
