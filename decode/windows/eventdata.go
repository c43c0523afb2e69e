package windows

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
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
		d.eventDataJSON(t)
	case '<':
		d.eventDataXML(t)
	}
}

// eventDataJSON reads EventData written as a JSON object. Text that is not
// JSON is passed over whole: the record itself is fine.
func (d *Decoder) eventDataJSON(t []byte) {
	d.text.Reset(t)
	mark := len(d.members)
	d.sc = &d.text
	d.members = d.index(d.members, jsonscan.Value{})
	if d.text.End() == nil {
		for _, m := range d.members[mark:] {
			if !d.hasField(m.key) {
				d.emitValue(m.key, m.val)
			}
		}
	}
	d.sc = &d.rec
	d.members = d.members[:mark]
}

// hasField reports whether the event already has a field of this name (of
// the ones the Dict keeps) or a captured value for it.
func (d *Decoder) hasField(name []byte) bool {
	if p := d.c.slot(name); p != nil && *p != "" {
		return true
	}
	k := d.keys.info(d.ev.Fields.Dict(), name)
	return k.keep && d.ev.Fields.Has(k.id)
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
	d.store(d.keys.info(d.ev.Fields.Dict(), name), d.c.unfilled(captureIndex(name)), s)
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
