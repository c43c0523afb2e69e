package accesslog

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode/internal/clf"
)

// Sniff scores rec as an access log line: a "[dd/Mon/yyyy:hh:mm:ss"
// stamp after at least three words, then a quoted request.
func Sniff(rec []byte) int {
	if len(rec) > 0 && rec[0] == '"' {
		rec = rec[1:]
	}
	open := bytes.IndexByte(rec, '[')
	if open < 5 || open > 300 || bytes.Count(rec[:open], []byte(" ")) < 3 {
		return 0
	}
	s := rec[open+1:]
	if len(s) < 22 || s[2] != '/' || s[6] != '/' || s[11] != ':' {
		return 0
	}
	if _, _, ok := clf.Stamp(string(s[:min(len(s), 32)]), nil); !ok {
		return 0
	}
	if close := bytes.IndexByte(s, ']'); close < 0 || bytes.IndexByte(s[close:], '"') < 0 {
		return 0
	}
	return 85
}
