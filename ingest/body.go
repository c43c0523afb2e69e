package ingest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// bodySlack is read beyond a body's announced or allowed size, so that the
// read that finds the end of the body, or one byte too many, needs no
// further buffer.
const bodySlack = 512

// maxPooledBuffer: larger bodies get a buffer of their own, so that one
// large request does not pin its memory in the pool.
const maxPooledBuffer = 8 << 20

// Content types and encodings accepted, for 415 replies and the OpenAPI
// document.
var (
	mediaTypes = []string{
		"application/x-ndjson", "application/jsonl", "application/x-jsonlines",
		"application/json", "text/plain",
	}
	encodings = []string{"gzip", "identity"}
)

// mediaKind maps a Content-Type header to how its body is split.
func mediaKind(ct string) (bodyKind, error) {
	if ct == "" {
		return 0, fmt.Errorf("missing Content-Type; supported: %s", strings.Join(mediaTypes, ", "))
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, fmt.Errorf("bad Content-Type %q: %v; supported: %s", ct, err, strings.Join(mediaTypes, ", "))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, fmt.Errorf("charset %q not supported: bodies must be UTF-8", cs)
	}
	switch mt {
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines":
		return kindNDJSON, nil
	case "application/json":
		return kindJSON, nil
	case "text/plain":
		return kindText, nil
	}
	return 0, fmt.Errorf("unsupported Content-Type %q; supported: %s", mt, strings.Join(mediaTypes, ", "))
}

// gzipped reports whether the Content-Encoding header asks for gzip.
func gzipped(ce string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "", "identity":
		return false, nil
	case "gzip", "x-gzip":
		return true, nil
	}
	return false, fmt.Errorf("unsupported Content-Encoding %q; supported: %s", ce, strings.Join(encodings, ", "))
}

// reqState is what one request needs, pooled across requests.
type reqState struct {
	buf      []byte
	reserved int64  // bytes of h.inflight held for buf
	holder   holder // whose share reserved is taken from
	f        framer
}

var gzipReaders sync.Pool // *gzip.Reader

// defaultGzipWait is how long a gzip body waits for a decompression turn
// before it is pushed back: long enough to ride out a burst, short enough
// that a waiting request holds no connection for long.
const defaultGzipWait = 2 * time.Second

// gzipTurn takes one of the MaxDecompressions turns, waiting up to
// h.gzipWait; release gives it back. Inflating is where a small request
// turns into a large buffer, so the number at once is bounded apart from
// the bytes in flight.
func (h *Handler) gzipTurn(r *http.Request) (release func(), ref *refusal) {
	select {
	case h.gzipSlots <- struct{}{}:
	default:
		t := time.NewTimer(h.gzipWait)
		defer t.Stop()
		select {
		case h.gzipSlots <- struct{}{}:
		case <-t.C:
			return nil, &refusal{
				code:   http.StatusTooManyRequests,
				reason: reasonTooManyInflight,
				msg:    "too many gzip bodies being inflated at once (limit " + strconv.Itoa(cap(h.gzipSlots)) + "): retry later",
				retry:  true,
			}
		case <-r.Context().Done():
			return nil, &refusal{code: http.StatusServiceUnavailable, noMetric: true, msg: "request cancelled while waiting to inflate its body"}
		}
	}
	return func() { <-h.gzipSlots }, nil
}

