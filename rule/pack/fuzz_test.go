package pack

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadArchive: no archive, however broken, panics the reader or
// yields a path that leaves the pack.
func FuzzReadArchive(f *testing.F) {
	t := &testing.T{}
	f.Add(zipOf(t, packFiles(), nil), "p.zip")
	f.Add(tgzOf(t, packFiles(), nil), "p.tgz")
	f.Add([]byte("title: x\n"), "x.yml")
	f.Add([]byte("PK\x05\x06"+strings.Repeat("\x00", 18)), "e.zip")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		src, err := ReadArchive(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			return
		}
		for _, f := range src.Files {
			if p, ok := safePath(f.Path); !ok || p != f.Path {
				t.Fatalf("unsafe path %q read", f.Path)
			}
		}
		_, _ = selectFiles(src, Selection{MinLevel: "high"})
	})
}
