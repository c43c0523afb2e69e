package query

import "strings"

// Characters that a canonical form escapes with a backslash, where they
// would otherwise end a word or mean something.
const (
	blanks       = " \t\r\n\f\v"
	valueSpecial = blanks + `\()"*?`
	bareSpecial  = valueSpecial + ":"
	fieldSpecial = bareSpecial
	boundSpecial = blanks + `\()"[]{}`
	// leadSpecial starts a range or a comparison when it opens a value
	// (and - a negation when it opens a bare term).
	leadSpecial = "[{<>"
)

func appendEscaped(b []byte, s, special string) []byte {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}

// appendQuoted appends s in double quotes; only " and \ are escaped
// inside.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s, `"\`)
	return append(b, '"')
}
