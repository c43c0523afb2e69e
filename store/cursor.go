package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Cursor is where a page ended: a number (a time or a row id), a second
// number where needed (nanoseconds of an event time, a priority) and, for
// ties, a string (an id). Implementations share its text form, so that a
// client's cursor means the same on either store.
type Cursor struct {
	N, M int64
	S    string
}

// EncodeCursor is c's text form for paging of kind ("event", "alert"…):
// opaque to clients, and naming its kind, so that an alert cursor is not
// taken for an event one.
func EncodeCursor(kind string, c Cursor) string {
	raw := kind + "|" + strconv.FormatInt(c.N, 10) + "|" + strconv.FormatInt(c.M, 10) + "|" + c.S
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads a cursor EncodeCursor gave for kind; any other text is
// ErrInvalid.
func DecodeCursor(text, kind string) (Cursor, error) {
	bad := fmt.Errorf("cursor %q: %w (not one this store gave for %s paging)", text, ErrInvalid, kind)
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.SplitN(string(raw), "|", 4)
	if len(parts) != 4 || parts[0] != kind {
		return Cursor{}, bad
	}
	var c Cursor
	if c.N, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return Cursor{}, bad
	}
	if c.M, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
		return Cursor{}, bad
	}
	c.S = parts[3]
	return c, nil
}

// PageLimit applies the paging default (100) and cap (1000) of the
// store's lists.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
