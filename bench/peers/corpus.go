package main

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"strings"
)

// corpus reads JSON lines (plain or gzip) in chunks. A chunk's lines are
// views into one buffer that the next chunk reuses, so reading allocates
// nothing once warmed up.
type corpus struct {
	f     *os.File
	r     *bufio.Reader
	limit int // events, 0 for all
	n     int // events read so far
	buf   []byte
	lines [][]byte
	eof   bool
}

func openCorpus(path string, limit int) (*corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		r = zr
	}
	return &corpus{f: f, r: bufio.NewReaderSize(r, 1<<20), limit: limit}, nil
}

func (c *corpus) Close() error { return c.f.Close() }

// next reads up to size events; it returns the index of the first one and
// the lines, or no lines at the end.
func (c *corpus) next(size int) (first int, lines [][]byte, err error) {
	first = c.n
	c.buf, c.lines = c.buf[:0], c.lines[:0]
	var ends []int
	for len(ends) < size && !c.eof && (c.limit == 0 || c.n < c.limit) {
		line, err := c.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the reader's buffer: gather it whole.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = c.r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			return first, nil, err
		}
		line = trimEOL(line)
		if len(line) == 0 {
			continue
		}
		c.buf = append(c.buf, line...)
		ends = append(ends, len(c.buf))
		c.n++
	}
	start := 0
	for _, e := range ends {
		c.lines = append(c.lines, c.buf[start:e:e])
		start = e
	}
	return first, c.lines, nil
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
