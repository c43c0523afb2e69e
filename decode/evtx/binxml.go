package evtx

import (
	"errors"
	"fmt"
)

// Binary XML tokens (MS-EVEN6 2.2.12). A token's 0x40 bit says more data
// follows (attributes, value pieces); it is masked off before the switch.
const (
	tokEOF        = 0x00
	tokOpenStart  = 0x01
	tokCloseStart = 0x02
	tokCloseEmpty = 0x03
	tokEndElement = 0x04
	tokValue      = 0x05
	tokAttribute  = 0x06
	tokCDATA      = 0x07
	tokCharRef    = 0x08
	tokEntityRef  = 0x09
	tokPITarget   = 0x0a
	tokPIData     = 0x0b
	tokTemplate   = 0x0c
	tokSubst      = 0x0d
	tokOptSubst   = 0x0e
	tokFragment   = 0x0f
	tokMore       = 0x40
	maxDepth      = 64 // elements and nested Binary XML values, together
	// maxTokens bounds the work of one record: templates may be
	// instantiated within templates, so a crafted record could otherwise
	// cost exponential time within maxDepth.
	maxTokens       = 1 << 18
	templateDefSize = 24 // next offset, GUID, data size
)

// Value types (MS-EVEN6 2.2.12 and libevtx); 0x80 marks an array.
const (
	tNull     = 0x00
	tString   = 0x01
	tAnsi     = 0x02
	tInt8     = 0x03
	tUint8    = 0x04
	tInt16    = 0x05
	tUint16   = 0x06
	tInt32    = 0x07
	tUint32   = 0x08
	tInt64    = 0x09
	tUint64   = 0x0a
	tReal32   = 0x0b
	tReal64   = 0x0c
	tBool     = 0x0d
	tBinary   = 0x0e
	tGUID     = 0x0f
	tSizeT    = 0x10
	tFiletime = 0x11
	tSystime  = 0x12
	tSID      = 0x13
	tHex32    = 0x14
	tHex64    = 0x15
	tHandle   = 0x20
	tBinXML   = 0x21
	tEvtXML   = 0x23
	tArray    = 0x80

	// Pieces that are not values: text already decoded (character and
	// entity references).
	tLiteral = 0xff
)

// value is one piece of text: a value of type typ whose bytes are data
// (a slice of the chunk), or a literal.
type value struct {
	typ  uint8
	data []byte
	lit  string
}

// node is an element of the record being read. The tree lives in the
// parser's slices, reused from record to record.
type node struct {
	name                  string
	firstChild, lastChild int32
	next                  int32
	firstAttr, nAttrs     int32
	text, textTail        int32 // pieces of its content, a list
}

type attr struct {
	name       string
	text, tail int32
}

type piece struct {
	v    value
	next int32
}

var errTruncated = errors.New("binary XML runs past its data")

// parser reads the Binary XML of one chunk's records into a tree, and
// renders the tree.
type parser struct {
	c []byte
	// The chunk's names, cached by offset: nameAt[off] is 1 + the index
	// of the name in names (a table rather than a map: every element
	// costs a lookup); named lists the offsets to clear.
	nameAt []uint16
	names  []string
	named  []uint32

	nodes  []node
	attrs  []attr
	pieces []piece
	vals   []value
	depth  int
	tokens int // read in this record

	out     []byte
	w       jsonWriter
	scratch []byte // a name being read
}

func (p *parser) init() {
	p.nameAt = make([]uint16, chunkSize)
}

// reset starts a new chunk: names are cached by their offset in it.
func (p *parser) reset(c []byte) {
	p.c = c
	for _, off := range p.named {
		p.nameAt[off] = 0
	}
	p.named, p.names = p.named[:0], p.names[:0]
}

// known reports whether a name was read at chunk offset off.
func (p *parser) known(off uint32) bool { return off < chunkSize && p.nameAt[off] != 0 }

