package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/ingest"
)

// serveStream accepts TCP or TLS connections, one goroutine each, until ctx
// ends; then it closes them and waits for their last messages. A
// connection over MaxConnections, or over its address's
// MaxConnectionsPerAddress, is closed at once and counted.
func (r *Receiver) serveStream(ctx context.Context) error {
	var (
		mu      sync.Mutex
		conns   = map[net.Conn]struct{}{}
		perAddr = map[netip.Prefix]int{}
		wg      sync.WaitGroup
		refusal refusalLog
	)
	stop := context.AfterFunc(ctx, func() {
		r.ln.Close()
		mu.Lock()
		for c := range conns {
			// Unblock reads; what was read is still framed and stored.
			_ = c.SetReadDeadline(time.Now())
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	defer r.ln.Close()
	pubCtx, cancel := ingest.Draining(ctx)
	defer cancel()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond) // out of file descriptors: let some close
				continue
			}
			return fmt.Errorf("syslog receiver %s: accept: %w", r.cfg.Name, err)
		}
		from := senderOf(c.RemoteAddr())
		refused := ""
		mu.Lock()
		switch {
		case len(conns) >= r.cfg.MaxConnections:
			refused = ingest.RefusedTooMany
		case perAddr[from] >= r.cfg.MaxConnectionsPerAddress:
			refused = ingest.RefusedTooManyAddress
		default:
			conns[c] = struct{}{}
			perAddr[from]++
		}
		mu.Unlock()
		if refused != "" {
			c.Close()
			r.m.Refuse(refused)
			refusal.note(r, refused, c.RemoteAddr())
			continue
		}
		r.m.Conns.Inc()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				if perAddr[from]--; perAddr[from] == 0 {
					delete(perAddr, from)
				}
				mu.Unlock()
				c.Close()
				r.m.Conns.Dec()
			}()
			if ctx.Err() != nil {
				return
			}
			r.serveConn(ctx, pubCtx, c)
		})
	}
}

// senderOf is the sender a connection counts against: its IP address, or
// its /64 for IPv6, which one host usually has whole.
func senderOf(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap()
	bits := ip.BitLen()
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// refusalLog logs refused connections at most every refusalLogEvery, with
// the count since: a flood of them must not flood the log too.
type refusalLog struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

const refusalLogEvery = 10 * time.Second

func (l *refusalLog) note(r *Receiver, reason string, from net.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if time.Since(l.last) < refusalLogEvery {
		return
	}
	r.log.Warn("syslog connections refused", "reason", reason, "latest_from", from.String(), "refused", l.count,
		"max_connections", r.cfg.MaxConnections, "max_connections_per_address", r.cfg.MaxConnectionsPerAddress)
	l.last, l.count = time.Now(), 0
}

// serveConn frames one connection's messages into the batcher.
func (r *Receiver) serveConn(ctx, pubCtx context.Context, c net.Conn) {
	log := r.log.With("remote", c.RemoteAddr().String())
	if tc, ok := c.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = r.b.Reject(ingest.ReasonTLSHandshake, "TLS handshake with "+c.RemoteAddr().String()+" failed: "+err.Error())
			return
		}
	}
	src := &connReader{ctx: ctx, c: c, idle: r.cfg.IdleTimeout, msg: r.cfg.MessageTimeout}
	defer func() {
		if src.timedOut != "" {
			r.m.TimedOut(src.timedOut)
			log.Debug("syslog connection timed out", "timeout", src.timedOut)
		}
	}()
	f := newFramer(src, r.cfg.MaxMessageBytes)
	f.clock = src
	for {
		msg, err := f.next()
		var fe *frameError
		switch {
		case err == nil:
			if err := r.b.Add(pubCtx, msg, 0); err != nil && !isRecordError(err) {
				return
			}
		case errors.As(err, &fe):
			_ = r.b.Reject(fe.reason, fe.detail+" (from "+c.RemoteAddr().String()+")")
		case errors.Is(err, io.EOF), ctx.Err() != nil, src.timedOut != "":
			return
		default:
			log.Info("syslog connection closed", "err", err)
			return
		}
	}
}

func isRecordError(err error) bool {
	var re *ingest.RecordError
	return errors.As(err, &re)
}

// connReader sets each read's deadline: between messages, IdleTimeout
// after the framer began waiting for the next (separators alone do not
// keep a connection open); within a message, MessageTimeout after it began
// (and never more than IdleTimeout of silence). Its first error is final:
// a timeout ends the connection.
type connReader struct {
	ctx       context.Context
	c         net.Conn
	idle, msg time.Duration
	waiting   time.Time // since when the framer waits for a message
	begun     time.Time // the current message's start; zero between messages
	err       error
	timedOut  string // ingest.TimeoutIdle or TimeoutMessage, once one fired
}

func (r *connReader) await() { r.waiting, r.begun = time.Now(), time.Time{} }
func (r *connReader) begin() { r.begun = time.Now() }

func (r *connReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.ctx.Err() != nil {
		return 0, r.ctx.Err() // shutting down: do not undo the deadline that stops us
	}
	deadline, kind := r.waiting.Add(r.idle), ingest.TimeoutIdle
	if !r.begun.IsZero() {
		deadline = time.Now().Add(r.idle)
		if d := r.begun.Add(r.msg); d.Before(deadline) {
			deadline, kind = d, ingest.TimeoutMessage
		}
	}
	_ = r.c.SetReadDeadline(deadline)
	n, err := r.c.Read(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && r.ctx.Err() == nil {
			r.timedOut = kind
			err = fmt.Errorf("%s timeout: %w", kind, err)
		}
		r.err = err
	}
	return n, err
}
