package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// bodyKind is how a body is split into records, from its Content-Type.
type bodyKind uint8

const (
	kindNDJSON bodyKind = iota // one JSON value a line
	kindJSON                   // an array, an envelope or one object
	kindText                   // one record a line, not JSON
)

func (k bodyKind) String() string {
	switch k {
	case kindNDJSON:
		return "ndjson"
	case kindJSON:
		return "json"
	default:
		return "text"
	}
}

// limits are the per-record checks.
type limits struct {
	maxLine  int
	maxField int
}

// framer splits a body into records and checks each. It is reused from
// request to request; records alias the body.
type framer struct {
	limits
	scan     jsonScanner
	recs     []event.Raw
	rejected []Rejection
	reasons  []reason // the metric label of each rejection, in step with rejected
	elems    []span
	// join, when the format has one, joins the lines of a text body that
	// continue a record (a multi-line SQL statement) into that record.
	join decode.Joiner
	// textLines counts the records of an NDJSON body rejected as lines of
	// text (textbody.go); firstText is the first, at line firstTextLine.
	textLines     int
	firstText     []byte
	firstTextLine int
}

func (f *framer) reset() {
	clear(f.recs) // drop references to the previous body
	f.recs = f.recs[:0]
	f.rejected = f.rejected[:0]
	f.reasons = f.reasons[:0]
	f.textLines, f.firstText, f.firstTextLine = 0, nil, 0
}

// errNoRecords: the body held nothing but whitespace, or an empty array.
var errNoRecords = errors.New("no records")

// frame splits body into f.recs and f.rejected. An error refuses the body as
// a whole: it is not valid as one JSON document, or it holds no record.
func (f *framer) frame(kind bodyKind, body []byte) error {
	f.reset()
	// A byte order mark, as some exporters write, is not part of the first
	// record whatever the content type.
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	switch kind {
	case kindJSON:
		if err := f.frameJSON(body); err != nil {
			return err
		}
	default:
		f.frameLines(kind, body)
	}
	if len(f.recs) == 0 && len(f.rejected) == 0 {
		return errNoRecords
	}
	return nil
}

// frameLines splits on '\n', dropping a trailing '\r'. Line numbers are the
// physical lines of the body, so that a client can find a rejected one;
// blank lines are skipped and not counted as records.
func (f *framer) frameLines(kind bodyKind, body []byte) {
	line := 0
	for len(body) > 0 {
		line++
		var rec []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			rec, body = body[:i], body[i+1:]
		} else {
			rec, body = body, nil
		}
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
		if blank(rec) {
			continue
		}
		first := line
		if kind == kindText && f.join != nil {
			// The record and the lines that continue it are contiguous in
			// body: extend rec over them. Its line is its first.
			rec, body, line = f.joinLines(rec, body, line)
		}
		if len(rec) > f.maxLine {
			f.reject(first, reasonLineTooLong, "line longer than "+strconv.Itoa(f.maxLine)+" bytes")
			continue
		}
		if kind == kindText {
			if f.checkUTF8(first, rec) {
				f.accept(first, rec)
			}
			continue
		}
		f.checkJSONRecord(line, rec, false)
	}
}

