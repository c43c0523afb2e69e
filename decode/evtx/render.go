package evtx

import (
	"strconv"
	"unsafe"
)

// jsonWriter renders a record's element tree as evtx_dump writes it:
//
//   - an element with neither attributes nor child elements is its text
//     (a number, boolean or string, typed as the value it holds), or null;
//   - otherwise an object: "#attributes" (attributes without a value are
//     left out), the child elements by name, "#text";
//   - a repeated child name gets _1, _2, … (Header, Header_1, …);
//   - a Data element with a Name attribute is a member of that name
//     (EventData's <Data Name="User">x</Data> is "User": "x");
//   - several Data elements without Name are one "Data" whose "#text" is
//     the array of their texts.
type jsonWriter struct {
	keys  []string         // the keys written in the objects being written, a stack
	seen  []map[string]int // per object being written: its keys when it has many, else nil
	maps  []map[string]int // the maps seen uses, by nesting level
	arena []byte           // the bytes of keys made while rendering a record
}

func (w *jsonWriter) render(p *parser, b []byte) []byte {
	w.keys, w.arena, w.seen = w.keys[:0], w.arena[:0], w.seen[:0]
	b = append(b, '{')
	b = w.members(p, b, 0, false)
	return append(b, '}')
}

// element appends element n's value.
func (w *jsonWriter) element(p *parser, b []byte, n int32) []byte {
	nd := &p.nodes[n]
	hasAttrs := false
	for i := nd.firstAttr; i < nd.firstAttr+nd.nAttrs; i++ {
		if p.attrs[i].text >= 0 {
			hasAttrs = true
			break
		}
	}
	if !hasAttrs && nd.firstChild < 0 {
		return w.text(p, b, nd.text)
	}
	b = append(b, '{')
	comma := false
	if hasAttrs {
		b = append(b, `"#attributes":{`...)
		first := true
		for i := nd.firstAttr; i < nd.firstAttr+nd.nAttrs; i++ {
			a := &p.attrs[i]
			if a.text < 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendKey(b, a.name)
			b = w.text(p, b, a.text)
		}
		b = append(b, '}')
		comma = true
	}
	if nd.firstChild >= 0 {
		b = w.members(p, b, n, comma)
	}
	if nd.text >= 0 {
		if nd.firstChild >= 0 || hasAttrs {
			b = append(b, ',')
		}
		b = append(b, `"#text":`...)
		b = w.text(p, b, nd.text)
	}
	return append(b, '}')
}

// members appends n's child elements as members of the object being
// written; comma says members precede them.
func (w *jsonWriter) members(p *parser, b []byte, n int32, comma bool) []byte {
	mark := len(w.keys)
	w.keys = append(w.keys, "\x00") // this object's keys start here
	// Unnamed Data elements, and the items of an array value in one, are
	// gathered into one "#text" array when there is more than one.
	unnamedData, children := 0, 0
	for c := p.nodes[n].firstChild; c >= 0; c = p.nodes[c].next {
		children++
		if p.nodes[c].name == "Data" && dataName(p, c) < 0 {
			unnamedData++
			if t := p.nodes[c].text; t >= 0 && p.pieces[t].next < 0 && p.pieces[t].v.typ&tArray != 0 && p.pieces[t].v.typ != tLiteral {
				unnamedData++
			}
		}
	}
	dataDone := false
	var seen map[string]int
	if children > 32 {
		// Many members: keys are looked up in a map, not the stack. The
		// maps are kept by nesting level for the next records.
		lvl := len(w.seen)
		for len(w.maps) <= lvl {
			w.maps = append(w.maps, map[string]int{})
		}
		seen = w.maps[lvl]
		clear(seen)
	}
	w.seen = append(w.seen, seen)
	for c := p.nodes[n].firstChild; c >= 0; c = p.nodes[c].next {
		cn := &p.nodes[c]
		if cn.name == "Data" {
			if a := dataName(p, c); a >= 0 {
				if comma {
					b = append(b, ',')
				}
				comma = true
				at := len(w.arena)
				for i := p.attrs[a].text; i >= 0; i = p.pieces[i].next {
					w.arena = appendText(w.arena, p.pieces[i].v, false)
				}
				b = w.key(b, w.str(at))
				b = w.text(p, b, cn.text)
				continue
			}
			if unnamedData > 1 {
				if dataDone {
					continue
				}
				dataDone = true
				if comma {
					b = append(b, ',')
				}
				comma = true
				b = w.key(b, "Data")
				b = append(b, `{"#text":[`...)
				first := true
				for d := c; d >= 0; d = p.nodes[d].next {
					if p.nodes[d].name != "Data" || dataName(p, d) >= 0 {
						continue
					}
					if !first {
						b = append(b, ',')
					}
					first = false
					t := p.nodes[d].text
					switch {
					case t < 0:
						b = append(b, `""`...)
					case p.pieces[t].next < 0 && p.pieces[t].v.typ&tArray != 0 && p.pieces[t].v.typ != tLiteral:
						// The array's items, without its brackets; an
						// empty array is one empty element.
						at := len(b)
						b = appendArray(b, p.pieces[t].v)
						if len(b) == at+2 {
							b = append(b[:at], `""`...)
						} else {
							b = append(b[:at], b[at+1:len(b)-1]...)
						}
					default:
						b = w.text(p, b, p.nodes[d].text)
					}
				}
				b = append(b, "]}"...)
				continue
			}
		}
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = w.key(b, cn.name)
		b = w.element(p, b, c)
	}
	// Not deferred: a deferred closure costs more than the rest of a
	// small element's members.
	w.keys, w.seen = w.keys[:mark], w.seen[:len(w.seen)-1]
	return b
}

