package ingest

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// A body that stalls, or trickles slower than MinBodyRate, would hold its
// connection and its share of the in-flight budget for as long as its
// sender likes. bodyDeadline gives it BodyTimeout plus the time the
// minimum rate allows for what it has sent, through the connection's read
// deadline (http.ResponseController), and then cuts it.

// extendEvery is how many bytes a body sends between two moves of its
// deadline: a read deadline is not free to set.
const extendEvery = 64 << 10

type deadline struct {
	rc      *http.ResponseController
	body    io.ReadCloser
	start   time.Time
	grace   time.Duration
	rate    int64 // bytes a second; 0: the grace is for the whole body
	n, next int64 // bytes read; when to move the deadline next
	expired atomic.Bool
	on      bool // a deadline was set and must be cleared
}

// bodyDeadline sets r's read deadline and wraps r.Body to move it as the
// body arrives. With BodyTimeout off, or a connection that cannot take a
// deadline, it does nothing.
func (h *Handler) bodyDeadline(w http.ResponseWriter, r *http.Request) *deadline {
	d := &deadline{rc: http.NewResponseController(w), body: r.Body, start: time.Now(), grace: h.cfg.BodyTimeout, rate: h.cfg.MinBodyRate}
	if d.grace <= 0 || r.Body == nil || r.Body == http.NoBody {
		return d
	}
	if err := d.rc.SetReadDeadline(d.start.Add(d.grace)); err != nil {
		h.cfg.Logger.Debug("ingest body timeout not applied", "err", err)
		return d
	}
	d.on, d.next = true, extendEvery
	r.Body = d
	return d
}

func (d *deadline) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	d.n += int64(n)
	if d.rate > 0 && d.n >= d.next {
		d.next = d.n + extendEvery
		allowed := time.Duration(float64(d.n) / float64(d.rate) * float64(time.Second))
		d.rc.SetReadDeadline(d.start.Add(d.grace + allowed))
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		d.expired.Store(true)
	}
	return n, err
}

func (d *deadline) Close() error { return d.body.Close() }

// stop puts r's body back and, once the body is read whole, clears the
// deadline, so that it cannot cut the connection while the request is
// published (the server reads on in the background to notice a client
// that goes away). A body not read whole keeps it: what the server may
// still read of it is bounded too. stop reports whether the body was cut.
func (d *deadline) stop(r *http.Request, whole bool) bool {
	if !d.on {
		return false
	}
	r.Body = d.body
	if whole {
		d.rc.SetReadDeadline(time.Time{})
	}
	return d.expired.Load()
}

// bodyTimedOut is the refusal of a body cut by its deadline.
func (h *Handler) bodyTimedOut(d *deadline) *refusal {
	msg := "the request body was not sent in time: " + strconv.FormatInt(d.n, 10) + " bytes in " +
		time.Since(d.start).Round(time.Millisecond).String() + "; a body may take " + d.grace.String()
	if d.rate > 0 {
		msg += " plus 1 s for each " + strconv.FormatInt(d.rate, 10) + " bytes sent"
	}
	return &refusal{code: http.StatusRequestTimeout, reason: reasonBodyTimeout, msg: msg}
}
