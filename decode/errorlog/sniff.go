package errorlog

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// SniffApache scores rec as an Apache error log line: a ctime stamp in
// brackets, then a [level] or [module:level] group. Access log lines have
// their stamp after the client, so the two never meet.
func SniffApache(rec []byte) int {
	if len(rec) < 30 || rec[0] != '[' {
		return 0
	}
	end := bytes.IndexByte(rec[:min(len(rec), 40)], ']')
	if end < 0 {
		return 0
	}
	if _, ok := apacheTime(view.String(rec[1:end]), nil); !ok {
		return 0
	}
	s := view.String(rec[end+1:])
	if !strings.HasPrefix(s, " [") {
		return 0
	}
	g, _, ok := strings.Cut(s[2:min(len(s), 64)], "]")
	if !ok {
		return 0
	}
	if _, lv, ok := strings.Cut(g, ":"); ok {
		g = lv
	}
	if !isLevel(g) {
		return 0
	}
	return 90
}

// SniffNginx scores rec as an nginx error log line: "yyyy/mm/dd
// hh:mm:ss [level] pid#tid: ".
func SniffNginx(rec []byte) int {
	s := view.String(rec[:min(len(rec), 64)])
	if _, ok := nginxTime(s, nil); !ok || len(s) < 22 || s[19] != ' ' || s[20] != '[' {
		return 0
	}
	j := strings.IndexByte(s[21:], ']')
	if j < 0 || !isLevel(s[21:21+j]) && s[21:21+j] != "stderr" {
		return 0
	}
	if k := strings.Index(s[21+j:], "#"); k < 0 || !strings.Contains(s[21+j:], ": ") {
		return 0
	}
	return 90
}
