package haproxy

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/clf"
	"github.com/vigil-sec/vigil/decode/internal/view"
)

// Sniff scores rec as a HAProxy log line: a client address:port, then
// [accept_date], then a frontend and backend/server and a timer set (95
// after a "haproxy[pid]:" tag, else 85); the default format's "Connect
// from" after that tag (90).
func Sniff(rec []byte) int {
	s := view.String(rec[:min(len(rec), 400)])
	open := acceptDate(s)
	if open < 9 {
		if j := strings.Index(s, "]: Connect from "); j > 0 && strings.Contains(s[:j], "haproxy[") {
			return 90
		}
		return 0
	}
	head := strings.TrimRight(s[:open], " ")
	cl := head[strings.LastIndexByte(head, ' ')+1:]
	if j := strings.LastIndexByte(cl, ':'); j < 1 || !digits(cl[j+1:]) {
		return 0
	}
	if _, _, ok := clf.Stamp(s[open+1:], nil); !ok {
		return 0
	}
	rest := s[open+1:]
	e := strings.IndexByte(rest, ']')
	if e < 0 {
		return 0
	}
	w := strings.Fields(rest[e+1 : min(len(rest), e+200)])
	if len(w) < 3 || !strings.Contains(w[1], "/") || strings.Count(w[2], "/") < 2 {
		return 0
	}
	if strings.Contains(head, "haproxy[") {
		return 95
	}
	return 85
}
