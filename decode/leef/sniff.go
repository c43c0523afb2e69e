package leef

import "github.com/vigil-sec/vigil/decode/internal/sysloghdr"

// Sniff scores rec as LEEF: a "LEEF:" marker with a version and at least
// five pipes after it, within the first 512 bytes.
func Sniff(rec []byte) int {
	rest, ok := sysloghdr.AfterMarker(rec, marker)
	if !ok {
		return 0
	}
	if !sysloghdr.Versioned(rest, 5) {
		return 0
	}
	return 95
}
