package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// An event block holds the events of one bus batch, column by column: all ids, then
// all times, then each string field for all events, then the raw records.
// Columns compress far better than rows (a source's host names, channels and
// logsources repeat), a column that is empty or constant in the block costs
// a byte or one value, and a reader gets the small columns without copying
// the raw records.
//
//	version   byte (1)
//	n         uvarint
//	ids       n × 16 bytes
//	time      n × (zigzag varint seconds delta, uvarint nanoseconds)
//	received  same
//	columns   uvarint count, then each: name, kind byte, values
//	          kind 0: all empty; 1: one value for all; 2: n values
//	raw       n × uvarint length, then the bytes one after the other
//
// Strings are uvarint length + bytes. String columns are named (ECS names for
// the common fields), so a reordering of event's common ids does not
// misread old blocks; unknown columns are skipped.
const blockVersion = 1

const (
	colEmpty = iota
	colConst
	colEach
)

// column names of the fields that are not common fields.
const (
	colSource   = "source"
	colFormat   = "format"
	colProduct  = "logsource.product"
	colCategory = "logsource.category"
	colService  = "logsource.service"
)

// ErrEventBlock is a block that does not decode (or decompress).
var ErrEventBlock = errors.New("corrupt event block")

// AppendEventBlock appends the block encoding of evs to b.
func AppendEventBlock(b []byte, evs []StoredEvent) []byte {
	b = append(b, blockVersion)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for i := range evs {
		b = append(b, evs[i].ID[:]...)
	}
	b = appendTimes(b, evs, func(e *StoredEvent) time.Time { return e.Time })
	b = appendTimes(b, evs, func(e *StoredEvent) time.Time { return e.Received })

	b = binary.AppendUvarint(b, uint64(5+event.NumCommon))
	b = appendColumn(b, colSource, evs, func(e *StoredEvent) string { return e.Source })
	b = appendColumn(b, colFormat, evs, func(e *StoredEvent) string { return e.Format })
	b = appendColumn(b, colProduct, evs, func(e *StoredEvent) string { return e.Logsource.Product })
	b = appendColumn(b, colCategory, evs, func(e *StoredEvent) string { return e.Logsource.Category })
	b = appendColumn(b, colService, evs, func(e *StoredEvent) string { return e.Logsource.Service })
	for c := range event.NumCommon {
		b = appendColumn(b, event.CommonName(c), evs, func(e *StoredEvent) string { return e.Common[c] })
	}

	for i := range evs {
		b = binary.AppendUvarint(b, uint64(len(evs[i].Raw)))
	}
	for i := range evs {
		b = append(b, evs[i].Raw...)
	}
	return b
}

func appendTimes(b []byte, evs []StoredEvent, get func(*StoredEvent) time.Time) []byte {
	var prev int64
	for i := range evs {
		t := get(&evs[i])
		s := t.Unix()
		b = binary.AppendVarint(b, s-prev)
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
		prev = s
	}
	return b
}

func appendColumn(b []byte, name string, evs []StoredEvent, get func(*StoredEvent) string) []byte {
	b = appendString(b, name)
	constant, empty := true, true
	first := ""
	if len(evs) > 0 {
		first = get(&evs[0])
	}
	for i := range evs {
		v := get(&evs[i])
		if v != first {
			constant = false
		}
		if v != "" {
			empty = false
		}
		if !constant && !empty {
			break
		}
	}
	switch {
	case empty:
		return append(b, colEmpty)
	case constant:
		b = append(b, colConst)
		return appendString(b, first)
	}
	b = append(b, colEach)
	for i := range evs {
		b = appendString(b, get(&evs[i]))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// blockReader walks an encoded block; the first error sticks.
type blockReader struct {
	b   []byte
	off int
	err error
}

func (r *blockReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", ErrEventBlock, what, r.off)
	}
}

func (r *blockReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.off += n
	return v
}

func (r *blockReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.off += n
	return v
}

func (r *blockReader) bytes(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail(what + " runs past the end")
		return nil
	}
	p := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return p
}

// span reads a length-prefixed string as offsets into the block.
func (r *blockReader) span(what string) (int, int) {
	n := r.uvarint(what)
	start := r.off
	r.bytes(n, what)
	return start, r.off
}

// DecodeEventBlock decodes a block of workspace ws. Strings share one copy of the
// block's small columns; Raw slices alias b, which the caller must not reuse.
func DecodeEventBlock(b []byte, ws string) ([]StoredEvent, error) {
	return decodeEventBlock(b, ws, nil)
}

// DecodeEventBlockOnly decodes the events of a block whose ids are in want,
// in the block's order, and skips the others: a reader of a few events by
// id (an incident's evidence) would otherwise build a thousand. The whole
// block is still checked as DecodeEventBlock checks it.
func DecodeEventBlockOnly(b []byte, ws string, want map[event.ID]bool) ([]StoredEvent, error) {
	return decodeEventBlock(b, ws, want)
}

