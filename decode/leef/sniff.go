package leef

import "bytes"

// Sniff scores rec as LEEF: a "LEEF:" marker with a version and at least
// five pipes after it, within the first 512 bytes.
func Sniff(rec []byte) int {
	head := rec
	if len(head) > 512 {
		head = head[:512]
	}
	i := bytes.Index(head, marker)
	if i < 0 {
		return 0
	}
	rest := head[i+len(marker):]
	if len(rest) < 2 || rest[0] < '0' || rest[0] > '9' || bytes.Count(rest, []byte("|")) < 5 {
		return 0
	}
	return 95
}
