package sysloghdr

import (
	"bytes"
	"time"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// The payload of a syslog-borne format (CEF, LEEF) starts at its marker
// ("CEF:", "LEEF:"); a relay's syslog header may stand in front of it
// (ParsePrefix reads it).

// Payload returns rec without its line end, as a string viewing rec's
// bytes, and where the first marker in it starts; ok is false when there
// is none.
func Payload(rec, marker []byte) (line string, start int, ok bool) {
	for n := len(rec); n > 0 && (rec[n-1] == '\n' || rec[n-1] == '\r'); n = len(rec) {
		rec = rec[:n-1]
	}
	start = bytes.Index(rec, marker)
	if start < 0 {
		return "", 0, false
	}
	return view.String(rec), start, true
}

// Prefix reads the syslog header in front of the payload of line that
// starts at start (ParsePrefix); a payload at 0 has none.
func Prefix(line string, start int, ref time.Time, loc *time.Location) Header {
	if start == 0 {
		return Header{}
	}
	return ParsePrefix(line[:start], ref, loc)
}

// AfterMarker returns what follows the first marker in the first 512
// bytes of rec, where the sniffers of these formats look; ok is false
// when there is no marker.
func AfterMarker(rec, marker []byte) (rest []byte, ok bool) {
	if len(rec) > 512 {
		rec = rec[:512]
	}
	i := bytes.Index(rec, marker)
	if i < 0 {
		return nil, false
	}
	return rec[i+len(marker):], true
}

// Versioned reports whether rest, what follows a marker, starts a payload
// header: a version number and, after it, at least pipes '|'s.
func Versioned(rest []byte, pipes int) bool {
	return len(rest) >= 2 && isDigit(rest[0]) && bytes.Count(rest, []byte("|")) >= pipes
}
