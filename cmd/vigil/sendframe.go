package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-sec/vigil/decode"
)

// sendBatch is one request of `vigil send`: records of one file, framed as
// the server frames them again.
type sendBatch struct {
	ctype   string // Content-Type of body
	body    []byte // uncompressed
	records int
	// lines maps the server's line numbers to the file's: the file line of
	// each body line (text and NDJSON bodies) or of each element (a JSON
	// array, whose "line" the server counts in elements).
	lines []int
}

// fileLine is the file's line for the server's line n of this batch (0 if
// the server named a line the batch does not have).
func (b *sendBatch) fileLine(n int) int {
	if n >= 1 && n <= len(b.lines) {
		return b.lines[n-1]
	}
	return 0
}

// batcher cuts one file into batches of at most maxRecords records and
// maxBytes bytes, never splitting a record: lines that the format's Joiner
// says continue a record (multi-line SQL statements) stay in its batch.
type batcher struct {
	maxRecords, maxBytes int
	join                 decode.Joiner // nil: a record is a line
	emit                 func(*sendBatch) error
	reject               func(line int, reason string) // a record not sent
	ctype                string
	cur                  *sendBatch
}

const (
	ctypeNDJSON = "application/x-ndjson"
	ctypeJSON   = "application/json"
	ctypeText   = "text/plain; charset=utf-8"
)

// run reads one file and emits its batches; an error from emit, or a file
// that cannot be read on, stops it.
func (b *batcher) run(br *bufio.Reader) error {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	if isJSONDocument(head) {
		b.ctype = ctypeJSON
		if err := b.elements(br); err != nil {
			return err
		}
		return b.flush()
	}
	first := firstLine(head)
	switch {
	case len(first) > 0 && first[0] == '{' && !json.Valid(first):
		// One JSON object over several lines: a record of its own.
		b.ctype = ctypeJSON
		if err := b.document(br); err != nil {
			return err
		}
	case len(first) > 0 && first[0] == '{':
		b.ctype = ctypeNDJSON
		if err := b.lines(br); err != nil {
			return err
		}
	default:
		b.ctype = ctypeText
		if err := b.lines(br); err != nil {
			return err
		}
	}
	return b.flush()
}

// firstLine is the first line of head that is not blank, trimmed.
func firstLine(head []byte) []byte {
	for len(head) > 0 {
		l := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			l, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if l = bytes.TrimSpace(l); len(l) > 0 {
			return l
		}
	}
	return nil
}

// add puts one record, whose first line in the file is line and which
// spans n lines, into the current batch, sending the batch first when the
// record would not fit.
func (b *batcher) add(rec []byte, line, n int) error {
	if len(rec) > b.maxBytes {
		b.reject(line, fmt.Sprintf("record of %d bytes is larger than --batch-bytes (%d): not sent", len(rec), b.maxBytes))
		return nil
	}
	if b.cur != nil && (b.cur.records == b.maxRecords || len(b.cur.body)+len(rec)+2 > b.maxBytes) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if b.cur == nil {
		b.cur = &sendBatch{ctype: b.ctype}
	}
	c := b.cur
	if b.ctype == ctypeJSON {
		if c.records == 0 {
			c.body = append(c.body, '[')
		} else {
			c.body = append(c.body, ',')
		}
		c.body = append(c.body, rec...)
		c.lines = append(c.lines, line)
	} else {
		c.body = append(append(c.body, rec...), '\n')
		for i := range n {
			c.lines = append(c.lines, line+i)
		}
	}
	c.records++
	return nil
}

func (b *batcher) flush() error {
	c := b.cur
	if c == nil || c.records == 0 {
		return nil
	}
	b.cur = nil
	if c.ctype == ctypeJSON {
		c.body = append(c.body, ']')
	}
	return b.emit(c)
}

