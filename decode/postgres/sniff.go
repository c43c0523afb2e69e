package postgres

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// sniffStderr: a stamp first and a severity after it is PostgreSQL's
// stderr log; a severity after "[pid]" without a stamp, probably.
func sniffStderr(rec []byte) int {
	line, _ := cutLine(view.String(rec))
	h, ok := splitSeverity(line)
	if !ok {
		return 0
	}
	p := line[:h.start]
	switch {
	case len(p) >= 19 && p[4] == '-' && p[10] == ' ' && p[13] == ':' && strings.Contains(p, "["):
		return 90
	case len(p) >= 19 && p[4] == '-' && p[10] == ' ' && p[13] == ':':
		return 75
	case strings.Contains(p, "[") && strings.Contains(p, "]"):
		return 50
	}
	return 0
}

var csvSeverities = [...]string{",LOG,", ",ERROR,", ",FATAL,", ",WARNING,", ",NOTICE,", ",PANIC,", ",INFO,", ",DEBUG"}

// sniffCSV: a %m stamp, then a comma, then a severity column and a
// SQLSTATE after it.
func sniffCSV(rec []byte) int {
	if len(rec) < 24 || rec[4] != '-' || rec[10] != ' ' || rec[13] != ':' {
		return 0
	}
	i := bytes.IndexByte(rec, ',')
	if i < 19 || i > 40 {
		return 0
	}
	for _, s := range csvSeverities {
		if j := bytes.Index(rec, []byte(s)); j > 0 {
			return 90
		}
	}
	return 0
}

// sniffJSON: jsonlog's own keys.
func sniffJSON(rec []byte) int {
	if len(rec) == 0 || rec[0] != '{' {
		return 0
	}
	if bytes.Contains(rec, []byte(`"error_severity":`)) && bytes.Contains(rec, []byte(`"backend_type":`)) && bytes.HasPrefix(rec, []byte(`{"timestamp":`)) {
		return 95
	}
	return 0
}
