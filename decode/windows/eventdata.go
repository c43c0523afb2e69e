package windows

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"
)

// eventDataText reads an EventData written as a string inside the JSON
// record, as Log Analytics exports Windows events: a JSON object (the
// WindowsEvent table: {"Image":"…","CommandLine":"…"}) or the XML element
// (the SecurityEvent table: <EventData><Data Name="X">v</Data>…). Its
// fields are given by their own names, as an evtx_dump record's are; a
// name the record already holds at the top (SecurityEvent repeats some
// as columns) keeps that value alone. Anything else stays the one string
// field EventData.
func (d *Decoder) eventDataText(b []byte) {
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

// hasField reports whether the event already has a field of this name (of
// the ones the Dict keeps) or a captured value for it.
func (d *Decoder) hasField(name []byte) bool {
	if p := d.c.slot(name); p != nil && *p != "" {
		return true
	}
	if dict := d.ev.Fields.Dict(); dict != nil {
		if id, ok := d.keys.id(dict, name); ok {
			return d.ev.Fields.Has(id)
		}
	}
	return false
}

// eventDataXML reads the <Data Name="X">v</Data> elements of an EventData
// element; unnamed Data and other elements are passed over.
func (d *Decoder) eventDataXML(b []byte) {
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

// emitString stores a value read from text (not JSON) under name, as emit
// does for JSON values.
func (d *Decoder) emitString(name []byte, s string) {
	if dict := d.ev.Fields.Dict(); dict != nil {
		if id, ok := d.keys.id(dict, name); ok {
			d.ev.Fields.Set(id, s)
		}
	}
	if p := d.c.slot(name); p != nil && *p == "" {
		*p = s
	}
}

var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

// xmlText is an element's text with XML's predefined entities replaced;
// it aliases b when there are none.
func xmlText(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return bytesString(b)
	}
	return xmlEntities.Replace(string(b))
}
