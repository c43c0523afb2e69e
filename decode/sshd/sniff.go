package sshd

import (
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/decode"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as an auth.log line: a syslog header whose program is
// sshd scores high; another program's syslog line (sudo, CRON), which the
// decoder also reads, scores low so that a format made for it wins.
func Sniff(rec []byte) int {
	if len(rec) == 0 || len(rec) > 64<<10 {
		return 0
	}
	h, err := parseHeader(unsafe.String(unsafe.SliceData(rec), len(rec)), time.Now(), time.UTC)
	if err != nil {
		return 0
	}
	if h.program == "sshd" || h.program == "sshd-session" {
		return 90
	}
	return 20
}