// record parses the record's Binary XML at [start, end) of the chunk and
// returns its JSON rendering.
func (p *parser) record(start, end int) ([]byte, error) {
	p.nodes = append(p.nodes[:0], node{firstChild: -1, lastChild: -1, next: -1, text: -1, textTail: -1})
	p.attrs, p.pieces, p.vals, p.depth, p.tokens = p.attrs[:0], p.pieces[:0], p.vals[:0], 0, 0
	if _, err := p.content(start, end, nil, 0, true); err != nil {
		return nil, err
	}
	if p.nodes[0].firstChild < 0 {
		return nil, errors.New("record holds no element")
	}
	p.out = p.w.render(p, p.out[:0])
	return p.out, nil
}

// content reads tokens at [pos, end) into parent until the end of the
// parent element (its end element token, returned past) or of the data.
// top is the record's, a template's or a Binary XML value's level, which
// an EOF token ends.
func (p *parser) content(pos, end int, vals []value, parent int32, top bool) (int, error) {
	c := p.c
	for pos < end {
		if p.tokens++; p.tokens > maxTokens {
			return pos, fmt.Errorf("record holds more than %d tokens", maxTokens)
		}
		tok := c[pos]
		switch tok &^ tokMore {
		case tokEOF:
			if !top {
				return pos, fmt.Errorf("end of data inside element %s at chunk offset %d", p.nodes[parent].name, pos)
			}
			return pos + 1, nil // what follows, if anything, is padding
		case tokFragment:
			pos += 4
		case tokTemplate:
			if tok != tokTemplate {
				return pos, fmt.Errorf("bad token 0x%02x at chunk offset %d", tok, pos)
			}
			var err error
			if pos, err = p.template(pos, end, parent); err != nil {
				return pos, err
			}
		case tokOpenStart:
			var err error
			if pos, err = p.element(pos, end, vals, parent); err != nil {
				return pos, err
			}
		case tokEndElement:
			if top {
				return pos, fmt.Errorf("end element without element at chunk offset %d", pos)
			}
			return pos + 1, nil
		case tokValue:
			if pos+4 > end {
				return pos, errTruncated
			}
			n := 2 * int(le16(c[pos+2:]))
			if pos+4+n > end {
				return pos, errTruncated
			}
			p.addText(parent, value{typ: c[pos+1], data: c[pos+4 : pos+4+n]})
			pos += 4 + n
		case tokCDATA:
			if pos+3 > end {
				return pos, errTruncated
			}
			n := 2 * int(le16(c[pos+1:]))
			if pos+3+n > end {
				return pos, errTruncated
			}
			p.addText(parent, value{typ: tString, data: c[pos+3 : pos+3+n]})
			pos += 3 + n
		case tokCharRef, tokEntityRef:
			v, np, err := p.ref(pos, end)
			if err != nil {
				return pos, err
			}
			p.addText(parent, v)
			pos = np
		case tokPITarget:
			if pos+5 > end {
				return pos, errTruncated
			}
			_, np, err := p.name(pos+1, pos+5, end)
			if err != nil {
				return pos, err
			}
			pos = np
		case tokPIData:
			if pos+3 > end {
				return pos, errTruncated
			}
			pos += 3 + 2*int(le16(c[pos+1:]))
		case tokSubst, tokOptSubst:
			if pos+4 > end {
				return pos, errTruncated
			}
			id := int(le16(c[pos+1:]))
			pos += 4
			if id >= len(vals) {
				continue // a substitution the instance has no value for renders nothing
			}
			v := vals[id]
			if v.typ == tBinXML {
				if err := p.nested(v, parent); err != nil {
					return pos, err
				}
				continue
			}
			if v.typ != tNull {
				p.addText(parent, v)
			}
		default:
			return pos, fmt.Errorf("bad token 0x%02x at chunk offset %d", tok, pos)
		}
	}
	if !top {
		return pos, errTruncated
	}
	return pos, nil
}

// nested reads a Binary XML value (a fragment or template instance) into
// parent. Its bytes are in the chunk, where its names are.
func (p *parser) nested(v value, parent int32) error {
	start := cap(p.c) - cap(v.data) // v.data is a slice of the chunk
	if p.depth++; p.depth > maxDepth {
		return errors.New("Binary XML nested too deep")
	}
	_, err := p.content(start, start+len(v.data), nil, parent, true)
	p.depth--
	return err
}

