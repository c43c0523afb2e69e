package postgres

import (
	"strings"
	"unicode/utf8"
)

// text is s as a PostgreSQL text value can hold it: NUL bytes and invalid
// UTF-8 become U+FFFD. It is for the few text columns whose values may
// quote what a client or a log sent (the audit log's actor, target and
// detail: a refused request's address, a name); values from logs proper
// are bytea.
func text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
