package main

import (
	"bufio"
	"errors"
	"io"
)

// prefetch reads the start of a scan's first file — opened, and
// decompressed, as openInput does — while the rules load and compile.
// Compiling is one core's work: on a machine with more, decompressing the
// first megabytes of the input beside it takes that off the scan. Up to
// prefetchChunks chunks are read ahead; the scan reads them, then the
// rest of the file as it is.
type prefetch struct {
	name    string
	chunks  chan []byte
	stopped chan struct{}
	done    chan struct{} // closed when the goroutine ends
	// Set by the goroutine before it closes chunks (err, rest, closeIn)
	// or before startPrefetch returns (openErr).
	err     error         // how reading ended, when it did
	rest    *bufio.Reader // the input past the chunks, when it did not
	closeIn func()
	openErr error
	used    bool

	cur []byte // what Read has not handed out of the current chunk
}

// How much is read ahead (variables for the tests).
var (
	prefetchChunk  = 1 << 20
	prefetchChunks = 32
)

// startPrefetch opens name and starts reading it ahead; the caller must
// stop it.
func startPrefetch(name string) *prefetch {
	p := &prefetch{name: name, chunks: make(chan []byte, prefetchChunks), stopped: make(chan struct{}), done: make(chan struct{})}
	br, closeIn, err := openInput(name, nil)
	if err != nil {
		p.openErr = err
		close(p.chunks)
		close(p.done)
		return p
	}
	p.closeIn = closeIn
	go func() {
		defer close(p.done)
		defer close(p.chunks)
		for range prefetchChunks {
			buf := make([]byte, prefetchChunk)
			n, err := io.ReadFull(br, buf)
			if n > 0 {
				p.chunks <- buf[:n] // never blocks: chunks has room for them all
			}
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = io.EOF
				}
				p.err = err
				return
			}
			select {
			case <-p.stopped:
				p.err = errPrefetchStopped
				return
			default:
			}
		}
		p.rest = br
	}()
	return p
}

var errPrefetchStopped = errors.New("reading stopped")

// take returns what openInput returns for name, when name is the file
// read ahead and was not taken yet (a file named twice is read twice).
func (p *prefetch) take(name string) (br *bufio.Reader, closeIn func(), ok bool, err error) {
	if p == nil || p.used || name != p.name {
		return nil, nil, false, nil
	}
	p.used = true
	if p.openErr != nil {
		return nil, nil, true, p.openErr
	}
	return bufio.NewReaderSize(p, 1<<20), p.stop, true, nil
}

// Read hands out the chunks read ahead, then the rest of the input.
func (p *prefetch) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		c, ok := <-p.chunks
		if !ok {
			if p.rest != nil {
				return p.rest.Read(b)
			}
			return 0, p.err
		}
		p.cur = c
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// stop ends the reading ahead and closes the input; it may be called
// more than once.
func (p *prefetch) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.stopped:
		return
	default:
		close(p.stopped)
	}
	<-p.done
	if p.closeIn != nil {
		p.closeIn()
	}
}
