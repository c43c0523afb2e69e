package sqlite

import "github.com/vigil-sec/vigil/store"

// cursor is where a page ended (store.Cursor, whose text form both stores
// share).
type cursor struct {
	n int64
	m int64 // a second number where needed (nanoseconds of an event time)
	s string
}

func encodeCursor(kind string, c cursor) string {
	return store.EncodeCursor(kind, store.Cursor{N: c.n, M: c.m, S: c.s})
}

func decodeCursor(text, kind string) (cursor, error) {
	c, err := store.DecodeCursor(text, kind)
	return cursor{n: c.N, m: c.M, s: c.S}, err
}
