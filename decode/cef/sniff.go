package cef

import "bytes"

// Sniff scores rec as CEF: a "CEF:" marker with a version and a pipe after
// it, within the first 512 bytes (after any syslog header).
func Sniff(rec []byte) int {
	head := rec
	if len(head) > 512 {
		head = head[:512]
	}
	i := bytes.Index(head, marker)
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(head[i+4:], " ")
	for bytes.HasPrefix(rest, marker) {
		rest = rest[4:]
	}
	if len(rest) < 2 || rest[0] < '0' || rest[0] > '9' || bytes.Count(rest, []byte("|")) < 6 {
		return 0
	}
	return 95
}
