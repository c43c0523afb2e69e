package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/ingest"
)

// serveStream accepts TCP or TLS connections, one goroutine each, until ctx
// ends; then it closes them and waits for their last messages.
func (r *Receiver) serveStream(ctx context.Context) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
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
		mu.Lock()
		if len(conns) >= r.cfg.MaxConnections {
			mu.Unlock()
			c.Close()
			_ = r.b.Reject(ingest.ReasonTooManyConns, fmt.Sprintf("connection from %s refused: %d connections open", c.RemoteAddr(), r.cfg.MaxConnections))
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		r.m.Conns.Inc()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
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
	var src io.Reader = c
	if r.cfg.IdleTimeout > 0 {
		src = &idleReader{ctx: ctx, c: c, d: r.cfg.IdleTimeout}
	}
	f := newFramer(src, r.cfg.MaxMessageBytes)
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
		case errors.Is(err, io.EOF), ctx.Err() != nil:
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

// idleReader closes a connection that stays silent IdleTimeout.
type idleReader struct {
	ctx context.Context
	c   net.Conn
	d   time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, r.ctx.Err() // shutting down: do not undo the deadline that stops us
	}
	_ = r.c.SetReadDeadline(time.Now().Add(r.d))
	return r.c.Read(p)
}
