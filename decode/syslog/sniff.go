package syslog

import "time"

// Sniff scores how much rec looks like syslog: a priority and an RFC 5424
// or RFC 3164 header is near certain; a bare BSD header (a log file) is
// likely, though format-specific decoders (sshd) claim theirs higher.
func Sniff(rec []byte) int {
	line := string(rec[:min(len(rec), 128)])
	m, err := parse(line, zeroTime, utc)
	if err != nil {
		return 0
	}
	switch {
	case m.pri >= 0 && m.version != "":
		return 90
	case m.pri >= 0 && !m.time.IsZero():
		return 80
	case m.pri >= 0:
		return 30
	default:
		return 50
	}
}

var (
	zeroTime time.Time
	utc      = time.UTC
)
