package jsonrecord

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/event"
)

// Record is what the decoders of one JSON object a record (cloudtrail,
// awswaf, nsgflow …) share: it parses the record, refuses anything but an
// object, flattens it, sets every leaf the event's Dict names as a field,
// and captures in C the leaves the decoder's mapping reads, by its Hooks.
// The decoder keeps only what is its format's own: which leaves it reads
// and how they map to the common fields.
//
// Values alias the parser's buffers and are valid until the next record.
// A Record is not safe for concurrent use.
type Record[C any] struct {
	// C is what the hooks captured of the current record; Decode and Open
	// zero it once the record parses.
	C C

	format  string
	hooks   Hooks[C]
	watched *string // Hooks.Watched's slot
	kept    []Kept  // with Hooks.Keep
	key     []byte  // scratch: a key respelled
	p       fastjson.Parser
	flat    *Flattener
	ev      *event.Event     // the event being filled; nil between records
	obj     *fastjson.Object // the record last opened, for Require's errors
}

// Hooks are what a decoder adds to a Record. Only Slot is required.
type Hooks[C any] struct {
	// Slot returns where in c the decoder keeps the value of the leaf
	// name for its mapping, nil for a leaf it does not read. A slot that
	// holds a value already keeps it: of an array, the first value counts.
	Slot func(c *C, name []byte) *string

	// Spelling, if set, gives top-level keys the schema's spelling;
	// with LowerOnly, only keys in lower case: one with a capital is taken
	// to be spelled as its schema spells it, or not to be the schema's.
	Spelling  *Spelling
	LowerOnly bool
	// Key, if set (and Spelling not), respells top-level keys by the
	// decoder's own rule. It returns k itself or a buffer of its own.
	Key func(k []byte) []byte

	// Unprefix, if set, gives a leaf whose name starts with it a second
	// name, the rest of its name, set too when the Dict names it (signin's
	// Graph names of the fields under properties).
	Unprefix []byte

	// Filled, if set with Watched, is called each time the slot Watched
	// returns is filled, to act on the value at once (awswaf pairs each
	// request header's value with the name before it).
	Watched func(c *C) *string
	Filled  func(c *C, ev *event.Event, name []byte, s string)

	// Keep, if set, keeps the fields the Dict names (Kept) rather than
	// setting them in the event: nsgflow gives a record's fields to each of
	// its tuples' events.
	Keep bool
}

// Kept is a field Hooks.Keep kept: its Dict id and value.
type Kept struct {
	ID    int32
	Value string
}

// NewRecord returns a Record whose errors name format.
func NewRecord[C any](format string, h Hooks[C]) *Record[C] {
	r := &Record[C]{format: format, hooks: h, key: make([]byte, 0, 32)}
	if h.Keep {
		r.kept = make([]Kept, 0, 16)
	}
	if h.Watched != nil && h.Filled != nil {
		r.watched = h.Watched(&r.C)
	}
	if len(h.Unprefix) > 0 {
		r.flat = NewFlattener(r.leafMore)
	} else {
		r.flat = NewFlattener(r.leaf)
	}
	return r
}

// Decode fills ev from rec: the fields, and C through the hooks. A record
// that is not a JSON object fails with a *decode.Error.
func (r *Record[C]) Decode(rec []byte, ev *event.Event) error {
	o, err := r.Open(rec, ev)
	if err != nil {
		return err
	}
	// One loop a way of spelling keys, so that the common cases call
	// nothing indirectly.
	switch sp := r.hooks.Spelling; {
	case sp != nil && r.hooks.LowerOnly:
		o.Visit(func(k []byte, v *fastjson.Value) {
			if !hasUpper(k) {
				k = sp.find(k, k, &r.key)
			}
			r.Walk(k, v)
		})
	case sp != nil:
		o.Visit(func(k []byte, v *fastjson.Value) { r.Walk(sp.respell(k, &r.key), v) })
	case r.hooks.Key != nil:
		o.Visit(func(k []byte, v *fastjson.Value) { r.Walk(r.hooks.Key(k), v) })
	default:
		o.Visit(r.Walk)
	}
	r.Close()
	return nil
}

// Open parses rec for a decoder that walks the object itself (Walk) and
// then calls Close. A record that is not a JSON object fails with a
// *decode.Error.
func (r *Record[C]) Open(rec []byte, ev *event.Event) (*fastjson.Object, error) {
	r.obj = nil
	v, err := r.p.ParseBytes(rec)
	if err != nil {
		return nil, SyntaxError(r.format, rec, err)
	}
	o := v.GetObject()
	if o == nil {
		return nil, ObjectError(r.format, rec, v)
	}
	var zero C
	r.C, r.ev, r.kept, r.obj = zero, ev, r.kept[:0], o
	r.flat.Reset()
	return o, nil
}

// Kept returns the fields the record's leaves kept, with Hooks.Keep, in
// record order. They alias the parser's buffers: valid until the next
// record.
func (r *Record[C]) Kept() []Kept { return r.kept }

// Walk flattens v under the dotted name prefix, between Open and Close.
// A scalar goes to the leaf under prefix at once, without a walk or a copy
// of prefix: most of a record's members are scalars.
func (r *Record[C]) Walk(prefix []byte, v *fastjson.Value) {
	if v.GetObject() != nil || v.GetArray() != nil {
		r.flat.Walk(prefix, v)
		return
	}
	r.flat.leaf(prefix, v)
}

// Close ends the record Open began: the Record lets go of the event.
func (r *Record[C]) Close() { r.ev = nil }

func (r *Record[C]) leaf(name []byte, v *fastjson.Value) {
	// The slot first: fewer values live across the indirect call.
	p := r.hooks.Slot(&r.C, name)
	if p != nil && *p != "" {
		p = nil
	}
	var id int32
	keep := false
	if dict := r.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
	}
	if !keep && p == nil {
		return // not read: fastjson unescapes a string only when asked
	}
	s, ok := r.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		r.set(id, s)
	}
	if p != nil {
		r.fill(p, name, s)
	}
}

// leafMore is leaf for Records with an Unprefix hook, kept apart so that
// the others do not test for it leaf after leaf.
func (r *Record[C]) leafMore(name []byte, v *fastjson.Value) {
	h := &r.hooks
	p := h.Slot(&r.C, name)
	if p != nil && *p != "" {
		p = nil
	}
	var id, aid int32
	keep, akeep := false, false
	if dict := r.ev.Fields.Dict(); dict != nil {
		id, keep = dict.IDBytes(name)
		if len(h.Unprefix) > 0 {
			if a, ok := bytes.CutPrefix(name, h.Unprefix); ok {
				aid, akeep = dict.IDBytes(a)
			}
		}
	}
	if !keep && !akeep && p == nil {
		return
	}
	s, ok := r.flat.Scalar(v)
	if !ok {
		return
	}
	if keep {
		r.set(id, s)
	}
	if akeep {
		r.set(aid, s)
	}
	if p != nil {
		r.fill(p, name, s)
	}
}

func (r *Record[C]) fill(p *string, name []byte, s string) {
	*p = s
	if p == r.watched {
		r.hooks.Filled(&r.C, r.ev, name, s)
	}
}

// set stores the field id, in the event or, with Hooks.Keep, in Kept.
func (r *Record[C]) set(id int32, s string) {
	if r.hooks.Keep {
		r.kept = append(r.kept, Kept{id, s})
		return
	}
	r.ev.Fields.Set(id, s)
}

func hasUpper(k []byte) bool {
	for _, c := range k {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}