// joinLines extends rec, which ends where body's rest begins after one
// line end, over the following lines that f.join says continue it, and
// returns the record, the rest of the body and the number of the last line
// taken. A record that grows past the line limit stops growing: it is
// refused whole anyway.
func (f *framer) joinLines(rec, body []byte, line int) ([]byte, []byte, int) {
	for len(body) > 0 && len(rec) <= f.maxLine {
		next, rest := body, []byte(nil)
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			next, rest = body[:i], body[i+1:]
		}
		if n := len(next); n > 0 && next[n-1] == '\r' {
			next = next[:n-1]
		}
		if !f.join.Continues(rec, next) {
			break
		}
		// rec and next are views of one buffer: reslice rec to next's end.
		rec = rec[:cap(rec)-cap(next)+len(next)]
		body = rest
		line++
	}
	return rec, body, line
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// frameJSON takes an array of records, an envelope {"records": [...]}
// (Azure) or {"Records": [...]} (CloudTrail), or a single object. The body
// must be valid JSON as a whole; its elements are then checked one by one.
func (f *framer) frameJSON(body []byte) error {
	s := &f.scan
	s.reset(body, 0)
	i := skipRecordLines(body, s.ws(0))
	if i >= len(body) {
		return errNoRecords
	}
	var (
		end      int
		err      *syntaxError
		envelope bool
	)
	switch body[i] {
	case '[':
		s.elemDepth = 1
		end, err = s.array(i, 1, nil)
	case '{':
		end, envelope, err = f.envelope(i)
	default:
		return fmt.Errorf("a JSON body must be an array of records, an object, or an envelope {\"records\": [...]}; found %s at byte %d (a text log is sent with Content-Type: text/plain)", quoteByte(body[i], ""), i)
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if j := skipRecordLines(body, s.ws(end)); j < len(body) {
		if body[i] != '{' || envelope || body[j] != '{' {
			return fmt.Errorf("invalid JSON: %w", s.unexpected(j, "after the JSON value"))
		}
		return f.frameJSONSequence(body, i, end)
	}
	if body[i] == '{' && !envelope {
		f.checkJSONRecord(1, body[i:end], true)
		return nil
	}
	// Copy the extents out: checking a record re-uses the scanner.
	f.elems = append(f.elems[:0], s.elems...)
	for n, e := range f.elems {
		f.checkJSONRecord(n+1, body[e.start:e.end], true)
	}
	if len(f.elems) == 0 {
		return errNoRecords
	}
	return nil
}

// frameJSONSequence takes a body of objects one after another, as tools
// write them pretty-printed (evtx_dump's default output, with a "Record N"
// line before each): a record an object, at the line it starts on. The
// first object is body[start:end]; the body must be valid JSON object by
// object.
func (f *framer) frameJSONSequence(body []byte, start, end int) error {
	s := &f.scan
	type rec struct{ start, end int }
	recs := []rec{{start, end}}
	for i := skipRecordLines(body, s.ws(end)); i < len(body); i = skipRecordLines(body, s.ws(end)) {
		if body[i] != '{' {
			return fmt.Errorf("invalid JSON: %w", s.unexpected(i, "where an object of a sequence was expected"))
		}
		var err *syntaxError
		if end, err = s.object(i, 1); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		recs = append(recs, rec{i, end})
	}
	line, at := 1, 0
	for _, r := range recs {
		line += bytes.Count(body[at:r.start], []byte{'\n'})
		at = r.start
		f.checkJSONRecord(line, body[r.start:r.end], true)
	}
	return nil
}

// skipRecordLines passes over evtx_dump's "Record N" lines, and the
// whitespace after them, from i.
func skipRecordLines(b []byte, i int) int {
	for {
		rest, ok := bytes.CutPrefix(b[i:], []byte("Record "))
		if !ok {
			return i
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 || n < len(rest) && rest[n] != '\n' && rest[n] != '\r' {
			return i
		}
		i = skipWS(b, i+len("Record ")+n)
	}
}

// envelope scans the top-level object at i, collecting the elements of its
// "records" or "Records" array if it has one.
func (f *framer) envelope(i int) (end int, envelope bool, err *syntaxError) {
	s := &f.scan
	b := s.b
	i = s.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		return i + 1, false, nil
	}
	for {
		if i >= len(b) {
			return i, false, s.eof(i, "expected a field name")
		}
		if b[i] != '"' {
			return i, false, s.unexpected(i, "where a field name was expected")
		}
		kend, err := s.str(i)
		if err != nil {
			return kend, false, err
		}
		key := b[i+1 : kend-1]
		if i = s.ws(kend); i >= len(b) {
			return i, false, s.eof(i, "expected ':'")
		}
		if b[i] != ':' {
			return i, false, s.unexpected(i, "where ':' was expected")
		}
		i = s.ws(i + 1)
		if !envelope && i < len(b) && b[i] == '[' && (string(key) == "records" || string(key) == "Records") {
			envelope = true
			s.elemDepth = 2
			i, err = s.array(i, 2, key)
			s.elemDepth = 0
		} else {
			i, err = s.value(i, 1, key)
		}
		if err != nil {
			return i, false, err
		}
		if i = s.ws(i); i >= len(b) {
			return i, false, s.eof(i, "expected ',' or '}'")
		}
		switch b[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			return i + 1, envelope, nil
		default:
			return i, false, s.unexpected(i, "where ',' or '}' was expected")
		}
	}
}

// checkJSONRecord applies the per-record checks to one JSON record. When
// known valid (an element of a body validated as a whole), only a record
// long enough to hold an over-long field is scanned again.
func (f *framer) checkJSONRecord(line int, rec []byte, knownValid bool) {
	if len(rec) > f.maxLine {
		f.reject(line, reasonLineTooLong, "record longer than "+strconv.Itoa(f.maxLine)+" bytes")
		return
	}
	if !f.checkUTF8(line, rec) {
		return
	}
	maxField := f.maxField
	if len(rec) <= maxField {
		maxField = 0 // nothing in it can be longer
	}
	s := &f.scan
	if !knownValid || maxField > 0 {
		if err := s.validate(rec, maxField); err != nil {
			f.reject(line, reasonMalformedJSON, "invalid JSON: "+err.Error())
			if textLine(rec) {
				if f.textLines == 0 {
					f.firstText, f.firstTextLine = rec, line
				}
				f.textLines++
			}
			return
		}
	}
	if rec[skipWS(rec, 0)] != '{' {
		f.reject(line, reasonMalformedJSON, "not a JSON object: a record must be an object {...}")
		return
	}
	if s.long {
		f.reject(line, reasonFieldTooLong, f.longFieldReason())
		return
	}
	f.accept(line, rec)
}

func (f *framer) longFieldReason() string {
	s := &f.scan
	limit := strconv.Itoa(f.maxField)
	switch {
	case s.longKey == nil:
		return "string value longer than " + limit + " bytes"
	case s.longName:
		return "field name " + shortQuote(s.longKey) + " longer than " + limit + " bytes"
	default:
		return "field " + shortQuote(s.longKey) + " longer than " + limit + " bytes"
	}
}

// shortQuote quotes a field name for a reply, cut to a readable length.
func shortQuote(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

func (f *framer) checkUTF8(line int, rec []byte) bool {
	if utf8.Valid(rec) {
		return true
	}
	f.reject(line, reasonInvalidUTF8, "invalid UTF-8 at byte "+strconv.Itoa(invalidUTF8At(rec)))
	return false
}

// invalidUTF8At returns the offset of the first byte that is not part of a
// valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func (f *framer) accept(line int, rec []byte) {
	f.recs = append(f.recs, event.Raw{Data: rec, Line: line})
}

func (f *framer) reject(line int, r reason, msg string) {
	f.rejected = append(f.rejected, Rejection{Line: line, Reason: msg})
	f.reasons = append(f.reasons, r)
}
