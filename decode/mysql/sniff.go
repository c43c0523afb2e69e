package mysql

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// sniffGeneral: an entry of the general log, or its banner.
func sniffGeneral(rec []byte) int {
	l := firstLine(view.String(rec))
	if isBanner(l) {
		return 80
	}
	if !startsEntry(l) {
		return 0
	}
	for _, c := range [...]string{" Connect\t", " Query\t", " Quit", " Init DB\t", " Execute\t", " Prepare\t"} {
		if strings.Contains(l, c) {
			return 90
		}
	}
	return 60
}

var auditOperations = [...]string{",CONNECT,", ",DISCONNECT,", ",FAILED_CONNECT,", ",QUERY,", ",READ,", ",WRITE,", ",CREATE,", ",ALTER,", ",DROP,", ",RENAME,", ",CHANGEUSER,"}

// sniffAudit: "YYYYMMDD HH:MM:SS," and one of the plugin's operations.
func sniffAudit(rec []byte) int {
	s := view.String(rec)
	if len(s) < 18 || s[8] != ' ' || s[17] != ',' || !digits(s[:8]) || s[11] != ':' {
		return 0
	}
	for _, op := range auditOperations {
		if strings.Contains(s, op) {
			return 95
		}
	}
	return 0
}
