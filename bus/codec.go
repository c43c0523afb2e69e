package bus

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/vigil-sec/vigil/event"
)

// Wire format of a batch (version 1), all integers as (zig-zag) varints
// unless noted:
//
//	version   1 byte (1)
//	id        16 bytes (ULID)
//	workspace uvarint length + bytes
//	source    uvarint length + bytes
//	format    uvarint length + bytes
//	received  varint Unix seconds, uvarint nanoseconds (< 1e9)
//	count     uvarint number of records
//	section   1 byte: 0 = stored, 1 = s2 block; then the record section to the end
//
// The record section holds, per record: 16-byte id, uvarint line, uvarint
// length + data. It is compressed as one s2 block because records of one
// source repeat their keys: JSON compresses about 4x.
const (
	codecVersion = 1

	sectionStored = 0
	sectionS2     = 1

	// MaxNameLen bounds Workspace, Source and Format in bytes, so that the
	// batch header stays small and its size predictable.
	MaxNameLen = 1024

	// RecordOverhead is the most framing a record adds beside its data:
	// id, line and length. Budget len(Data)+RecordOverhead per record
	// against Bus.MaxBatchBytes.
	RecordOverhead = 16 + 2*binary.MaxVarintLen64

	// maxHeaderLen bounds everything before the record section.
	maxHeaderLen = 1 + 16 + 3*(binary.MaxVarintLen16+MaxNameLen) + 2*binary.MaxVarintLen64 + binary.MaxVarintLen64 + 1

	// maxSectionLen bounds the decoded record section: no valid message is
	// larger than the largest NATS payload, and a hostile s2 header must not
	// make us allocate more.
	maxSectionLen = maxMsgSizeLimit

	// minRecordLen is the smallest encoded record: id, 1-byte line, 1-byte length.
	minRecordLen = 16 + 1 + 1

	// compressMin: below this, s2 framing costs more than it saves.
	compressMin = 64
)

// sectionPool holds scratch buffers for the uncompressed record section.
var sectionPool = sync.Pool{New: func() any { return new([]byte) }}

// MarshalBinary encodes the batch in the bus wire format.
func (b *Batch) MarshalBinary() ([]byte, error) {
	return b.AppendBinary(nil)
}

