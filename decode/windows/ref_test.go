package windows

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/jsonrecord"
	"github.com/vigil-sec/vigil/event"
)

// refDecoder is the decoder as it was before decode/internal/jsonscan: it
// parses the record into a fastjson tree and visits it. It is kept as the
// reference the differential tests hold Decoder to; only its names changed.
// It shares with Decoder what did not change: captured and its finish, the
// rename tables, keyCache and xmlText.
type refDecoder struct {
	p    fastjson.Parser
	flat *jsonrecord.Flattener
	ev   *event.Event
	c    captured

	name []byte // scratch for composed names

	dataText []byte
	p2       fastjson.Parser

	keys keyCache
}

func newRef() *refDecoder {
	d := &refDecoder{name: make([]byte, 0, 64)}
	d.flat = jsonrecord.NewFlattener(d.emit)
	return d
}

func (d *refDecoder) Decode(rec []byte, ev *event.Event) error {
	v, err := d.p.ParseBytes(rec)
	if err != nil {
		return jsonrecord.SyntaxError(Format, rec, err)
	}
	o := v.GetObject()
	if o == nil {
		return jsonrecord.ObjectError(Format, rec, v)
	}
	d.ev, d.c = ev, captured{}
	d.flat.Reset()
	d.keys.bind(ev.Fields.Dict())
	switch refDetect(o) {
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
	return d.c.finish(ev, nil)
}

func refDetect(o *fastjson.Object) shape {
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

func (d *refDecoder) emit(name []byte, v *fastjson.Value) {
	var k keyInfo
	if dict := d.ev.Fields.Dict(); dict != nil {
		k = *d.keys.info(dict, name)
	}
	p := d.c.slot(name)
	if p != nil && *p != "" {
		p = nil
	}
	if !k.stored() && p == nil {
		return
	}
	s, ok := d.flat.Scalar(v)
	if !ok {
		return
	}
	if k.keep {
		d.ev.Fields.Set(k.id, s)
	}
	for _, id := range k.also[:k.nAlso] {
		d.ev.Fields.Set(id, s)
	}
	if p != nil {
		*p = s
	}
}

func (d *refDecoder) emitValue(name []byte, v *fastjson.Value) {
	if v.GetObject() == nil && v.GetArray() == nil {
		d.emit(name, v)
		return
	}
	d.flat.Walk(name, v)
}

func (d *refDecoder) evtxDump(e *fastjson.Value) {
	e.GetObject().Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "System":
			d.system(v)
		case "EventData":
			d.eventData(v)
		case "UserData":
			if uo := v.GetObject(); uo != nil {
				uo.Visit(func(_ []byte, inner *fastjson.Value) { d.eventData(inner) })
			}
		case "#attributes":
		default:
			d.emitValue(k, v)
		}
	})
}

func (d *refDecoder) system(v *fastjson.Value) {
	o := v.GetObject()
	if o == nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		eo := v.GetObject()
		if eo == nil {
			d.emitValue(k, v)
			return
		}
		eo.Visit(func(ck []byte, cv *fastjson.Value) {
			switch string(ck) {
			case "#text":
				d.emitValue(k, cv)
			case "#attributes":
				ao := cv.GetObject()
				if ao == nil {
					return
				}
				ao.Visit(func(ak []byte, av *fastjson.Value) {
					if string(k) == "TimeCreated" && string(ak) == "SystemTime" {
						d.emitValue(k, av)
						return
					}
					d.name = append(append(append(d.name[:0], k...), '_'), ak...)
					d.emitValue(d.name, av)
				})
			default:
				d.name = append(append(append(d.name[:0], k...), '_'), ck...)
				d.emitValue(d.name, cv)
			}
		})
	})
}

func (d *refDecoder) eventData(v *fastjson.Value) {
	o := v.GetObject()
	if o == nil {
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) == "#attributes" || string(k) == "xml_name" {
			return
		}
		d.dataValue(k, v)
	})
}

func (d *refDecoder) dataValue(name []byte, v *fastjson.Value) {
	if a := v.GetArray(); a != nil {
		for _, e := range a {
			d.dataValue(name, e)
		}
		return
	}
	o := v.GetObject()
	if o == nil {
		d.emitValue(name, v)
		return
	}
	text := o.Get("#text")
	if nb := v.GetStringBytes("#attributes", "Name"); nb != nil {
		d.name = append(d.name[:0], nb...)
		if text != nil {
			d.emitValue(d.name, text)
		}
		return
	}
	if text != nil {
		d.emitValue(name, text)
		return
	}
	d.emitValue(name, v)
}

