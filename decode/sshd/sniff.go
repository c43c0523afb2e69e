package sshd

import (
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/decode/internal/view"
)

func init() { decode.RegisterSniffer(Format, Sniff) }

// Sniff scores rec as an auth.log line: a syslog header whose program is
// sshd scores high; another program's syslog line (sudo, CRON), which the
// decoder also reads, scores low so that a format made for it wins.
func Sniff(rec []byte) int {
	if len(rec) == 0 || len(rec) > 64<<10 {
		return 0
	}
	h, err := parseHeader(view.String(rec), time.Now(), time.UTC)
	if err != nil {
		return 0
	}
	if h.program == "sshd" || h.program == "sshd-session" {
		return 90
	}
	return 20
}
