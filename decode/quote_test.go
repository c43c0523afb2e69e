package decode

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestQuoteValueCut: a value quoted in an error reason is cut to a few
// dozen bytes (on a rune boundary) and says how long it was; a short one
// is quoted whole.
func TestQuoteValueCut(t *testing.T) {
	if got := QuoteValue("2026-13-01"); got != `"2026-13-01"` {
		t.Errorf("short value quoted as %s", got)
	}
	long := strings.Repeat("é", 500000)
	got := QuoteValue(long)
	if len(got) > 2*maxQuotedValue || !utf8.ValidString(got) || !strings.HasSuffix(got, `…" (1000000 bytes)`) {
		t.Errorf("long value quoted as %d bytes: %q", len(got), got)
	}
}
