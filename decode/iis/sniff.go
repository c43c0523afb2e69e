package iis

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// Sniff scores rec as a W3C extended log line: IIS's #Software directive
// (95), another W3C directive (90), or an entry of IIS's default fields,
// "yyyy-mm-dd hh:mm:ss" and a method among the next six values (70); a
// line of the comma-separated IIS log file format (80).
func Sniff(rec []byte) int {
	s := view.String(rec[:min(len(rec), 512)])
	switch {
	case strings.HasPrefix(s, "#Software: Microsoft Internet Information Services"):
		return 95
	case strings.HasPrefix(s, "#Fields: ") && strings.Contains(s, "date") || strings.HasPrefix(s, "#Version: 1.0"):
		return 90
	case strings.HasPrefix(s, "#Software: ") || strings.HasPrefix(s, "#Date: "):
		return 60
	}
	if strings.Count(s, ", ") >= 13 {
		v := strings.SplitN(s, ", ", 5)
		if _, ok := nativeTime(v[2], v[3], nil); ok {
			return 80
		}
		return 0
	}
	if len(s) < 30 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return 0
	}
	if _, ok := stamp(s[:10], s[11:19]); !ok {
		return 0
	}
	f := strings.Fields(s[20:min(len(s), 120)])
	for _, w := range f[:min(len(f), 6)] {
		if isMethod(w) {
			return 70
		}
	}
	return 0
}

func isMethod(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return len(s) >= 3 && len(s) <= 12
}
