package journald

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// ExportDecoder decodes Journal Export Format records.
type ExportDecoder struct{ router }

// NewExport returns a journald export decoder.
func NewExport() decode.Decoder { return &ExportDecoder{} }

// Continues implements decode.Joiner: a record's lines run to the empty
// line after it. Framing drops empty lines and asks about the line after,
// so a new record is told by its first field, __CURSOR=, which journalctl
// writes first; an empty line inside a binary field's bytes continues it.
func (d *ExportDecoder) Continues(rec, line []byte) bool {
	if len(line) == 0 {
		_, _, open := scanExport(rec)
		return open
	}
	return !bytes.HasPrefix(line, []byte("__CURSOR="))
}

// scanExport walks rec's fields, calling fn (when not nil) with each; it
// returns the offset and reason of the first fault, or open when rec ends
// inside a binary field's bytes.
func scanExport(rec []byte) (off int, reason string, open bool) {
	return walkExport(rec, nil)
}

func walkExport(rec []byte, fn func(k, v string)) (int, string, bool) {
	i := 0
	for i < len(rec) {
		nl := bytes.IndexByte(rec[i:], '\n')
		end := len(rec)
		if nl >= 0 {
			end = i + nl
		}
		l := rec[i:end]
		if len(l) == 0 {
			i = end + 1
			continue
		}
		if eq := bytes.IndexByte(l, '='); eq >= 0 {
			if eq == 0 {
				return i, "a field without a name", false
			}
			if fn != nil {
				fn(view.String(l[:eq]), view.String(l[eq+1:]))
			}
			i = end + 1
			continue
		}
		// KEY\n, then the length as 64-bit little endian, the bytes, \n.
		start := end + 1
		if start+8 > len(rec) {
			return min(start, len(rec)), "binary field " + strconv.Quote(string(l)) + " without its 8-byte length", true
		}
		n := binary.LittleEndian.Uint64(rec[start:])
		if n > uint64(len(rec)) {
			return start, "binary field " + strconv.Quote(string(l)) + " longer than the record", true
		}
		data := start + 8
		if data+int(n) > len(rec) {
			return data, "binary field " + strconv.Quote(string(l)) + " cut short", true
		}
		if fn != nil {
			fn(view.String(l), view.String(rec[data:data+int(n)]))
		}
		i = data + int(n)
		if i < len(rec) {
			if rec[i] != '\n' {
				return i, "no newline after binary field " + strconv.Quote(string(l)), false
			}
			i++
		}
	}
	return 0, "", false
}

// Decode implements decode.Decoder.
func (d *ExportDecoder) Decode(rec []byte, ev *event.Event) error {
	for n := len(rec); n > 0 && rec[n-1] == '\n'; n = len(rec) {
		rec = rec[:n-1]
	}
	d.fields = d.fields[:0]
	off, reason, _ := walkExport(rec, func(k, v string) { d.fields = append(d.fields, field{k, v}) })
	if reason != "" {
		return fail(ExportFormat, off, "", reason)
	}
	if len(d.fields) == 0 {
		return fail(ExportFormat, 0, "", "empty journal record")
	}
	return d.fill(ExportFormat, ev)
}
