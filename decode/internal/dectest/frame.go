package dectest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

// Frame splits testdata/name into records as ingest's text framing does:
// a line that is not empty, with the lines format's Joiner says continue
// it.
func Frame(tb testing.TB, name, format string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	j := decode.JoinerFor(format)
	var recs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Bytes()
		if n := len(recs); n > 0 && j != nil && j.Continues(recs[n-1], l) {
			recs[n-1] = append(append(recs[n-1], '\n'), l...)
			continue
		}
		if len(l) > 0 {
			recs = append(recs, append([]byte(nil), l...))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return recs
}

// Find returns the first of recs that holds all of subs.
func Find(tb testing.TB, recs [][]byte, subs ...string) []byte {
	tb.Helper()
next:
	for _, r := range recs {
		for _, s := range subs {
			if !bytes.Contains(r, []byte(s)) {
				continue next
			}
		}
		return r
	}
	tb.Fatalf("no record holds %q", subs)
	return nil
}
