package windows

import (
	"github.com/vigil-sec/vigil/decode/internal/jsonscan"
)

// member is one member of an object: its key, unescaped, and where its
// value is. Walking a shape needs members by name (a Data element's
// "#text" and "#attributes" in either order), so an object is read into
// its members first and its values are read, or not, after.
type member struct {
	key []byte
	val jsonscan.Value
}

// index appends the members of the object at v to ms; the zero v is the
// object at the scanner, already checked to be one.
func (d *Decoder) index(ms []member, v jsonscan.Value) []member {
	sc := d.sc
	if v.Kind != jsonscan.Invalid {
		sc.Seek(v.Start)
	}
	sc.Object()
	for k, v, ok := sc.Member(); ok; k, v, ok = sc.Member() {
		ms = append(ms, member{key: k, val: v})
	}
	return ms
}

// children returns the members of the object v, on top of the members
// stack; drop them with d.members = d.members[:mark] when done.
func (d *Decoder) children(v jsonscan.Value) (ms []member, mark int) {
	mark = len(d.members)
	d.members = d.index(d.members, v)
	return d.members[mark:len(d.members):len(d.members)], mark
}

// get returns the value of the first member named key, as fastjson's Get
// did.
func get(ms []member, key string) (jsonscan.Value, bool) {
	for _, m := range ms {
		if string(m.key) == key {
			return m.val, true
		}
	}
	return jsonscan.Value{}, false
}

// emit stores one scalar if the Dict wants it and captures it if the
// mapping needs it. Other values are never read, so their strings are never
// unescaped.
func (d *Decoder) emit(name []byte, v jsonscan.Value) {
	d.emitAs(d.keys.info(d.ev.Fields.Dict(), name), v)
}

// emitAs is emit for a name whose keyInfo is known.
func (d *Decoder) emitAs(k *keyInfo, v jsonscan.Value) {
	p := d.c.unfilled(k.capture)
	if !k.stored() && p == nil || v.Kind == jsonscan.Null {
		return
	}
	d.store(k, p, bytesString(d.sc.Text(v)))
}

// store sets a field the Dict keeps and fills the captured slot p (nil for
// none).
func (d *Decoder) store(k *keyInfo, p *string, s string) {
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

// emitValue stores a value under name: a scalar as it is, an array as
// several values, an object flattened with dotted names below name. null,
// and empty objects and arrays, store nothing: Sigma's `field: null` means
// the field is absent, and that is what a JSON null says too.
func (d *Decoder) emitValue(name []byte, v jsonscan.Value) {
	if v.Kind != jsonscan.Object && v.Kind != jsonscan.Array {
		d.emit(name, v)
		return
	}
	d.path = append(d.path[:0], name...)
	d.sc.Seek(v.Start)
	d.flatten()
}

// flatten walks the value at the scanner, storing each scalar under d.path
// and the dotted path below it: {"a":{"b":1}} gives "a.b" = "1".
func (d *Decoder) flatten() {
	sc := d.sc
	switch sc.Peek() {
	case jsonscan.Object:
		sc.Object()
		n := len(d.path)
		for k, ok := sc.Key(); ok; k, ok = sc.Key() {
			d.path = d.path[:n]
			if n > 0 {
				d.path = append(d.path, '.')
			}
			d.path = append(d.path, k...)
			d.flatten()
		}
		d.path = d.path[:n]
	case jsonscan.Array:
		sc.Array()
		for sc.More() {
			d.flatten()
		}
	default:
		d.emit(d.path, sc.Value())
	}
}
