package sqlite

import "github.com/vigil-sec/vigil/store"

// Event blocks are encoded and compressed by package store
// (store.AppendEventBlock, store.BlockCodec), which the PostgreSQL store
// shares; these names keep the SQLite store's code as it reads.

var errBlock = store.ErrEventBlock

func encodeBlock(b []byte, evs []store.StoredEvent) []byte { return store.AppendEventBlock(b, evs) }

func decodeBlock(b []byte, ws string) ([]store.StoredEvent, error) {
	return store.DecodeEventBlock(b, ws)
}
