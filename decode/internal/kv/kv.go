// Package kv holds what the decoders of key=value payloads (CEF
// extensions, LEEF attributes) share: the pairs, and how they and the
// payload's header become fields.
package kv

import (
	"github.com/vigil-sec/vigil/decode/internal/view"
	"github.com/vigil-sec/vigil/event"
)

// Pair is one key=value of a payload; both alias the record or a
// decoder's buffer.
type Pair struct{ Key, Val string }

// SetFields stores the header fields head under names, leaving out empty
// ones, then the pairs under their keys.
func SetFields(f *event.Fields, names [][]byte, head []string, pairs []Pair) {
	for i, v := range head {
		if v != "" {
			f.SetName(names[i], v)
		}
	}
	for _, p := range pairs {
		f.SetName(view.Bytes(p.Key), p.Val)
	}
}
