package dectest

import (
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

// Registered checks that decode.New(format) gives a D: the decoder's own
// type, or decode.Expander for one that expands.
func Registered[D any](t *testing.T, format string) {
	t.Helper()
	d, err := decode.New(format)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(D); !ok {
		t.Errorf("decode.New(%q) gave a %T, want a %v", format, d, reflect.TypeFor[D]())
	}
}

// Sniffed checks that decode.Sniff, with every sniffer registered, names
// format for each record.
func Sniffed(t *testing.T, format string, recs [][]byte) {
	t.Helper()
	for _, rec := range recs {
		if f, score := decode.Sniff(rec); f != format {
			t.Errorf("%.60q: sniffed as %q (%d), want %q", rec, f, score, format)
		}
	}
}
