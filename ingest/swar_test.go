package ingest

import (
	"encoding/binary"
	"testing"
)

func TestHasStrSpecialExhaustiveBytes(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\'
			if got := hasStrSpecial(binary.LittleEndian.Uint64(b[:])); got != want {
				t.Fatalf("byte %#x at %d: got %v want %v", c, pos, got, want)
			}
		}
	}
}
