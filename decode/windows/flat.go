package windows

import (
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
)

// flat reads a flat record, every member by its own name, straight from
// the scanner: one pass that checks the record and stores its fields. A
// value that is neither stored nor captured is checked and passed over; a
// string that is is unescaped in the same pass. It returns false, having
// stored part of the record, at the first key that may mean another shape.
func (d *Decoder) flat() bool {
	sc := &d.rec
	var text jsonscan.Value
	sc.Object()
	for n := 0; ; n++ {
		k, info, ok := d.flatKey(n)
		if !ok {
			break
		}
		if info.shaped {
			return false
		}
		if kind := sc.Peek(); kind == jsonscan.Object || kind == jsonscan.Array {
			d.emitValue(k, sc.Value())
			continue
		}
		p := d.c.unfilled(info.capture)
		eventData := string(k) == "EventData"
		if !info.stored() && p == nil && !eventData {
			sc.Value()
			continue
		}
		v, b := sc.Read()
		if v.Kind == jsonscan.String && eventData {
			text = v
		}
		if v.Kind != jsonscan.Null && v.Kind != jsonscan.Invalid {
			d.store(info, p, bytesString(b))
		}
	}
	if sc.Err() == nil && text.Kind == jsonscan.String {
		d.eventDataText(d.rec.Text(text))
	}
	return true // End reports a syntax error
}

// flatKey reads the key at position n of a flat record and returns it with
// its keyInfo. The key the last record had there is tried first, by a
// compare. A key whose value is an object or array is not looked up: only
// the dotted names below it are stored (an open Dict would intern it).
func (d *Decoder) flatKey(n int) ([]byte, *keyInfo, bool) {
	sc := &d.rec
	if name, info, known := d.keys.expected(n); known {
		if k, ok := sc.KeyIf(name); ok {
			return k, info, true
		}
	}
	k, ok := sc.Key()
	if !ok {
		return nil, nil, false
	}
	if kind := sc.Peek(); kind == jsonscan.Object || kind == jsonscan.Array {
		d.keys.learn(n, -1, k)
		d.keys.spare = keyInfo{capture: capNone, shaped: shapeKey(k)}
		return k, &d.keys.spare, true
	}
	info, slot := d.keys.infoAt(d.ev.Fields.Dict(), k)
	d.keys.learn(n, slot, k)
	return k, info, true
}

// flatMembers reads a flat record from its members, as flat does from the
// scanner.
func (d *Decoder) flatMembers(top []member) {
	var text jsonscan.Value
	for i := range top {
		m := &top[i]
		if m.val.Kind == jsonscan.String && string(m.key) == "EventData" {
			text = m.val
		}
		d.emitValue(m.key, m.val)
	}
	if text.Kind == jsonscan.String {
		d.eventDataText(d.rec.Text(text))
	}
}