// element reads an element at pos (its open start token) into parent.
func (p *parser) element(pos, end int, vals []value, parent int32) (int, error) {
	c := p.c
	if p.depth++; p.depth > maxDepth {
		return pos, errors.New("elements nested too deep")
	}
	defer func() { p.depth-- }()
	hasAttrs := c[pos]&tokMore != 0
	// The start token carries a 2-byte dependency identifier, except in
	// some writers' records and Binary XML values: the name offset tells
	// which (a name is stored inline right after it, or earlier in the
	// chunk's records).
	if pos+11 > end {
		return pos, errTruncated
	}
	nameAt := pos + 7
	if with := le32(c[pos+7:]); with != uint32(pos+11) && !p.known(with) {
		if without := le32(c[pos+5:]); without == uint32(pos+9) || p.known(without) || with < recordsAt || with >= uint32(pos) {
			nameAt = pos + 5
		}
	}
	name, np, err := p.name(nameAt, nameAt+4, end)
	if err != nil {
		return pos, err
	}
	pos = np
	n := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{name: name, firstChild: -1, lastChild: -1, next: -1, text: -1, textTail: -1, firstAttr: int32(len(p.attrs))})
	if pn := &p.nodes[parent]; pn.lastChild < 0 {
		pn.firstChild, pn.lastChild = n, n
	} else {
		p.nodes[pn.lastChild].next = n
		pn.lastChild = n
	}
	if hasAttrs {
		if pos+4 > end {
			return pos, errTruncated
		}
		pos += 4 // the attribute list's size
		for pos < end && c[pos]&^tokMore == tokAttribute {
			if pos+5 > end {
				return pos, errTruncated
			}
			an, np, err := p.name(pos+1, pos+5, end)
			if err != nil {
				return pos, err
			}
			pos = np
			a := int32(len(p.attrs))
			p.attrs = append(p.attrs, attr{name: an, text: -1, tail: -1})
			p.nodes[n].nAttrs++
			if pos, err = p.attrValue(pos, end, vals, a); err != nil {
				return pos, err
			}
		}
	}
	if pos >= end {
		return pos, errTruncated
	}
	switch c[pos] {
	case tokCloseEmpty:
		return pos + 1, nil
	case tokCloseStart:
		return p.content(pos+1, end, vals, n, false)
	}
	return pos, fmt.Errorf("bad token 0x%02x in start tag of %s at chunk offset %d", c[pos], name, pos)
}

// attrValue reads the pieces of attribute a's value.
func (p *parser) attrValue(pos, end int, vals []value, a int32) (int, error) {
	c := p.c
	for pos < end {
		if p.tokens++; p.tokens > maxTokens {
			return pos, fmt.Errorf("record holds more than %d tokens", maxTokens)
		}
		tok := c[pos]
		switch tok &^ tokMore {
		case tokValue:
			if pos+4 > end {
				return pos, errTruncated
			}
			n := 2 * int(le16(c[pos+2:]))
			if pos+4+n > end {
				return pos, errTruncated
			}
			p.addAttrText(a, value{typ: c[pos+1], data: c[pos+4 : pos+4+n]})
			pos += 4 + n
		case tokCharRef, tokEntityRef:
			v, np, err := p.ref(pos, end)
			if err != nil {
				return pos, err
			}
			p.addAttrText(a, v)
			pos = np
		case tokSubst, tokOptSubst:
			if pos+4 > end {
				return pos, errTruncated
			}
			if id := int(le16(c[pos+1:])); id < len(vals) && vals[id].typ != tNull && vals[id].typ != tBinXML {
				p.addAttrText(a, vals[id])
			}
			pos += 4
		default:
			return pos, nil
		}
	}
	return pos, errTruncated
}

