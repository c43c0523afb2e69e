package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/vigil-sec/vigil/ingest"
)

// framer splits a syslog byte stream (TCP or TLS) into messages, RFC 6587:
// a frame that starts with digits and a space is octet-counted ("LEN MSG"),
// anything else runs to the next newline. The two may mix on one
// connection.
type framer struct {
	r   *bufio.Reader
	max int    // largest message
	buf []byte // a newline frame longer than the reader's buffer
}

// frameError is a frame refused; the framer has resynchronised and the
// connection goes on.
type frameError struct {
	reason, detail string
}

func (e *frameError) Error() string { return e.detail }

// maxCountDigits: more digits than this cannot be a sane octet count.
const maxCountDigits = 10

func newFramer(r io.Reader, max int) *framer {
	return &framer{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next message (valid until the next call), a
// *frameError for a frame refused, or the reader's error (io.EOF at the
// end). A message cut short by the end of the stream is refused, and what
// followed its first line is framed again: an octet count that lied must
// not swallow the messages behind it.
func (f *framer) next() ([]byte, error) {
	// Separators between frames: some senders end octet-counted frames
	// with a newline too.
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c != '\n' && c != '\r' && c != 0 {
			_ = f.r.UnreadByte()
			break
		}
	}
	head, _ := f.r.Peek(maxCountDigits + 2) // short at the end of the stream: fine
	neg := len(head) > 0 && head[0] == '-'
	digits := head
	if neg {
		digits = head[1:]
	}
	n := 0
	for n < len(digits) && digits[n] >= '0' && digits[n] <= '9' {
		n++
	}
	if n > maxCountDigits {
		// An absurd count, or a number that is not one: not a message
		// either way.
		f.discardLine()
		return nil, &frameError{ReasonOctetCount, "octet count longer than " + strconv.Itoa(maxCountDigits) + " digits; frame skipped up to the next newline"}
	}
	if n > 0 && n < len(digits) && digits[n] == ' ' {
		count, _ := strconv.Atoi(string(digits[:n]))
		if neg {
			f.discardLine()
			return nil, &frameError{ReasonOctetCount, "negative octet count -" + string(digits[:n]) + "; frame skipped up to the next newline"}
		}
		if count == 0 || count > f.max {
			f.discardLine()
			return nil, &frameError{ReasonOctetCount, "octet count " + string(digits[:n]) + " outside 1.." + strconv.Itoa(f.max) + "; frame skipped up to the next newline"}
		}
		_, _ = f.r.Discard(n + 1)
		return f.counted(count)
	}
	return f.line()
}

// counted reads an octet-counted message of n bytes.
func (f *framer) counted(n int) ([]byte, error) {
	if cap(f.buf) < n {
		f.buf = make([]byte, n)
	}
	msg := f.buf[:n]
	got, err := io.ReadFull(f.r, msg)
	if err == nil {
		return trimEOL(msg), nil
	}
	// Cut short. Keep what came after the first line for framing again;
	// the rest of the stream is gone, so that is all there is.
	partial := msg[:got]
	rest := []byte(nil)
	if i := bytes.IndexByte(partial, '\n'); i >= 0 {
		rest = append(rest, partial[i+1:]...)
	}
	f.r = bufio.NewReaderSize(bytes.NewReader(rest), 64<<10)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil, &frameError{ReasonTruncated, "octet count " + strconv.Itoa(n) + " but the stream ended after " + strconv.Itoa(got) + " bytes; the frame's first line is refused, the rest is framed again"}
	}
	return nil, &frameError{ReasonTruncated, "octet-counted frame of " + strconv.Itoa(n) + " bytes cut off after " + strconv.Itoa(got) + " (" + err.Error() + "); the frame's first line is refused, the rest is framed again"}
}

// line reads a newline-framed message; a last line without a newline ends
// at the end of the stream.
func (f *framer) line() ([]byte, error) {
	f.buf = f.buf[:0]
	for {
		chunk, err := f.r.ReadSlice('\n')
		switch {
		case err == nil:
			if len(f.buf) == 0 {
				return f.check(trimEOL(chunk))
			}
			f.buf = append(f.buf, chunk...)
			return f.check(trimEOL(f.buf))
		case errors.Is(err, bufio.ErrBufferFull):
			if len(f.buf)+len(chunk) > f.max+2 {
				f.discardLine()
				return nil, &frameError{ReasonTooLong, "message longer than " + strconv.Itoa(f.max) + " bytes; skipped up to the next newline"}
			}
			f.buf = append(f.buf, chunk...)
		default: // the end of the stream (or a broken connection)
			f.buf = append(f.buf, chunk...)
			if len(f.buf) == 0 {
				return nil, err
			}
			// Deliver the last line now; the error returns on the next call.
			return f.check(trimEOL(f.buf))
		}
	}
}

func (f *framer) check(msg []byte) ([]byte, error) {
	if len(msg) > f.max {
		return nil, &frameError{ReasonTooLong, "message of " + strconv.Itoa(len(msg)) + " bytes is longer than " + strconv.Itoa(f.max)}
	}
	return msg, nil
}

// discardLine skips to just after the next newline (or the end of the
// stream), to find the start of the next frame.
func (f *framer) discardLine() {
	for {
		_, err := f.r.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// Reasons, re-exported for brevity.
const (
	ReasonOctetCount = ingest.ReasonOctetCount
	ReasonTruncated  = ingest.ReasonTruncated
	ReasonTooLong    = ingest.ReasonTooLong
)