// dataName is the index of element n's Name attribute with a value, or -1.
func dataName(p *parser, n int32) int32 {
	nd := &p.nodes[n]
	for i := nd.firstAttr; i < nd.firstAttr+nd.nAttrs; i++ {
		if p.attrs[i].name == "Name" && p.attrs[i].text >= 0 {
			return i
		}
	}
	return -1
}

// key appends "k": for a member of the current object, k_1, k_2, … when
// k is taken.
func (w *jsonWriter) key(b []byte, k string) []byte {
	if seen := w.seen[len(w.seen)-1]; seen != nil {
		// seen[k] is the next suffix to try for k.
		name := k
		if i, ok := seen[k]; ok {
			for ; ; i++ {
				at := len(w.arena)
				w.arena = strconv.AppendInt(append(append(w.arena, k...), '_'), int64(i), 10)
				if name = w.str(at); seen[name] == 0 {
					seen[k] = i + 1
					break
				}
			}
		}
		if seen[name] == 0 {
			seen[name] = 1
		}
		return appendKey(b, name)
	}
	name := k
	for i := 1; w.taken(name); i++ {
		at := len(w.arena)
		w.arena = strconv.AppendInt(append(append(w.arena, k...), '_'), int64(i), 10)
		name = w.str(at)
	}
	w.keys = append(w.keys, name)
	return appendKey(b, name)
}

// taken reports whether name is a key of the object being written: the
// keys above the innermost object's mark.
func (w *jsonWriter) taken(name string) bool {
	for i := len(w.keys) - 1; i >= 0; i-- {
		if w.keys[i] == "\x00" {
			return false
		}
		if w.keys[i] == name {
			return true
		}
	}
	return false
}

// text appends the value of the pieces from i: one piece as its typed
// value, several as the string of their texts joined, none as null.
func (w *jsonWriter) text(p *parser, b []byte, i int32) []byte {
	if i < 0 {
		return append(b, "null"...)
	}
	pc := &p.pieces[i]
	if pc.next < 0 {
		if pc.v.typ == tLiteral {
			return append(appendString(append(b, '"'), pc.v.lit, true), '"')
		}
		return appendValue(b, pc.v)
	}
	b = append(b, '"')
	for ; i >= 0; i = p.pieces[i].next {
		b = appendText(b, p.pieces[i].v, true)
	}
	return append(b, '"')
}

func appendKey(b []byte, k string) []byte {
	b = append(b, '"')
	b = appendString(b, k, true)
	return append(b, '"', ':')
}

// str is the arena's bytes from at as a string. The arena grows by
// append: a string made before it moved keeps the old array alive.
func (w *jsonWriter) str(at int) string {
	if at == len(w.arena) {
		return ""
	}
	return unsafe.String(&w.arena[at], len(w.arena)-at)
}