// readBody reads the request body into st.buf, inflating gzip, never
// holding more than MaxBodyBytes (plus slack) of it: a gzip bomb is refused
// after MaxBodyBytes of output, not read to its end. What is read is
// reserved on the in-flight limiter, in steps, as it arrives.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, gz bool, st *reqState) *refusal {
	limit := h.cfg.MaxBodyBytes
	if r.ContentLength > int64(limit) { // even compressed it is too big
		return tooLarge(limit, false)
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, int64(limit))
	hint := int(r.ContentLength)
	if gz {
		release, ref := h.gzipTurn(r)
		if ref != nil {
			return ref
		}
		defer release()
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(rd)
		} else {
			err = zr.Reset(rd)
		}
		if err == io.EOF {
			return &refusal{code: http.StatusBadRequest, reason: reasonEmptyBody, msg: "empty body"}
		}
		if err != nil {
			return h.readError(err, limit, gz)
		}
		defer gzipReaders.Put(zr)
		rd = zr
		if hint > 0 {
			hint *= 4 // a guess: logs compress well, and the buffer grows if not
		}
	}

	// Reserve as the body arrives: a first step, then at most double each
	// time the reserved part is full, so that a request holds at most
	// twice what it has sent, or the first step. A declared length is not
	// reserved up front; it only caps the buffer, since the body cannot
	// be longer.
	target := limit + bodySlack
	if !gz && r.ContentLength >= 0 {
		target = min(target, int(r.ContentLength)+bodySlack)
	}
	first := min(target, firstStep)
	if hint <= 0 {
		first = min(first, 64<<10)
	} else if gz {
		first = min(first, hint+bodySlack)
	}
	buf := st.buf[:0]
	for {
		if len(buf) == int(st.reserved) {
			st.buf = buf
			if ref := h.reserveMore(st, first, target, limit, gz); ref != nil {
				return ref
			}
			buf = st.buf
		}
		n, err := rd.Read(buf[len(buf):st.reserved])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			st.buf = buf
			return tooLarge(limit, gz)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			st.buf = buf
			return h.readError(err, limit, gz)
		}
	}
	st.buf = buf
	return nil
}

// firstStep is the most a body reserves before it has sent anything.
const firstStep = 1 << 20

// reserveMore doubles st's reservation (first the first time), up to
// target, making st.buf large enough for it. A pooled buffer may be
// larger than its reservation: only the reserved part is read into.
func (h *Handler) reserveMore(st *reqState, first, target, limit int, gz bool) *refusal {
	n := min(max(2*int(st.reserved), first), target)
	if n <= len(st.buf) { // cannot happen: the body ends or is too large first
		return tooLarge(limit, gz)
	}
	if o := h.inflight.tryAcquire(st.holder, int64(n)-st.reserved); o != fits {
		return h.tooManyInflight(o)
	}
	h.m.inflight.Add(float64(int64(n) - st.reserved))
	st.reserved = int64(n)
	// When the body ends within one more doubling, the buffer is made
	// for all of it now, with room for a somewhat larger next body that
	// takes it from the pool (at most twice the reservation): a declared
	// 1.2 MB body was otherwise read into 1 MiB, then copied into a larger
	// buffer.
	c := n
	if target <= 2*n {
		c = min(2*n, target+target/8)
	}
	if cap(st.buf) < c {
		nb := make([]byte, len(st.buf), c)
		copy(nb, st.buf)
		st.buf = nb
	}
	return nil
}

func (h *Handler) tooManyInflight(o over) *refusal {
	msg := "too many bytes in flight (limit " + strconv.FormatInt(h.cfg.MaxInflightBytes, 10) + "): retry later"
	switch o {
	case overWorkspace:
		msg = "too many bytes in flight for this workspace (limit " + strconv.FormatInt(h.cfg.MaxInflightWorkspaceBytes, 10) + "): retry later"
	case overKey:
		msg = "too many bytes in flight for this API key (limit " + strconv.FormatInt(h.cfg.MaxInflightKeyBytes, 10) + "): retry later"
	}
	return &refusal{code: http.StatusTooManyRequests, reason: reasonTooManyInflight, msg: msg, retry: true}
}

func tooLarge(limit int, gz bool) *refusal {
	msg := "body larger than " + strconv.Itoa(limit) + " bytes"
	if gz {
		msg += " (after decompression)"
	}
	return &refusal{code: http.StatusRequestEntityTooLarge, reason: reasonBodyTooLarge, msg: msg + "; split it into smaller requests"}
}

func (h *Handler) readError(err error, limit int, gz bool) *refusal {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit, gz)
	}
	if gz {
		if err == io.ErrUnexpectedEOF {
			err = errors.New("truncated stream")
		}
		return &refusal{code: http.StatusBadRequest, reason: reasonBadGzip, msg: "bad gzip body: " + err.Error()}
	}
	return &refusal{code: http.StatusBadRequest, msg: "reading the body: " + err.Error()}
}
