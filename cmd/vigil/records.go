package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/evtx"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/ingest/jsonstream"
)

// streamRecords frames a file into records for scan and decode, calling fn
// with chunks of at most n records. An .evtx file is read by its records
// (streamEVTX). A whole-file records envelope is split by element; JSON
// arrays, pretty-printed records and evtx_dump's output by streamJSON;
// other files stream a line a record, lines
// that continue a record joined to it when the format's decoder says so
// (decode.Joiner: multi-line SQL statements). With no format given, it is
// guessed from the first records, and a guess that is only "json" because
// the records are wrapped around another format's is said on warn. It
// returns the format used.
//
// Lines are copied into blocks from pool (nil: new ones); the blocks of a
// chunk hold its records only, and pool.take, called by fn, hands them over,
// to be given back (pool.put) once nothing refers to the records.
func streamRecords(name string, br *bufio.Reader, format string, n int, warn io.Writer, pool *blockPool, fn func(format string, recs []event.Raw)) (string, error) {
	// Records get their ids a chunk at a time, as it is handed on.
	emit := fn
	fn = func(format string, recs []event.Raw) {
		event.FillIDs(recs)
		emit(format, recs)
	}
	head, _ := br.Peek(64 << 10)
	if evtx.IsEVTX(head) {
		return streamEVTX(name, br, format, n, warn, fn)
	}
	if isJSONDocument(head) && !isArray(head) {
		recs, err := readRecords(name, br)
		if err != nil {
			return format, err
		}
		if format == "" {
			format = guessFormat(name, recs)
			noteWrapped(warn, name, format, recs)
		}
		for i := 0; i < len(recs); i += n {
			fn(format, recs[i:min(i+n, len(recs))])
		}
		return format, nil
	}
	if jsonstream.Framed(head) {
		return streamJSON(name, br, format, n, warn, fn)
	}
	if format == "" {
		var probe []event.Raw
		for i, l := range bytes.SplitN(head, []byte{'\n'}, 21) {
			if l = bytes.TrimRight(l, "\r"); len(bytes.TrimSpace(l)) > 0 && i < 20 {
				probe = append(probe, event.Raw{Data: l, Line: i + 1})
			}
		}
		format = guessFormat(name, probe)
		noteWrapped(warn, name, format, probe)
	}
	join := decode.JoinerFor(format)
	recs := make([]event.Raw, 0, n)
	var cur *event.Raw
	blk := recordBlock{pool: pool}
	flush := func() {
		if cur != nil {
			recs = append(recs, *cur)
			cur = nil
		}
		if len(recs) == n {
			blk.seal()
			fn(format, recs)
			recs = make([]event.Raw, 0, n) // the processed chunk's events keep their records
		}
	}
	line := 0
	for {
		l, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			l = append([]byte(nil), l...)
			var more []byte
			more, err = br.ReadBytes('\n')
			l = append(l, more...)
		}
		if len(l) > 0 {
			line++
			l = bytes.TrimRight(l, "\r\n")
			switch {
			case cur != nil && join != nil && join.Continues(cur.Data, l):
				cur.Data = append(append(cur.Data, '\n'), l...)
			case len(bytes.TrimSpace(l)) == 0 && join == nil:
				flush()
			default:
				flush()
				if len(bytes.TrimSpace(l)) > 0 {
					// copied after flush: a chunk's blocks hold its records only
					cur = &event.Raw{Data: blk.put(l), Line: line}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return format, fmt.Errorf("%s: %w", name, err)
		}
	}
	flush()
	if len(recs) > 0 {
		blk.seal()
		fn(format, recs)
	}
	return format, nil
}

// streamJSON frames JSON records written over several lines, in arrays or
// after evtx_dump's "Record N" lines, each compacted onto one line and kept
// with the line it starts on. The format is guessed from the first records.
func streamJSON(name string, br *bufio.Reader, format string, n int, warn io.Writer, fn func(format string, recs []event.Raw)) (string, error) {
	sp := jsonstream.New(br)
	recs := make([]event.Raw, 0, n)
	guessed := format != ""
	guess := func() {
		format = guessFormat(name, recs)
		noteWrapped(warn, name, format, recs)
		guessed = true
	}
	for {
		rec, line, err := sp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return format, fmt.Errorf("%s: %w", name, err)
		}
		recs = append(recs, event.Raw{Data: rec, Line: line})
		if !guessed && (len(recs) == 20 || len(recs) == n) {
			guess()
		}
		if len(recs) == n {
			fn(format, recs)
			recs = make([]event.Raw, 0, n) // the processed chunk's events keep their records
		}
	}
	if !guessed {
		guess()
	}
	if len(recs) > 0 {
		fn(format, recs)
	}
	return format, nil
}

// isArray reports whether a file starts with a JSON array: streamJSON
// reads it an element at a time.
func isArray(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '['
}

// recordBlock copies records into shared blocks: one allocation for many
// records rather than one each. A block is never grown in place, so the
// records given out stay valid.
type recordBlock struct {
	pool *blockPool
	b    []byte
}

// recordBlockSize: one allocation for a few hundred records.
const recordBlockSize = 256 << 10

func (rb *recordBlock) put(l []byte) []byte {
	if len(l) > recordBlockSize/4 {
		return append([]byte(nil), l...)
	}
	if len(l) > cap(rb.b)-len(rb.b) {
		rb.b = rb.pool.get()
	}
	start := len(rb.b)
	rb.b = append(rb.b, l...)
	return rb.b[start:len(rb.b):len(rb.b)]
}

// seal ends the block in use: the next record starts a new one.
func (rb *recordBlock) seal() { rb.b = nil }

// blockPool hands out record blocks and takes them back, so that a scan
// copies its records into the same few blocks rather than into fresh
// memory for each chunk (page faults were a tenth of a scan's CPU).
type blockPool struct {
	mu     sync.Mutex
	free   [][]byte
	handed [][]byte // given out since the last take
	poison bool     // overwrite blocks given back (tests: nothing may still read them)
}

func (p *blockPool) get() []byte {
	if p == nil {
		return make([]byte, 0, recordBlockSize)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var b []byte
	if n := len(p.free); n > 0 {
		b, p.free = p.free[n-1][:0], p.free[:n-1]
	} else {
		b = make([]byte, 0, recordBlockSize)
	}
	p.handed = append(p.handed, b)
	return b
}

// take returns the blocks given out since the last call: those of the
// chunk being handed over.
func (p *blockPool) take() [][]byte {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.handed
	p.handed = nil
	return out
}

// put takes blocks back once nothing refers to the records in them.
func (p *blockPool) put(bs [][]byte) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range bs {
		if p.poison {
			b = b[:cap(b)]
			for i := range b {
				b[i] = 0xff
			}
		}
		if len(p.free) < 256 {
			p.free = append(p.free, b)
		}
	}
}

// noteWrapped says on w when records guessed as generic JSON are objects
// around another format's records ({"event": {…CloudTrail…}}): decoded as
// json they match no rule of that format, which would pass unnoticed.
func noteWrapped(w io.Writer, name, format string, recs []event.Raw) {
	if format != "json" || len(recs) == 0 {
		return
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(recs[0].Data, &top) != nil {
		return
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := top[k]
		if len(v) == 0 || v[0] != '{' {
			continue
		}
		if f, s := decode.Sniff(v); s > 0 && f != "json" {
			fmt.Fprintf(w, "%s: decoded as json: each record holds a %s record under %q; unwrap them (e.g. jq -c '.%s') to decode them as %s\n", name, f, k, k, f)
			return
		}
	}
}
