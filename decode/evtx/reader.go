// Package evtx reads Windows XML Event Log files (.evtx): the file header,
// its 64 KiB chunks with their string and template tables, and the event
// records in Binary XML, as MS-EVEN6 and libyal's libevtx documentation
// describe them. Each record is rendered to the JSON evtx_dump writes
// ({"Event":{"System":{…},"EventData":{…}}}), which the windows decoder
// reads, so rules see the same fields from a .evtx file as from its JSON
// export. The decoder registered as "evtx" decodes such renderings.
//
// A damaged file is read past its damage: each bad chunk or record is a
// *Problem naming its offset, and reading goes on with the next.
package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Magic starts every .evtx file.
const Magic = "ElfFile\x00"

const (
	headerBlock = 4096
	chunkSize   = 64 << 10
	chunkMagic  = "ElfChnk\x00"
	recordMagic = 0x00002a2a
	recordsAt   = 512 // records start after the chunk header and its tables
	recHeader   = 24  // magic, size, record id, written time
)

// IsEVTX reports whether head, the start of a file, is an .evtx file's.
func IsEVTX(head []byte) bool { return bytes.HasPrefix(head, []byte(Magic)) }

// Problem is a damaged part of a file: a chunk or record that was
// skipped, or, as a Warning, a header whose checksum does not match,
// whose records were read nonetheless (each is checked as it is read).
type Problem struct {
	Offset  int64  // byte offset in the file
	Record  uint64 // the record's identifier, 0 when not a record or unknown
	Reason  string
	Warning bool // nothing was skipped
}

func (p *Problem) Error() string {
	if p.Record != 0 && p.Warning {
		return fmt.Sprintf("warning: record %d at byte %d: %s", p.Record, p.Offset, p.Reason)
	}
	if p.Warning {
		return fmt.Sprintf("warning: at byte %d: %s", p.Offset, p.Reason)
	}
	if p.Record != 0 {
		return fmt.Sprintf("record %d at byte %d: %s", p.Record, p.Offset, p.Reason)
	}
	return fmt.Sprintf("at byte %d: %s", p.Offset, p.Reason)
}

// Record is one event record. JSON is valid until the next call to Next.
type Record struct {
	ID     uint64 // EventRecordID
	Offset int64  // byte offset of the record in the file
	JSON   []byte // the evtx_dump rendering
}

// Reader reads the records of an .evtx file in file order.
type Reader struct {
	r     io.Reader
	off   int64 // file offset of chunk
	chunk []byte
	n     int // valid bytes in chunk
	pos   int // next record's offset in chunk; 0: no chunk loaded
	end   int // end of the chunk's records
	eof   bool

	pending []*Problem // problems found before the next record
	p       parser
	rec     Record
}

// NewReader reads and checks the file header. An input that is not an
// .evtx file is an error; a header whose checksum is wrong is reported by
// the first Next as a *Problem, and reading goes on (chunks are read from
// the file, not from the header's count, which a damaged or unclosed file
// gets wrong).
func NewReader(r io.Reader) (*Reader, error) {
	h := make([]byte, headerBlock)
	n, err := io.ReadFull(r, h)
	if n < len(Magic) || !IsEVTX(h[:n]) {
		return nil, errors.New("not an EVTX file (no ElfFile signature)")
	}
	if err != nil {
		return nil, fmt.Errorf("file header: %w", err)
	}
	rd := &Reader{r: r, off: headerBlock - chunkSize, chunk: make([]byte, chunkSize)}
	rd.p.init()
	if crc32.ChecksumIEEE(h[:120]) != le32(h[124:]) {
		rd.pending = append(rd.pending, &Problem{Offset: 124, Reason: "file header checksum mismatch (ignored: chunks are read from the file)", Warning: true})
	}
	return rd, nil
}