func (d *refDecoder) winlogbeat(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) != "winlog" {
			d.emitValue(k, v)
			return
		}
		v.GetObject().Visit(func(wk []byte, wv *fastjson.Value) {
			if n, ok := winlogbeatNames[string(wk)]; ok {
				d.name = append(d.name[:0], n...)
				d.emitValue(d.name, wv)
				return
			}
			switch string(wk) {
			case "event_data", "user_data":
				d.eventData(wv)
			case "process":
				if pid := wv.Get("pid"); pid != nil {
					d.name = append(d.name[:0], "Execution_ProcessID"...)
					d.emitValue(d.name, pid)
				}
				if tid := wv.Get("thread", "id"); tid != nil {
					d.name = append(d.name[:0], "Execution_ThreadID"...)
					d.emitValue(d.name, tid)
				}
			case "user":
				if sid := wv.Get("identifier"); sid != nil {
					d.name = append(d.name[:0], "Security_UserID"...)
					d.emitValue(d.name, sid)
				}
			default:
				d.name = append(append(d.name[:0], "winlog."...), wk...)
				d.emitValue(d.name, wv)
			}
		})
	})
}

func (d *refDecoder) nxlog(o *fastjson.Object) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if n, ok := nxlogNames[string(k)]; ok {
			d.name = append(d.name[:0], n...)
			d.emitValue(d.name, v)
			return
		}
		switch string(k) {
		case "Opcode":
			return
		case "EventType":
			if b, err := v.StringBytes(); err == nil && nxlogSeverities[string(b)] {
				if d.c.nxlogType == "" {
					d.c.nxlogType, _ = d.flat.Scalar(v)
				}
				return
			}
		}
		d.emitValue(k, v)
	})
}

func (d *refDecoder) eventDataText(b []byte) {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 {
		return
	}
	switch t[0] {
	case '{':
		v, err := d.p2.ParseBytes(t)
		if err != nil {
			return
		}
		if o := v.GetObject(); o != nil {
			o.Visit(func(k []byte, v *fastjson.Value) {
				if !d.hasField(k) {
					d.emitValue(k, v)
				}
			})
		}
	case '<':
		d.eventDataXML(t)
	}
}

func (d *refDecoder) hasField(name []byte) bool {
	if p := d.c.slot(name); p != nil && *p != "" {
		return true
	}
	if dict := d.ev.Fields.Dict(); dict != nil {
		if k := d.keys.info(dict, name); k.keep {
			return d.ev.Fields.Has(k.id)
		}
	}
	return false
}

func (d *refDecoder) eventDataXML(b []byte) {
	open := []byte(`<Data Name="`)
	for {
		i := bytes.Index(b, open)
		if i < 0 {
			return
		}
		b = b[i+len(open):]
		q := bytes.IndexByte(b, '"')
		if q < 0 {
			return
		}
		name := b[:q]
		b = b[q+1:]
		gt := bytes.IndexByte(b, '>')
		if gt < 0 {
			return
		}
		selfClosing := gt > 0 && b[gt-1] == '/'
		b = b[gt+1:]
		if selfClosing || len(name) == 0 {
			continue
		}
		end := bytes.Index(b, []byte("</Data>"))
		if end < 0 {
			return
		}
		val := b[:end]
		b = b[end+len("</Data>"):]
		if len(val) == 0 || d.hasField(name) {
			continue
		}
		d.emitString(name, xmlText(val))
	}
}

func (d *refDecoder) emitString(name []byte, s string) {
	if dict := d.ev.Fields.Dict(); dict != nil {
		k := d.keys.info(dict, name)
		if k.keep {
			d.ev.Fields.Set(k.id, s)
		}
		for _, id := range k.also[:k.nAlso] {
			d.ev.Fields.Set(id, s)
		}
	}
	if p := d.c.slot(name); p != nil && *p == "" {
		*p = s
	}
}

// refDecoder satisfies decode.Decoder as Decoder does.
var _ decode.Decoder = (*refDecoder)(nil)
