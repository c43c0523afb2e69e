package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/vigil-sec/vigil/ingest"
)

// framer splits a syslog byte stream (TCP or TLS) into messages, RFC 6587.
// The connection's first frame decides: "DIGITS SP <" starts octet
// counting ("LEN MSG"), where a later frame without a count still runs to
// its newline; anything else is newline framing for the whole connection,
// so that a message starting with a number is never taken for a count.
type framer struct {
	r   *bufio.Reader
	max int    // largest message
	buf []byte // a newline frame longer than the reader's buffer
	// mode is the connection's framing, set by its first frame.
	mode framing
	// clock, when set, is told when the framer starts waiting for a
	// message and when one begins (for the idle and message timeouts).
	clock interface {
		await()
		begin()
	}
}

// frameError is a frame refused; the framer has resynchronised and the
// connection goes on.
type frameError struct {
	reason, detail string
}

func (e *frameError) Error() string { return e.detail }

// maxCountDigits: more digits than this cannot be a sane octet count.
const maxCountDigits = 10

// firstCountDigits: how many digits the first frame may start with and
// still be read as a (then refused) octet count.
const firstCountDigits = 32

type framing uint8

const (
	undecided framing = iota
	octetCounting
	newlines
)

func newFramer(r io.Reader, max int) *framer {
	return &framer{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next message (valid until the next call), a
// *frameError for a frame refused, or the reader's error (io.EOF at the
// end). A message cut short by the end of the stream is refused, and what
// followed its first line is framed again: an octet count that lied must
// not swallow the messages behind it.
func (f *framer) next() ([]byte, error) {
	if f.clock != nil {
		f.clock.await()
	}
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
	if f.clock != nil {
		f.clock.begin()
	}
	if f.mode == undecided {
		head := f.head(firstCountDigits)
		if i := bytes.IndexByte(head, ' '); i > 0 && i+1 < len(head) && head[i+1] == '<' {
			f.mode = octetCounting
		} else {
			f.mode = newlines
		}
	}
	if f.mode == newlines {
		return f.line()
	}
	head := f.head(maxCountDigits + 1)
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

// head peeks at the start of the next frame: an optional minus, up to
// maxDigits digits and, after them, two more bytes (the space and the
// message's first byte of an octet count). It reads no further than that
// tells, so a short message is not held waiting for bytes that may not
// come; at the end of the stream it is shorter.
func (f *framer) head(maxDigits int) []byte {
	var h []byte
	for n := 1; ; n++ {
		p, err := f.r.Peek(n)
		if err != nil {
			return p
		}
		h = p
		c := h[n-1]
		switch {
		case n == 1 && c == '-', c >= '0' && c <= '9':
			if n > maxDigits+1 {
				return h // too long for a count: the caller refuses it
			}
		case c == ' ' && n > 1:
			p, _ := f.r.Peek(n + 1)
			return p
		default:
			return h
		}
	}
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
			if !errors.Is(err, io.EOF) {
				// Cut off (a timeout, a reset): the message is not whole.
				return nil, &frameError{ReasonTruncated, "message cut off after " + strconv.Itoa(len(f.buf)) + " bytes (" + err.Error() + ")"}
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
