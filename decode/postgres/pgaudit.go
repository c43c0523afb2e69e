package postgres

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/view"
)

// audit is one pgaudit entry: the text after "AUDIT: ", CSV in pgaudit's
// column order (AUDIT_TYPE, STATEMENT_ID, SUBSTATEMENT_ID, CLASS, COMMAND,
// OBJECT_TYPE, OBJECT_NAME, STATEMENT, PARAMETER). pgaudit quotes a column
// holding a comma, quote or newline.
type audit struct {
	auditType, statementID, substatementID string
	class, command, objectType, objectName string
	statement, parameter                   string
}

func parseAudit(s string, buf *[]byte) audit {
	var a audit
	cols := [...]*string{&a.auditType, &a.statementID, &a.substatementID, &a.class, &a.command, &a.objectType, &a.objectName, &a.statement}
	for _, p := range cols {
		*p, s = csvColumn(s, buf)
		if s == "" {
			break
		}
	}
	a.parameter = s
	if a.parameter == "<not logged>" || a.parameter == "<none>" {
		a.parameter = ""
	}
	return a
}

// csvColumn splits off the first column of s: quoted (to the closing quote
// that is not doubled) or bare (to the next comma); rest starts after the
// comma. A quoted column with doubled quotes is undoubled into buf.
func csvColumn(s string, buf *[]byte) (col, rest string) {
	if !strings.HasPrefix(s, `"`) {
		if i := strings.IndexByte(s, ','); i >= 0 {
			return s[:i], s[i+1:]
		}
		return s, ""
	}
	doubled := false
	i := 1
	for ; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			doubled = true
			i++
			continue
		}
		break
	}
	col = s[1:min(i, len(s))]
	if i < len(s) {
		rest = strings.TrimPrefix(s[i+1:], ",")
	}
	if doubled {
		col = undouble(col, buf)
	}
	return col, rest
}

// undouble writes s with each "" made " to the end of buf and returns that
// part. A buf that grows leaves earlier strings on the old array, which
// stays alive and unchanged.
func undouble(s string, buf *[]byte) string {
	start := len(*buf)
	for i := 0; i < len(s); i++ {
		*buf = append(*buf, s[i])
		if s[i] == '"' && i+1 < len(s) && s[i+1] == '"' {
			i++
		}
	}
	return view.String((*buf)[start:])
}