// lines frames a text or NDJSON file: a record a line, or, with a Joiner,
// a line and the lines that continue it. Blank lines between records are
// not records. A record that grows past maxBytes is refused whole and the
// lines after it frame on their own, as the server does.
func (b *batcher) lines(br *bufio.Reader) error {
	var (
		buf, rec         []byte
		recLine, recSpan int
		pending          bool
	)
	flushRec := func() error {
		if !pending {
			return nil
		}
		pending = false
		return b.add(rec, recLine, recSpan)
	}
	line := 0
	for {
		l, long, raw, err := readLine(br, b.maxBytes, buf[:0])
		buf = l[:0]
		if raw > 0 {
			line++
			switch {
			case long:
				if err := flushRec(); err != nil {
					return err
				}
				b.reject(line, fmt.Sprintf("line longer than --batch-bytes (%d): not sent", b.maxBytes))
			case pending && b.join != nil && b.join.Continues(rec, l) && len(rec)+1+len(l) <= b.maxBytes:
				rec = append(append(rec, '\n'), l...)
				recSpan++
			case pending && b.join != nil && b.join.Continues(rec, l):
				// Joining stops at the size limit: the record is refused
				// and what follows frames on its own.
				b.reject(recLine, fmt.Sprintf("record of more than %d bytes (--batch-bytes, lines %d–%d and on): not sent", b.maxBytes, recLine, line))
				pending = false
			default:
				if err := flushRec(); err != nil {
					return err
				}
				if !blank(l) {
					rec = append(rec[:0], l...)
					recLine, recSpan, pending = line, 1, true
				}
			}
		}
		if err == io.EOF {
			return flushRec()
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line+1, err)
		}
	}
}

// readLine reads one line into buf without its line end. A line longer than
// max is read to its end but not kept (long). raw counts the bytes read.
func readLine(br *bufio.Reader, max int, buf []byte) (line []byte, long bool, raw int, err error) {
	for {
		frag, e := br.ReadSlice('\n')
		raw += len(frag)
		if !long {
			if len(buf)+len(frag) > max+2 { // +2: the line end
				long, buf = true, buf[:0]
			} else {
				buf = append(buf, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		err = e
		break
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	return buf, long, raw, err
}

func blank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// elements frames a JSON array or a {"records"|"Records": […]} envelope:
// each element is a record, sent with its own bytes, its line the file
// line where it starts.
func (b *batcher) elements(br *bufio.Reader) error {
	lc := &lineCounter{r: br}
	dec := json.NewDecoder(lc)
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("line %d: invalid JSON: %w", lc.lineAt(se.Offset), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("the JSON document ends early (a truncated file?)")
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if tok == json.Delim('{') {
		key, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		if tok, err = dec.Token(); err != nil {
			return syntax(err)
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("line %d: %q is not an array of records", lc.lineAt(dec.InputOffset()), key)
		}
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntax(err)
		}
		line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
		if err := b.add(raw, line, 1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return syntax(err)
	}
	return nil
}

// document sends a file that is one JSON object spread over lines.
func (b *batcher) document(br *bufio.Reader) error {
	data, err := io.ReadAll(io.LimitReader(br, int64(b.maxBytes)+1))
	if err != nil {
		return err
	}
	if len(data) > b.maxBytes {
		b.reject(1, fmt.Sprintf("a JSON document of more than %d bytes (--batch-bytes) that is neither an array nor a records envelope: not sent", b.maxBytes))
		return nil
	}
	lead := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	return b.add(bytes.TrimSpace(data), 1+bytes.Count(data[:lead], []byte{'\n'}), 1)
}

// lineCounter passes a reader through and tells the line of an offset it
// has passed, keeping only the bytes after the last offset asked for (the
// JSON decoder asks in rising order).
type lineCounter struct {
	r     io.Reader
	buf   []byte
	base  int64 // offset of buf[0]
	lines int   // line ends before base
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// lineAt is the 1-based line of offset off (off ≥ the last one asked).
func (c *lineCounter) lineAt(off int64) int {
	k := int(off - c.base)
	if k < 0 || k > len(c.buf) {
		return c.lines + 1
	}
	c.lines += bytes.Count(c.buf[:k], []byte{'\n'})
	c.buf = append(c.buf[:0], c.buf[k:]...)
	c.base = off
	return c.lines + 1
}
