package sqlite

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/store"
)

// cursor is where a page ended: a number (a time or a row id) and, for ties,
// a string (an id). Its text form is opaque to clients and names its kind,
// so that an alert cursor is not taken for an event one.
type cursor struct {
	n int64
	m int64 // a second number where needed (nanoseconds of an event time)
	s string
}

func encodeCursor(kind string, c cursor) string {
	raw := kind + "|" + strconv.FormatInt(c.n, 10) + "|" + strconv.FormatInt(c.m, 10) + "|" + c.s
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(text, kind string) (cursor, error) {
	bad := fmt.Errorf("cursor %q: %w (not one this store gave for %s paging)", text, store.ErrInvalid, kind)
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return cursor{}, bad
	}
	parts := strings.SplitN(string(raw), "|", 4)
	if len(parts) != 4 || parts[0] != kind {
		return cursor{}, bad
	}
	var c cursor
	if c.n, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return cursor{}, bad
	}
	if c.m, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
		return cursor{}, bad
	}
	c.s = parts[3]
	return c, nil
}
