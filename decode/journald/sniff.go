package journald

import (
	"bytes"
)

// Sniff scores rec as a `journalctl -o json` record: an object with
// __REALTIME_TIMESTAMP or __CURSOR, and MESSAGE or _HOSTNAME.
func Sniff(rec []byte) int {
	head := rec[:min(len(rec), 4096)]
	if len(head) == 0 || head[0] != '{' {
		return 0
	}
	if !bytes.Contains(head, []byte(`"__REALTIME_TIMESTAMP"`)) && !bytes.Contains(head, []byte(`"__CURSOR"`)) {
		return 0
	}
	if bytes.Contains(rec, []byte(`"MESSAGE"`)) || bytes.Contains(head, []byte(`"_HOSTNAME"`)) {
		return 95
	}
	return 60
}

// SniffExport scores rec as a Journal Export Format record, or as a line
// of one (sniffing reads a file's first lines one by one): __CURSOR= first
// and __REALTIME_TIMESTAMP= in it is near certain; a line of the journal's
// own fields (__CURSOR=, __REALTIME_TIMESTAMP=, _BOOT_ID=…) likely.
func SniffExport(rec []byte) int {
	switch {
	case bytes.HasPrefix(rec, []byte("__CURSOR=")):
		if bytes.Contains(rec[:min(len(rec), 4096)], []byte("\n__REALTIME_TIMESTAMP=")) {
			return 95
		}
		return 85
	case bytes.HasPrefix(rec, []byte("__REALTIME_TIMESTAMP=")), bytes.HasPrefix(rec, []byte("__MONOTONIC_TIMESTAMP=")),
		bytes.HasPrefix(rec, []byte("__SEQNUM")), bytes.HasPrefix(rec, []byte("_BOOT_ID=")):
		return 80
	}
	// another trusted field: _PID=, _HOSTNAME=, _SYSTEMD_UNIT=…
	if len(rec) > 2 && rec[0] == '_' {
		eq := bytes.IndexByte(rec, '=')
		if eq < 2 {
			return 0
		}
		for _, c := range rec[:eq] {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
				return 0
			}
		}
		return 60
	}
	return 0
}
