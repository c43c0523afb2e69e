package decode

import (
	"strconv"
	"unicode/utf8"
)

// maxQuotedValue is how much of a value an error reason quotes: enough to
// recognise it, not so much that a hostile field fills the quarantine.
const maxQuotedValue = 64

// QuoteValue quotes a record's value for an error reason: whole when
// short, else its first bytes (cut on a rune boundary) with an ellipsis
// and its length, e.g. "2026-11-…" (1048576 bytes).
func QuoteValue(s string) string {
	if len(s) <= maxQuotedValue {
		return strconv.Quote(s)
	}
	n := maxQuotedValue
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	q := strconv.Quote(s[:n] + "…")
	return q + " (" + strconv.Itoa(len(s)) + " bytes)"
}
