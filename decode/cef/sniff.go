package cef

import (
	"bytes"

	"github.com/vigil-sec/vigil/decode/internal/sysloghdr"
)

// Sniff scores rec as CEF: a "CEF:" marker with a version and a pipe after
// it, within the first 512 bytes (after any syslog header).
func Sniff(rec []byte) int {
	rest, ok := sysloghdr.AfterMarker(rec, marker)
	if !ok {
		return 0
	}
	rest = bytes.TrimLeft(rest, " ")
	for bytes.HasPrefix(rest, marker) {
		rest = rest[4:]
	}
	if !sysloghdr.Versioned(rest, 6) {
		return 0
	}
	return 95
}
