package dectest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines returns the lines of the file at path that are not empty; a .gz
// file is read uncompressed. A file that is not there skips the test:
// shared data sets need not be checked out.
func Lines(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("%s not available (%v)", path, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			tb.Fatal(err)
		}
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// Records returns the records of testdata/name: the whole file for JSON,
// else its lines.
func Records(tb testing.TB, name string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	if strings.HasSuffix(name, ".json") {
		return [][]byte{b}
	}
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

// LineRecords returns the lines of the testdata files matching pattern
// that are not empty, one record each, in file order.
func LineRecords(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	var recs [][]byte
	for _, f := range files(tb, pattern) {
		for _, l := range Lines(tb, f) {
			recs = append(recs, []byte(l))
		}
	}
	return recs
}