// decodeEventBlock decodes the events of b in want (all when want is nil).
func decodeEventBlock(b []byte, ws string, want map[event.ID]bool) ([]StoredEvent, error) {
	r := &blockReader{b: b}
	if len(b) == 0 || b[0] != blockVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrEventBlock)
	}
	r.off = 1
	n := r.uvarint("event count")
	// Each event takes at least 16 bytes of id: bounds a hostile count.
	if r.err == nil && n > uint64(len(b))/16 {
		r.fail(fmt.Sprintf("event count %d", n))
	}
	if r.err != nil {
		return nil, r.err
	}
	// slot[i] is where the block's ith event goes in evs, -1 when it is
	// not wanted.
	slot := make([]int, n)
	var evs []StoredEvent
	if want == nil {
		evs = make([]StoredEvent, n)
	}
	for i := range slot {
		var id event.ID
		copy(id[:], r.bytes(16, "id"))
		if want != nil && !want[id] {
			slot[i] = -1
			continue
		}
		if want != nil {
			evs = append(evs, StoredEvent{})
		}
		slot[i] = len(evs) - 1
		if want == nil {
			slot[i] = i
		}
		evs[slot[i]].ID = id
		evs[slot[i]].Workspace = ws
	}
	at := func(i int) *StoredEvent {
		if slot[i] < 0 {
			return nil
		}
		return &evs[slot[i]]
	}
	readTimes(r, len(slot), func(i int, t time.Time) {
		if e := at(i); e != nil {
			e.Time = t
		}
	})
	readTimes(r, len(slot), func(i int, t time.Time) {
		if e := at(i); e != nil {
			e.Received = t
		}
	})

	// Offsets first, strings after: one string conversion for all columns.
	type cell struct{ ev, start, end int }
	type colSpans struct {
		set   func(*StoredEvent, string)
		cells []cell
	}
	cols := r.uvarint("column count")
	colStart := r.off
	var spans []colSpans
	for c := uint64(0); c < cols && r.err == nil; c++ {
		ns, ne := r.span("column name")
		if r.err != nil {
			break
		}
		set := columnSetter(string(b[ns:ne]))
		var kind byte
		if k := r.bytes(1, "column kind"); k != nil {
			kind = k[0]
		}
		cs := colSpans{set: set}
		switch kind {
		case colEmpty:
		case colConst:
			s, e := r.span("column value")
			for i := range evs {
				cs.cells = append(cs.cells, cell{i, s, e})
			}
		case colEach:
			cs.cells = make([]cell, 0, len(evs))
			for i := range slot {
				s, e := r.span("column value")
				if slot[i] >= 0 {
					cs.cells = append(cs.cells, cell{slot[i], s, e})
				}
			}
		default:
			r.fail(fmt.Sprintf("column kind %d", kind))
		}
		if set != nil {
			spans = append(spans, cs)
		}
	}
	if want != nil {
		// A few events: a string each, not a copy of every column.
		for _, cs := range spans {
			for _, c := range cs.cells {
				cs.set(&evs[c.ev], string(b[c.start:c.end]))
			}
		}
	} else {
		strs := string(b[colStart:r.off])
		for _, cs := range spans {
			for _, c := range cs.cells {
				cs.set(&evs[c.ev], strs[c.start-colStart:c.end-colStart])
			}
		}
	}

	lens := make([]uint64, len(slot))
	for i := range lens {
		lens[i] = r.uvarint("raw length")
	}
	for i := range slot {
		raw := r.bytes(lens[i], "raw record")
		if e := at(i); e != nil {
			e.Raw = raw
		}
	}
	if r.err == nil && r.off != len(b) {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return nil, r.err
	}
	return evs, nil
}

func readTimes(r *blockReader, n int, set func(int, time.Time)) {
	var s int64
	for i := range n {
		s += r.varint("time")
		ns := r.uvarint("time nanoseconds")
		if ns >= uint64(time.Second) {
			r.fail("time nanoseconds")
		}
		if r.err != nil {
			return
		}
		set(i, time.Unix(s, int64(ns)).UTC())
	}
}

func columnSetter(name string) func(*StoredEvent, string) {
	switch name {
	case colSource:
		return func(e *StoredEvent, v string) { e.Source = v }
	case colFormat:
		return func(e *StoredEvent, v string) { e.Format = v }
	case colProduct:
		return func(e *StoredEvent, v string) { e.Logsource.Product = v }
	case colCategory:
		return func(e *StoredEvent, v string) { e.Logsource.Category = v }
	case colService:
		return func(e *StoredEvent, v string) { e.Logsource.Service = v }
	}
	if c, ok := event.CommonID(name); ok {
		return func(e *StoredEvent, v string) { e.Common[c] = v }
	}
	return nil
}