// Next returns the next good record. A damaged chunk or record is returned
// as a *Problem error, after which Next may be called again; io.EOF ends
// the file; any other error is the input's, and ends reading.
func (rd *Reader) Next() (*Record, error) {
	for {
		if len(rd.pending) > 0 {
			p := rd.pending[0]
			rd.pending = rd.pending[1:]
			return nil, p
		}
		if rd.pos == 0 || rd.pos >= rd.end {
			if rd.eof {
				return nil, io.EOF
			}
			if err := rd.nextChunk(); err != nil {
				return nil, err
			}
			continue
		}
		rec, prob := rd.record()
		if prob != nil {
			return nil, prob
		}
		if rec != nil {
			return rec, nil
		}
	}
}

// nextChunk reads the next 64 KiB chunk and checks its header. A chunk
// of zeros (space never written) is passed over; a chunk without the
// signature is a Problem.
func (rd *Reader) nextChunk() error {
	rd.pos, rd.end = 0, 0
	rd.off += chunkSize
	n, err := io.ReadFull(rd.r, rd.chunk)
	rd.n = n
	switch {
	case err == io.EOF:
		rd.eof = true
		return nil
	case err == io.ErrUnexpectedEOF:
		rd.eof = true
		if allZero(rd.chunk[:n]) {
			return nil
		}
		clear(rd.chunk[n:])
		// The records it holds whole are read; one cut short is reported.
		rd.pending = append(rd.pending, &Problem{Offset: rd.off, Reason: fmt.Sprintf("truncated chunk (%d of %d bytes)", n, chunkSize), Warning: n >= recordsAt})
	case err != nil:
		return err
	}
	c := rd.chunk
	if !bytes.HasPrefix(c, []byte(chunkMagic)) {
		if !allZero(c) { // a chunk of zeros was never written
			rd.pending = append(rd.pending, &Problem{Offset: rd.off, Reason: "bad chunk signature, chunk skipped"})
		}
		return nil
	}
	if sum := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:recordsAt]); sum != le32(c[124:]) {
		rd.pending = append(rd.pending, &Problem{Offset: rd.off, Reason: "chunk header checksum mismatch (its records are read, each checked)", Warning: true})
	}
	end := int(le32(c[48:])) // free space offset: the end of the records
	if end < recordsAt || end > chunkSize {
		end = chunkSize
	} else if sum := crc32.ChecksumIEEE(c[recordsAt:end]); sum != le32(c[52:]) {
		rd.pending = append(rd.pending, &Problem{Offset: rd.off, Reason: "chunk records checksum mismatch (its records are read, each checked)", Warning: true})
	}
	rd.pos, rd.end = recordsAt, end
	rd.p.reset(c)
	return nil
}

// record reads the record at rd.pos. A record whose header is bad is
// reported and ends its chunk: only its size leads to the next record,
// and a search for the next signature finds stale records and stray
// bytes in the free space of recovered chunks as often as real ones.
func (rd *Reader) record() (*Record, *Problem) {
	c, at := rd.chunk, rd.pos
	if at+recHeader+4 > rd.end {
		rd.pos = rd.end
		return nil, nil
	}
	if le32(c[at:]) != recordMagic {
		rd.pos = rd.end
		if allZero(c[at : at+recHeader]) {
			return nil, nil // the rest of the chunk is unused
		}
		return nil, &Problem{Offset: rd.off + int64(at), Reason: "bad record signature, rest of the chunk skipped"}
	}
	// The size copy after the record is not checked: a record cut short
	// at the end of a chunk still holds a readable event.
	size := int(le32(c[at+4:]))
	id := le64(c[at+8:])
	if size < recHeader+4 || at+size > chunkSize {
		rd.pos = rd.end
		return nil, &Problem{Offset: rd.off + int64(at), Record: id, Reason: fmt.Sprintf("bad record size %d, rest of the chunk skipped", size)}
	}
	rd.pos = at + size
	js, err := rd.p.record(at+recHeader, at+size-4)
	if err != nil {
		return nil, &Problem{Offset: rd.off + int64(at), Record: id, Reason: err.Error()}
	}
	rd.rec = Record{ID: id, Offset: rd.off + int64(at), JSON: js}
	return &rd.rec, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
