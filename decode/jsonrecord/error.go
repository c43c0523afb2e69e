package jsonrecord

import (
	stdjson "encoding/json"
	"errors"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
)

// SyntaxError turns a fastjson parse error on rec into a *decode.Error with
// the byte offset of the fault. fastjson does not report offsets, so the
// record is parsed again with encoding/json; that is slow, but only bad
// records take this path.
func SyntaxError(format string, rec []byte, err error) *decode.Error {
	var raw stdjson.RawMessage
	var se *stdjson.SyntaxError
	if e := stdjson.Unmarshal(rec, &raw); errors.As(e, &se) {
		off := int(se.Offset) - 1 // Offset counts the bytes read, the fault is the last one
		if off < 0 {
			off = 0
		}
		return &decode.Error{Format: format, Offset: off, Reason: "invalid JSON: " + se.Error()}
	}
	// encoding/json accepted what fastjson refused (nesting deeper than
	// fastjson.MaxDepth, for one).
	return &decode.Error{Format: format, Offset: -1, Reason: "invalid JSON: " + err.Error()}
}

// ObjectError says that rec holds JSON of another type than an object.
func ObjectError(format string, rec []byte, v *fastjson.Value) *decode.Error {
	off := 0
	for off < len(rec) && (rec[off] == ' ' || rec[off] == '\t' || rec[off] == '\r' || rec[off] == '\n') {
		off++
	}
	return &decode.Error{Format: format, Offset: off, Reason: "record is a JSON " + v.Type().String() + ", want an object"}
}