// AppendBinary appends the encoded batch to dst and returns the extended
// buffer; passing a reused dst avoids an allocation per batch.
func (b *Batch) AppendBinary(dst []byte) ([]byte, error) {
	names := [...]struct{ field, v string }{{"workspace", b.Workspace}, {"source", b.Source}, {"format", b.Format}}
	for _, n := range names {
		if len(n.v) > MaxNameLen {
			return dst, fmt.Errorf("bus: encode batch %s: %s is %d bytes, more than %d", b.ID, n.field, len(n.v), MaxNameLen)
		}
	}
	dst = append(dst, codecVersion)
	dst = append(dst, b.ID[:]...)
	dst = appendString(dst, b.Workspace)
	dst = appendString(dst, b.Source)
	dst = appendString(dst, b.Format)
	dst = binary.AppendVarint(dst, b.Received.Unix())
	dst = binary.AppendUvarint(dst, uint64(b.Received.Nanosecond()))
	dst = binary.AppendUvarint(dst, uint64(len(b.Records)))

	sp := sectionPool.Get().(*[]byte)
	defer sectionPool.Put(sp)
	// Sized once, with room to spare: grown by appending, a megabyte
	// section was copied over and over into fresh memory, and a pooled
	// buffer sized exactly for one batch was too small for the next.
	size := 0
	for i := range b.Records {
		size += RecordOverhead + len(b.Records[i].Data)
	}
	sec := (*sp)[:0]
	if cap(sec) < size {
		sec = make([]byte, 0, size+size/4)
	}
	for i := range b.Records {
		r := &b.Records[i]
		if r.Line < 0 {
			return dst, fmt.Errorf("bus: encode batch %s: record %d: negative line %d", b.ID, i, r.Line)
		}
		sec = append(sec, r.ID[:]...)
		sec = binary.AppendUvarint(sec, uint64(r.Line))
		sec = binary.AppendUvarint(sec, uint64(len(r.Data)))
		sec = append(sec, r.Data...)
	}
	*sp = sec
	if len(sec) > maxSectionLen {
		return dst, fmt.Errorf("bus: encode batch %s: %d bytes of records, more than %d: %w", b.ID, len(sec), maxSectionLen, ErrTooLarge)
	}

	if len(sec) >= compressMin {
		n := len(dst)
		need := n + 1 + s2.MaxEncodedLen(len(sec))
		if cap(dst) < need {
			grown := make([]byte, n, need)
			copy(grown, dst)
			dst = grown
		}
		enc := s2.Encode(dst[n+1:need], sec)
		if len(enc) < len(sec) {
			dst = dst[:n+1+len(enc)]
			dst[n] = sectionS2
			return dst, nil
		}
		dst = dst[:n]
	}
	dst = append(dst, sectionStored)
	return append(dst, sec...), nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// UnmarshalBinary decodes a batch in the bus wire format, replacing b's
// contents. It checks every length and count against the data, so garbage
// yields an error, never a panic or a huge allocation. Records' Data may
// alias the decompressed buffer (or data itself for a stored section).
func (b *Batch) UnmarshalBinary(data []byte) error {
	_, err := b.unmarshal(data, nil)
	return err
}

// unmarshal is UnmarshalBinary decompressing into scratch when it is large
// enough (its length is ignored). It returns the decompressed buffer that
// the records' Data alias (scratch or a new one), nil when the section was
// stored: the caller may reuse it once it is done with the records.
func (b *Batch) unmarshal(data, scratch []byte) ([]byte, error) {
	d := decoder{buf: data}
	v := d.byte("version")
	if d.err == nil && v != codecVersion {
		return nil, fmt.Errorf("bus: decode batch: unknown version %d at offset 0 (want %d)", v, codecVersion)
	}
	var nb Batch
	copy(nb.ID[:], d.bytes("id", 16))
	nb.Workspace = d.name("workspace")
	nb.Source = d.name("source")
	nb.Format = d.name("format")
	sec := d.varint("received seconds")
	nsec := d.uvarint("received nanoseconds")
	if d.err == nil && nsec >= 1e9 {
		d.fail("received nanoseconds", "value %d is not below 1e9", nsec)
	}
	// time.Unix is defined for any int64 seconds; the zero time round-trips.
	nb.Received = time.Unix(sec, int64(nsec)).UTC()
	count := d.uvarint("record count")
	kind := d.byte("section kind")
	if d.err != nil {
		return nil, fmt.Errorf("bus: decode batch: %w", d.err)
	}
	rest := data[d.off:]
	var recs []byte
	switch kind {
	case sectionStored:
		recs = rest
	case sectionS2:
		n, err := s2.DecodedLen(rest)
		if err != nil {
			return nil, fmt.Errorf("bus: decode batch %s: record section at offset %d: %w", nb.ID, d.off, err)
		}
		if n > maxSectionLen {
			return nil, fmt.Errorf("bus: decode batch %s: record section at offset %d claims %d bytes, more than %d", nb.ID, d.off, n, maxSectionLen)
		}
		if cap(scratch) < n {
			scratch = make([]byte, n+n/4) // room for the next, larger batch
		}
		recs, err = s2.Decode(scratch[:cap(scratch)], rest)
		if err != nil {
			return nil, fmt.Errorf("bus: decode batch %s: record section at offset %d: %w", nb.ID, d.off, err)
		}
	default:
		return nil, fmt.Errorf("bus: decode batch %s: unknown section kind %d at offset %d", nb.ID, kind, d.off-1)
	}
	if count > uint64(len(recs)/minRecordLen) {
		return nil, fmt.Errorf("bus: decode batch %s: record count %d does not fit in a %d-byte record section", nb.ID, count, len(recs))
	}

	if cap(b.Records) >= int(count) {
		nb.Records = b.Records[:count]
	} else {
		nb.Records = make([]event.Raw, count)
	}
	rd := decoder{buf: recs, what: "record section "}
	for i := range nb.Records {
		r := &nb.Records[i]
		copy(r.ID[:], rd.bytes("id", 16))
		line := rd.uvarint("line")
		if rd.err == nil && line > math.MaxInt32 {
			rd.fail("line", "value %d is out of range", line)
		}
		r.Line = int(line)
		n := rd.uvarint("data length")
		if rd.err == nil && n > uint64(len(recs)-rd.off) {
			rd.fail("data length", "%d exceeds the %d bytes left", n, len(recs)-rd.off)
		}
		r.Data = rd.bytes("data", int(n))
		if rd.err != nil {
			return nil, fmt.Errorf("bus: decode batch %s: record %d: %w", nb.ID, i, rd.err)
		}
	}
	if rd.off != len(recs) {
		return nil, fmt.Errorf("bus: decode batch %s: %d trailing bytes after %d records", nb.ID, len(recs)-rd.off, count)
	}
	*b = nb
	if kind == sectionS2 {
		return recs, nil
	}
	return nil, nil
}

// decoder reads fields in order; the first error sticks and names the field
// and its offset, so callers check once after a group of reads.
type decoder struct {
	buf  []byte
	off  int
	err  error
	what string // prefix for offsets inside a sub-buffer
}

func (d *decoder) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at %soffset %d: %s", field, d.what, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.fail(field, "truncated")
		return 0
	}
	c := d.buf[d.off]
	d.off++
	return c
}

func (d *decoder) bytes(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.fail(field, "needs %d bytes, %d left", n, len(d.buf)-d.off)
		return nil
	}
	p := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail(field, "bad or truncated varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.fail(field, "bad or truncated varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) name(field string) string {
	n := d.uvarint(field + " length")
	if d.err == nil && n > MaxNameLen {
		d.fail(field, "length %d exceeds %d", n, MaxNameLen)
	}
	return string(d.bytes(field, int(n)))
}
