package sqlite

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
	compZstd = 'z'
	compS2   = 's'
)

// maxBlockSize bounds what one block may decompress to: a guard against a
// corrupt or hostile row claiming gigabytes.
const maxBlockSize = 256 << 20

// codec compresses blocks with zstd at its fastest level: at about 1 KB per
// Windows event it keeps several hundred MB/s a core and shrinks the blocks
// severalfold more than s2 for a little more CPU. s2 blocks are read too.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (codec, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return codec{}, fmt.Errorf("block compressor: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(maxBlockSize))
	if err != nil {
		enc.Close()
		return codec{}, fmt.Errorf("block decompressor: %w", err)
	}
	return codec{enc: enc, dec: dec}, nil
}

func (c codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// compress appends the stored form of block to dst.
func (c codec) compress(dst, block []byte, kind byte) []byte {
	dst = append(dst, kind)
	if kind == compS2 {
		n := s2.MaxEncodedLen(len(block))
		dst = slices.Grow(dst, n)
		out := s2.Encode(dst[len(dst):len(dst)+n], block)
		return dst[:len(dst)+len(out)]
	}
	return c.enc.EncodeAll(block, dst)
}

// decompress returns the block encoding of a stored block.
func (c codec) decompress(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", errBlock)
	}
	switch data[0] {
	case compZstd:
		b, err := c.dec.DecodeAll(data[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", errBlock, err)
		}
		return b, nil
	case compS2:
		n, err := s2.DecodedLen(data[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", errBlock, err)
		}
		if n > maxBlockSize {
			return nil, fmt.Errorf("%w: s2 block of %d bytes", errBlock, n)
		}
		b, err := s2.Decode(nil, data[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: s2: %v", errBlock, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: unknown compression %q", errBlock, data[0])
}
