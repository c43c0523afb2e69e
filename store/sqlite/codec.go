package sqlite

import "github.com/vigil-sec/vigil/store"

// Compression kinds of stored blocks (store.BlockCodec).
const (
	compZstd = store.BlockZstd
	compS2   = store.BlockS2
)

// codec is the store's block codec (store.BlockCodec).
type codec struct{ *store.BlockCodec }

func newCodec() (codec, error) {
	c, err := store.NewBlockCodec()
	return codec{c}, err
}

func (c codec) close() { c.Close() }

func (c codec) compress(dst, block []byte, kind byte) []byte { return c.Compress(dst, block, kind) }

func (c codec) decompress(data []byte) ([]byte, error) { return c.Decompress(data) }