// ref reads a character or entity reference at pos as literal text.
func (p *parser) ref(pos, end int) (value, int, error) {
	c := p.c
	if c[pos]&^tokMore == tokCharRef {
		if pos+3 > end {
			return value{}, pos, errTruncated
		}
		return value{typ: tLiteral, lit: string(rune(le16(c[pos+1:])))}, pos + 3, nil
	}
	if pos+5 > end {
		return value{}, pos, errTruncated
	}
	name, np, err := p.name(pos+1, pos+5, end)
	if err != nil {
		return value{}, pos, err
	}
	s := "&" + name + ";"
	switch name {
	case "amp":
		s = "&"
	case "lt":
		s = "<"
	case "gt":
		s = ">"
	case "quot":
		s = `"`
	case "apos":
		s = "'"
	}
	return value{typ: tLiteral, lit: s}, np, nil
}

// name reads the name whose chunk offset is at at. after is the offset
// just past that field: a name stored there (inline, at its first use)
// is passed over, and the offset past it returned.
func (p *parser) name(at, after, end int) (string, int, error) {
	c := p.c
	off := int(le32(c[at:]))
	if off+8 > len(c) {
		return "", after, fmt.Errorf("name offset %d outside the chunk", off)
	}
	n := 2 * int(le16(c[off+6:]))
	if off+8+n+2 > len(c) {
		return "", after, fmt.Errorf("name at chunk offset %d runs past the chunk", off)
	}
	var s string
	if i := p.nameAt[off]; i != 0 {
		s = p.names[i-1]
	} else {
		p.scratch = appendUTF16JSON(p.scratch[:0], c[off+8:off+8+n], false)
		s = string(p.scratch)
		p.names = append(p.names, s)
		p.nameAt[off] = uint16(len(p.names)) // fits: off < chunkSize-8, so fewer than 65535 names
		p.named = append(p.named, uint32(off))
	}
	if off == after {
		after += 8 + n + 2
		if after > end {
			return s, after, errTruncated
		}
	}
	return s, after, nil
}

// template reads a template instance at pos: the definition (inline, or
// earlier in the chunk), the values, and the definition's Binary XML with
// the values substituted, into parent. It returns the offset past the
// instance's values.
func (p *parser) template(pos, end int, parent int32) (int, error) {
	c := p.c
	if pos+10 > end {
		return pos, errTruncated
	}
	def := int(le32(c[pos+6:]))
	pos += 10
	if def+templateDefSize > len(c) {
		return pos, fmt.Errorf("template definition offset %d outside the chunk", def)
	}
	size := int(le32(c[def+20:]))
	body, bodyEnd := def+templateDefSize, def+templateDefSize+size
	if bodyEnd > len(c) || bodyEnd < body {
		return pos, fmt.Errorf("template definition at chunk offset %d runs past the chunk", def)
	}
	if def == pos {
		pos = bodyEnd
	}
	if pos+4 > end {
		return pos, errTruncated
	}
	nv := int(le32(c[pos:]))
	pos += 4
	if nv > (end-pos)/4 {
		return pos, fmt.Errorf("template instance with %d values at chunk offset %d runs past the record", nv, pos-4)
	}
	first := len(p.vals)
	data := pos + 4*nv
	for i := 0; i < nv; i++ {
		sz := int(le16(c[pos+4*i:]))
		typ := c[pos+4*i+2]
		if data+sz > end {
			return pos, fmt.Errorf("template value %d runs past the record", i)
		}
		p.vals = append(p.vals, value{typ: typ, data: c[data : data+sz]})
		data += sz
	}
	vals := p.vals[first:len(p.vals):len(p.vals)]
	if p.depth++; p.depth > maxDepth {
		return data, errors.New("templates nested too deep")
	}
	_, err := p.content(body, bodyEnd, vals, parent, true)
	p.depth--
	return data, err
}

func (p *parser) addText(n int32, v value) {
	i := int32(len(p.pieces))
	p.pieces = append(p.pieces, piece{v: v, next: -1})
	if nd := &p.nodes[n]; nd.text < 0 {
		nd.text, nd.textTail = i, i
	} else {
		p.pieces[nd.textTail].next = i
		nd.textTail = i
	}
}

func (p *parser) addAttrText(a int32, v value) {
	i := int32(len(p.pieces))
	p.pieces = append(p.pieces, piece{v: v, next: -1})
	if at := &p.attrs[a]; at.text < 0 {
		at.text, at.tail = i, i
	} else {
		p.pieces[at.tail].next = i
		at.tail = i
	}
}
