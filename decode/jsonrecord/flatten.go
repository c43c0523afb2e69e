package jsonrecord

import (
	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// Leaf receives one scalar (or null) of a flattened JSON document under its
// dotted name. name is the Flattener's scratch buffer, valid only during the
// call. The leaf decides whether it wants the value and only then reads it
// with Flattener.Scalar: fastjson unescapes a string when it is first read,
// and most strings of a record are not wanted by a closed Dict.
type Leaf func(name []byte, v *fastjson.Value)

// Flattener walks parsed JSON and hands every scalar to a Leaf under a
// dotted name: {"a":{"b":1}} gives "a.b" = "1". Arrays give one Leaf call
// per element under the same name, so a field with several values is set
// several times. Strings come unescaped; numbers as their JSON text
// (1.50 stays "1.50"); true and false as "true" and "false". null is
// skipped, as are empty objects and arrays: Sigma's `field: null` means the
// field is absent, and that is what a JSON null says too.
//
// Values are views into the fastjson parser's buffer (strings) or into the
// Flattener's own buffer (numbers), not copies: the caller must consume the
// event before parsing the next record. A Flattener reuses its buffers and
// does not allocate in steady state. It is not safe for concurrent use.
type Flattener struct {
	leaf Leaf
	path []byte
	nums []byte
}

// NewFlattener returns a Flattener that feeds leaf.
func NewFlattener(leaf Leaf) *Flattener {
	return &Flattener{leaf: leaf, path: make([]byte, 0, 256), nums: make([]byte, 0, 1024)}
}

// Reset forgets the number texts of the previous record. Call it once per
// record, before the first Walk or Scalar.
func (f *Flattener) Reset() { f.nums = f.nums[:0] }

// Walk flattens v under the dotted name prefix (empty for a top-level
// object, whose keys then become the names).
func (f *Flattener) Walk(prefix []byte, v *fastjson.Value) {
	f.path = append(f.path[:0], prefix...)
	f.walk(v)
}

// walk hands v's scalars to the leaf. GetObject and GetArray test the type
// without unescaping a string, as Type would. A scalar member or element
// goes to the leaf at once, not through another walk: most values are
// scalars, and the call saved adds up over a record.
func (f *Flattener) walk(v *fastjson.Value) {
	if o := v.GetObject(); o != nil {
		n := len(f.path)
		o.Visit(func(k []byte, child *fastjson.Value) {
			f.path = f.path[:n]
			if n > 0 {
				f.path = append(f.path, '.')
			}
			f.path = append(f.path, k...)
			if child.GetObject() != nil || child.GetArray() != nil {
				f.walk(child)
			} else {
				f.leaf(f.path, child)
			}
		})
		f.path = f.path[:n]
		return
	}
	if a := v.GetArray(); a != nil {
		for _, e := range a {
			if e.GetObject() != nil || e.GetArray() != nil {
				f.walk(e)
			} else {
				f.leaf(f.path, e)
			}
		}
		return
	}
	f.leaf(f.path, v)
}

// Scalar returns the text of a string, number or boolean value; ok is false
// for null, objects and arrays. The text stays valid until the Flattener's
// next Reset or the parser's next Parse, whichever comes first.
func (f *Flattener) Scalar(v *fastjson.Value) (s string, ok bool) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return view.String(b), true
	case fastjson.TypeNumber:
		// fastjson keeps the number's text but only hands it out through
		// MarshalTo; collect it in a per-record buffer. A buffer that grows
		// leaves earlier strings pointing at the old array, which stays
		// alive and unchanged, so growing is safe.
		start := len(f.nums)
		f.nums = v.MarshalTo(f.nums)
		return view.String(f.nums[start:]), true
	case fastjson.TypeTrue:
		return "true", true
	case fastjson.TypeFalse:
		return "false", true
	}
	return "", false
}
