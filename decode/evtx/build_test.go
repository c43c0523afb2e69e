package evtx

import (
	"encoding/binary"
	"hash/crc32"
	"unicode/utf16"
)

// bx writes Binary XML as MS-EVEN6 defines it, at a known offset in its
// chunk (names and template definitions are referred to by chunk offset).
// The tests build records with it rather than from another parser's output.
type bx struct {
	base  int // chunk offset of buf[0]
	buf   []byte
	names map[string]int
}

func newBX(base int) *bx { return &bx{base: base, names: map[string]int{}} }

func (b *bx) pos() int     { return b.base + len(b.buf) }
func (b *bx) u8(v byte)    { b.buf = append(b.buf, v) }
func (b *bx) u16(v uint16) { b.buf = binary.LittleEndian.AppendUint16(b.buf, v) }
func (b *bx) u32(v uint32) { b.buf = binary.LittleEndian.AppendUint32(b.buf, v) }
func (b *bx) raw(p []byte) { b.buf = append(b.buf, p...) }
func (b *bx) utf16(s string) {
	for _, r := range utf16.Encode([]rune(s)) {
		b.u16(r)
	}
}

// name writes a name's offset, and the name itself (inline) at its first
// use in the chunk.
func (b *bx) name(s string) {
	if off, ok := b.names[s]; ok {
		b.u32(uint32(off))
		return
	}
	off := b.pos() + 4
	b.names[s] = off
	b.u32(uint32(off))
	b.u32(0) // next name in the hash bucket
	b.u16(0) // hash (not checked by readers)
	b.u16(uint16(len([]rune(s))))
	b.utf16(s)
	b.u16(0)
}

func (b *bx) fragment() { b.raw([]byte{tokFragment, 1, 1, 0}) }

// open writes an element's open start tag; attrs says whether an
// attribute list follows.
func (b *bx) open(name string, attrs bool) {
	tok := byte(tokOpenStart)
	if attrs {
		tok |= tokMore
	}
	b.u8(tok)
	b.u16(0xffff) // dependency identifier: none
	b.u32(0)      // data size, not needed to read
	b.name(name)
	if attrs {
		b.u32(0) // attribute list size
	}
}

func (b *bx) attr(name string, more bool) {
	tok := byte(tokAttribute)
	if more {
		tok |= tokMore
	}
	b.u8(tok)
	b.name(name)
}

func (b *bx) text(s string) {
	b.u8(tokValue)
	b.u8(tString)
	b.u16(uint16(len(utf16.Encode([]rune(s)))))
	b.utf16(s)
}

func (b *bx) subst(id int, typ byte, optional bool) {
	tok := byte(tokSubst)
	if optional {
		tok = tokOptSubst
	}
	b.u8(tok)
	b.u16(uint16(id))
	b.u8(typ)
}

func (b *bx) closeStart() { b.u8(tokCloseStart) }
func (b *bx) closeEmpty() { b.u8(tokCloseEmpty) }
func (b *bx) end()        { b.u8(tokEndElement) }
func (b *bx) eof()        { b.u8(tokEOF) }

// elem writes <name>text</name>.
func (b *bx) elem(name, text string) {
	b.open(name, false)
	b.closeStart()
	b.text(text)
	b.end()
}

// substElem writes <name>%id</name>.
func (b *bx) substElem(name string, id int, typ byte, optional bool) {
	b.open(name, false)
	b.closeStart()
	b.subst(id, typ, optional)
	b.end()
}

// tval is a template instance's value.
type tval struct {
	typ  byte
	data []byte
}

// template writes a template instance whose definition is inline: body
// writes the definition's content (between its fragment header and EOF).
func (b *bx) template(body func(*bx), vals []tval) {
	b.u8(tokTemplate)
	b.u8(1)
	b.u32(0x1234) // template identifier
	def := b.pos() + 4
	b.u32(uint32(def))
	b.u32(0)                // next template definition
	b.raw(make([]byte, 16)) // GUID
	sizeAt := len(b.buf)
	b.u32(0)
	start := len(b.buf)
	b.fragment()
	body(b)
	b.eof()
	binary.LittleEndian.PutUint32(b.buf[sizeAt:], uint32(len(b.buf)-start))
	b.u32(uint32(len(vals)))
	for _, v := range vals {
		b.u16(uint16(len(v.data)))
		b.u8(v.typ)
		b.u8(0)
	}
	for _, v := range vals {
		b.raw(v.data)
	}
}

// chunkOf builds a chunk of records, each the Binary XML build makes for
// it given its chunk offset and the chunk's names so far.
func chunkOf(firstID uint64, builds ...func(*bx)) []byte {
	c := make([]byte, chunkSize)
	copy(c, chunkMagic)
	pos := recordsAt
	names := map[string]int{}
	for i, build := range builds {
		b := newBX(pos + recHeader)
		b.names = names
		build(b)
		size := recHeader + len(b.buf) + 4
		size = (size + 7) &^ 7
		binary.LittleEndian.PutUint32(c[pos:], recordMagic)
		binary.LittleEndian.PutUint32(c[pos+4:], uint32(size))
		binary.LittleEndian.PutUint64(c[pos+8:], firstID+uint64(i))
		binary.LittleEndian.PutUint64(c[pos+16:], 131000000000000000)
		copy(c[pos+recHeader:], b.buf)
		binary.LittleEndian.PutUint32(c[pos+size-4:], uint32(size))
		pos += size
	}
	binary.LittleEndian.PutUint64(c[8:], firstID)
	binary.LittleEndian.PutUint64(c[16:], firstID+uint64(len(builds))-1)
	binary.LittleEndian.PutUint32(c[40:], 128)
	binary.LittleEndian.PutUint32(c[48:], uint32(pos))
	binary.LittleEndian.PutUint32(c[52:], crc32.ChecksumIEEE(c[recordsAt:pos]))
	binary.LittleEndian.PutUint32(c[124:], crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:recordsAt]))
	return c
}

// fileOf builds an .evtx file of the chunks.
func fileOf(chunks ...[]byte) []byte {
	h := make([]byte, headerBlock)
	copy(h, Magic)
	binary.LittleEndian.PutUint32(h[32:], 128)
	binary.LittleEndian.PutUint16(h[36:], 1)
	binary.LittleEndian.PutUint16(h[38:], 3)
	binary.LittleEndian.PutUint16(h[40:], headerBlock)
	binary.LittleEndian.PutUint16(h[42:], uint16(len(chunks)))
	binary.LittleEndian.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	for _, c := range chunks {
		h = append(h, c...)
	}
	return h
}
