package store

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// A stored block starts with one byte naming its compression, so that the
// choice can change without rewriting old blocks.
const (
	BlockZstd = 'z'
	BlockS2   = 's'
)

// MaxEventBlockSize bounds what one block may decompress to: a guard against a
// corrupt or hostile row claiming gigabytes.
const MaxEventBlockSize = 256 << 20

// BlockCodec compresses event blocks with zstd at its fastest level: at about 1 KB per
// Windows event it keeps several hundred MB/s a core and shrinks the blocks
// severalfold more than s2 for a little more CPU. s2 blocks are read too.
type BlockCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// NewBlockCodec makes a codec; Close it when done.
func NewBlockCodec() (*BlockCodec, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("block compressor: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxEventBlockSize))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("block decompressor: %w", err)
	}
	return &BlockCodec{enc: enc, dec: dec}, nil
}

// Close releases the codec's encoder and decoder.
func (c *BlockCodec) Close() {
	c.enc.Close()
	c.dec.Close()
}

// Compress appends the stored form of block to dst, compressed as kind
// (BlockZstd or BlockS2).
func (c *BlockCodec) Compress(dst, block []byte, kind byte) []byte {
	dst = append(dst, kind)
	if kind == BlockS2 {
		n := s2.MaxEncodedLen(len(block))
		dst = slices.Grow(dst, n)
		out := s2.Encode(dst[len(dst):len(dst)+n], block)
		return dst[:len(dst)+len(out)]
	}
	return c.enc.EncodeAll(block, dst)
}

// Decompress returns the block encoding of a stored block.
func (c *BlockCodec) Decompress(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrEventBlock)
	}
	switch data[0] {
	case BlockZstd:
		b, err := c.dec.DecodeAll(data[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrEventBlock, err)
		}
		return b, nil
	case BlockS2:
		n, err := s2.DecodedLen(data[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrEventBlock, err)
		}
		if n > MaxEventBlockSize {
			return nil, fmt.Errorf("%w: s2 block of %d bytes", ErrEventBlock, n)
		}
		b, err := s2.Decode(nil, data[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", ErrEventBlock, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: unknown compression %q", ErrEventBlock, data[0])
}
