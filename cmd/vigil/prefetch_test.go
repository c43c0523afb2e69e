package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file read ahead reads as openInput reads it, whatever its length
// against the chunks read ahead, plain or compressed.
func TestScanPrefetchReadsAsOpenInput(t *testing.T) {
	defer func(c, n int) { prefetchChunk, prefetchChunks = c, n }(prefetchChunk, prefetchChunks)
	prefetchChunk, prefetchChunks = 16, 3
	dir := t.TempDir()
	for _, size := range []int{0, 1, 15, 16, 47, 48, 49, 200, 5000} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte('a' + i%26)
			if i%10 == 9 {
				data[i] = '\n'
			}
		}
		plain := filepath.Join(dir, "plain.log")
		if err := os.WriteFile(plain, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(data)
		zw.Close()
		packed := filepath.Join(dir, "packed.log.gz")
		if err := os.WriteFile(packed, zb.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{plain, packed} {
			p := startPrefetch(name)
			if _, _, ok, _ := p.take("other"); ok {
				t.Fatal("took the reader for another file")
			}
			br, closeIn, ok, err := p.take(name)
			if !ok || err != nil {
				t.Fatalf("%s: take: %v %v", name, ok, err)
			}
			got, err := io.ReadAll(br)
			closeIn()
			p.stop()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s, %d bytes: read %d bytes (%v)", filepath.Base(name), size, len(got), err)
			}
			if _, _, ok, _ := p.take(name); ok {
				t.Error("the file was taken twice")
			}
		}
	}
}

// A file that cannot be opened gives openInput's error when the scan
// comes to it; one stopped half read closes the input without hanging.
func TestScanPrefetchErrorsAndStop(t *testing.T) {
	defer func(c, n int) { prefetchChunk, prefetchChunks = c, n }(prefetchChunk, prefetchChunks)
	prefetchChunk, prefetchChunks = 4, 2
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	_, _, want := openInput(missing, nil)
	p := startPrefetch(missing)
	_, _, ok, err := p.take(missing)
	if !ok || err == nil || err.Error() != want.Error() {
		t.Errorf("missing file: %v, want %v", err, want)
	}
	p.stop()

	name := filepath.Join(dir, "big.log")
	if err := os.WriteFile(name, bytes.Repeat([]byte("x\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startPrefetch(name)
	br, closeIn, _, _ := p.take(name)
	if _, err := br.ReadByte(); err != nil {
		t.Fatal(err)
	}
	closeIn()
	p.stop() // twice is fine
	select {
	case <-p.done:
	default:
		t.Error("reading ahead goes on after stop")
	}
}
